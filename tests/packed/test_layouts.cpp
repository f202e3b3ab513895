// Tests for the interleaved and bit-plane layouts: the documented worked examples and round trips.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "mpq/core/bits.hpp"
#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/byte_order.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/view.hpp"

namespace {
template <class L>
constexpr std::array<std::uint8_t, 64> pack_codes(int bits, std::initializer_list<std::uint32_t> codes) {
  std::array<std::uint8_t, 64> row{};
  std::size_t j = 0;
  for (auto c : codes) L::store(row, bits, 64, j++, c);
  return row;
}
}  // namespace

// The worked examples in the layouts' comments, checked at compile time.
static_assert([] {
  auto row = pack_codes<mpq::interleaved>(3, {1, 2, 3, 4, 5, 6, 7, 0});
  return row[0] == 0xD1 && row[1] == 0x58 && row[2] == 0x1F && row[3] == 0;
}());
static_assert([] {
  auto row = pack_codes<mpq::bitplane>(2, {1, 2, 3});
  return row[0] == 0b101 && row[8] == 0b110 && row[1] == 0 && row[9] == 0;
}());

// The word-at-a-time helpers of the interleaved bulk paths on the same example: bytes 1..7, 0 are
// eight 3-bit fields, D1 58 1F as a bit string; a 3-bit field 4 (100) is the code -4 (int8 0xFC).
static_assert(mpq::detail::compress8<3>(0x0007060504030201ull) == 0x1F58D1u);
static_assert(mpq::detail::expand8<3>(0x1F58D1u) == 0x0007060504030201ull);
static_assert(mpq::detail::sign_extend_bytes<3>(0x0304u) == 0x03FCu);
static_assert(mpq::detail::compress8<8>(0x0123456789ABCDEFull) == 0x0123456789ABCDEFull);

TEST_CASE_TEMPLATE("layout store/load round trip for every width and odd column counts", L, mpq::interleaved,
                   mpq::bitplane) {
  std::mt19937 rng(7);
  for (int bits = 1; bits <= 8; ++bits) {
    for (std::size_t cols : {1u, 7u, 63u, 64u, 65u, 1000u}) {
      const std::size_t padded = mpq::round_up(cols, L::col_block(bits));
      CHECK(padded % 64 == 0);
      std::vector<std::uint8_t> row(L::row_bytes(bits, padded), 0);
      CHECK(row.size() % 8 == 0);  // whole 64-bit words
      std::vector<std::uint32_t> fields(cols);
      for (auto& f : fields) f = rng() & ((1u << bits) - 1u);
      fields[0] = (1u << bits) - 1u;  // extreme code
      for (std::size_t j = 0; j < cols; ++j) L::store(row, bits, padded, j, fields[j]);
      // overwrite in a different order: stores must not disturb neighbours
      for (std::size_t j = cols; j-- > 0;) L::store(row, bits, padded, j, fields[j]);
      for (std::size_t j = 0; j < cols; ++j) {
        CAPTURE(bits);
        CAPTURE(j);
        REQUIRE(L::load(row, bits, padded, j) == fields[j]);
      }
      for (std::size_t j = cols; j < padded; ++j) REQUIRE(L::load(row, bits, padded, j) == 0);  // padding
    }
  }
}

TEST_CASE("packed_span set/get sign-extends signed codes") {
  constexpr int B = 5;
  using span_t = mpq::packed_span<B, mpq::signed_codes, mpq::interleaved>;
  const std::size_t rows = 3, cols = 70;
  const std::size_t stride = span_t::bytes_per_row(cols);
  std::vector<std::uint8_t> buf(rows * stride, 0);
  span_t v{buf.data(), rows, cols, span_t::pad_cols(cols), stride};
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) v.set(i, j, static_cast<std::int32_t>((i * 7 + j) % 32) - 16);
  mpq::packed_view<B, mpq::signed_codes, mpq::interleaved> ro = v;
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) CHECK(ro.get(i, j) == static_cast<std::int32_t>((i * 7 + j) % 32) - 16);
}
