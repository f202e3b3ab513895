// Round trips codes -> packed -> codes for every width, signedness, layout and odd shape; the bulk
// row codecs against the layouts' scalar store/load; checked errors of the pack/unpack entry points.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/pack.hpp"
#include "mpq/packed/strided_block.hpp"
#include "mpq/packed/ternary.hpp"
#include "packed_test_util.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;
using mpq_test::random_codes;

namespace {

// The reference packing: a zeroed row, then the layout's scalar store for each code.
template <int Bits, class L>
std::vector<std::uint8_t> reference_row(const std::vector<std::int32_t>& codes, std::size_t padded) {
  std::vector<std::uint8_t> row(L::row_bytes(Bits, padded), 0);
  for (std::size_t j = 0; j < codes.size(); ++j) L::store(row, Bits, padded, j, mpq::code_to_field(codes[j], Bits));
  return row;
}

template <int Bits, mpq::signedness S, class L, class Int>
void round_trip_with(std::size_t rows, std::size_t cols, unsigned seed) {
  constexpr std::int32_t lo = mpq::layout_code_min<L>(Bits, S), hi = mpq::layout_code_max<L>(Bits, S);
  const auto codes32 = random_codes(rows * cols, lo, hi, seed);
  const std::vector<Int> codes(codes32.begin(), codes32.end());
  auto t = mpq::pack<Bits, S, L>(codes, rows, cols);
  CAPTURE(Bits);
  CAPTURE(std::string(mpq::to_string(S)));
  CAPTURE(std::string(L::name));
  CAPTURE(rows);
  CAPTURE(cols);
  REQUIRE(t.rows() == rows);
  REQUIRE(t.cols() == cols);
  REQUIRE(t.padded_cols() % L::col_block(Bits) == 0);
  REQUIRE(t.row_stride() == L::row_bytes(Bits, t.padded_cols()));
  REQUIRE(reinterpret_cast<std::uintptr_t>(t.data()) % mpq::packed_alignment == 0);

  // bytes equal the scalar reference, row by row (so padding is zero codes too)
  for (std::size_t i = 0; i < rows; ++i) {
    const std::vector<std::int32_t> row_codes(codes32.begin() + static_cast<std::ptrdiff_t>(i * cols),
                                              codes32.begin() + static_cast<std::ptrdiff_t>((i + 1) * cols));
    const auto ref = reference_row<Bits, L>(row_codes, t.padded_cols());
    const auto got = t.row(i).row_span(0);
    REQUIRE(std::vector<std::uint8_t>(got.begin(), got.end()) == ref);
    REQUIRE(mpq::row_is_canonical<Bits, S, L>(got, t.padded_cols(), cols));
  }
  // bulk unpack and scalar element access agree with the input
  std::vector<Int> back(rows * cols, Int(99));
  mpq::unpack(t, back);
  REQUIRE(back == codes);
  std::size_t n = 0;
  for (std::int32_t c : std::as_const(t)) REQUIRE(c == codes32[n++]);
  REQUIRE(n == rows * cols);
}

template <class L>
void round_trip_all(unsigned seed) {
  mpq_test::for_each_width<L>([&]<int Bits, mpq::signedness S>() {
    for (std::size_t cols : mpq_test::odd_cols) {
      // One element type per width (rotating through int8/uint8/int16/int32 keeps the build small);
      // across the widths every type meets every layout.
      using Int = std::conditional_t<
          Bits % 3 == 0, std::int32_t,
          std::conditional_t<Bits % 3 == 1, std::int16_t,
                             std::conditional_t<S == unsigned_codes, std::uint8_t, std::int8_t>>>;
      for (std::size_t rows : {std::size_t{1}, std::size_t{3}}) round_trip_with<Bits, S, L, Int>(rows, cols, seed++);
    }
  });
}

}  // namespace

TEST_CASE_TEMPLATE("pack/unpack round trip: every width, signedness and odd shape, bytes = scalar reference", L,
                   mpq::interleaved, mpq::bitplane, mpq::strided_block<16>, mpq::strided_block<32>,
                   mpq::strided_block<64>, mpq::ternary2, mpq::ternary_base3, mpq_test::reversed128) {
  round_trip_all<L>(1234);
}

TEST_CASE_TEMPLATE("bulk pack_cols/unpack_cols at block offsets match scalar store/load", L, mpq::interleaved,
                   mpq::bitplane, mpq::strided_block<32>, mpq::ternary_base3) {
  mpq_test::for_each_width<L>([&]<int Bits, mpq::signedness S>() {
    constexpr std::int32_t lo = mpq::layout_code_min<L>(Bits, S), hi = mpq::layout_code_max<L>(Bits, S);
    const std::size_t block = L::col_block(Bits);
    const std::size_t padded = 4 * block;
    // start with a row of random bytes that are valid codes, then overwrite the middle blocks
    const auto before = random_codes(padded, lo, hi, 99u + Bits);
    const auto mid = random_codes(block + 13, lo, hi, 7u + Bits);  // a block and a partial one
    std::vector<std::uint8_t> row = reference_row<Bits, L>(before, padded);
    mpq::pack_cols<Bits, L>(row, padded, block, std::span<const std::int32_t>(mid));
    std::vector<std::int32_t> expect = before;
    for (std::size_t k = 0; k < 2 * block; ++k) expect[block + k] = k < mid.size() ? mid[k] : 0;
    CAPTURE(Bits);
    REQUIRE(row == reference_row<Bits, L>(expect, padded));
    std::vector<std::int32_t> got(2 * block + 5);
    mpq::unpack_cols<Bits, S, L>(row, padded, block, std::span<std::int32_t>(got));
    for (std::size_t k = 0; k < got.size(); ++k) REQUIRE(got[k] == expect[block + k]);
  });
}

TEST_CASE("pack: checked errors name the value and the rule, and change nothing") {
  const std::vector<std::int8_t> codes = {0, 1, 2, 3, 4, 5};
  auto bad = mpq::try_pack<3, signed_codes>(codes, 2, 3);  // 4 and 5 do not fit 3-bit signed [-4, 3]
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == mpq::errc::out_of_range);
  CHECK(std::string(bad.error().message()) ==
        "codes[4] = 4: 3-bit signed codes in layout interleaved must lie in [-4, 3]");

  auto shape = mpq::try_pack<4, signed_codes>(codes, 4, 2);
  REQUIRE_FALSE(shape);
  CHECK(shape.error().code() == mpq::errc::shape_mismatch);
  CHECK(std::string(shape.error().message()).find("6 values given for a 4 x 2") != std::string::npos);

  // into an existing span: a bad code leaves it untouched
  auto t = mpq::pack<4, signed_codes>(std::vector<std::int8_t>{1, 2, 3, -1, -2, -3}, 2, 3);
  const auto before = t;
  const std::vector<std::int32_t> with_bad = {1, 1, 1, 1, 1, 8};
  CHECK(mpq::try_pack_into(with_bad, t.span()).code() == mpq::errc::out_of_range);
  CHECK(t == before);

  std::vector<std::int32_t> out(5);
  CHECK(mpq::try_unpack(t, out).code() == mpq::errc::shape_mismatch);
  CHECK_THROWS_AS(mpq::unpack(t, out), mpq::error);

  // ternary layouts refuse -2 although the 2-bit field could hold it
  auto tern = mpq::try_pack<2, signed_codes, mpq::ternary_base3>(std::vector<std::int8_t>{1, -2}, 1, 2);
  REQUIRE_FALSE(tern);
  CHECK(std::string(tern.error().message()) ==
        "codes[1] = -2: 2-bit signed codes in layout ternary_base3 must lie in [-1, 1]");
}

TEST_CASE("rank-1 tensors and empty shapes") {
  const std::vector<std::int16_t> v = {-8, 7, 0, 3, -1};
  auto t = mpq::pack<4>(v);
  CHECK(t.rank() == 1);
  CHECK(t.rows() == 1);
  CHECK(t.size() == 5);
  for (std::size_t k = 0; k < v.size(); ++k) CHECK(t[k] == v[k]);

  auto e = mpq::pack<3, unsigned_codes>(std::vector<std::int32_t>{});
  CHECK(e.size() == 0);
  CHECK(e.payload_bytes() == 0);
  CHECK(e.begin() == e.end());
  auto z = mpq::pack<3, unsigned_codes>(std::vector<std::int32_t>{}, 0, 9);
  CHECK(z.rows() == 0);
  CHECK(z.scales().empty());
  std::vector<std::int32_t> none;
  CHECK(mpq::try_unpack(z, none).ok());
}
