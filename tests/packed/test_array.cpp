// packed_matrix / packed_array: packing in constant evaluation (checked with static_assert), the
// documented worked examples, and agreement with packed_tensor's bytes for every layout.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "mpq/packed/array.hpp"
#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/pack.hpp"
#include "mpq/packed/strided_block.hpp"
#include "mpq/packed/ternary.hpp"
#include "mpq/quant/uniform.hpp"
#include "packed_test_util.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;

// ---- the worked examples of docs/packed_layouts.md, packed at compile time ----
// interleaved, B = 3: codes 1..7, 0 -> bytes 0xD1 0x58 0x1F
constexpr auto ex_interleaved = mpq::packed_array<3, unsigned_codes, 8>::from_codes({1, 2, 3, 4, 5, 6, 7, 0});
static_assert(ex_interleaved.bytes[0] == 0xD1 && ex_interleaved.bytes[1] == 0x58 && ex_interleaved.bytes[2] == 0x1F);
static_assert(ex_interleaved.padded_cols == 64 && ex_interleaved.bytes.size() == 24 && ex_interleaved.bytes[3] == 0);
// bitplane, B = 2: codes 1, 2, 3 -> plane 0 byte 0 = 0b101, plane 1 byte 0 (byte 8) = 0b110
constexpr auto ex_bitplane = mpq::packed_array<2, unsigned_codes, 3, mpq::bitplane>::from_codes({1, 2, 3});
static_assert(ex_bitplane.bytes[0] == 0b101 && ex_bitplane.bytes[8] == 0b110 && ex_bitplane.bytes.size() == 16);
// ternary_base3: +1 -1 0 0 +1 | -1 -1 -> 88, 8
constexpr auto ex_base3 = mpq::packed_array<2, signed_codes, 7, mpq::ternary_base3>::from_codes({1, -1, 0, 0, 1, -1, -1});
static_assert(ex_base3.bytes[0] == 88 && ex_base3.bytes[1] == 8 && ex_base3.bytes[2] == 0);
static_assert(ex_base3.bytes.size() == 64 && ex_base3[1] == -1 && ex_base3[4] == 1 && ex_base3[6] == -1);
// ternary2: -1 = 0b11, 0 = 0b00, +1 = 0b01, LSB first: {1, -1, 0, 1} -> 0b01'00'11'01 = 0x4D
constexpr auto ex_tern2 = mpq::packed_array<2, signed_codes, 4, mpq::ternary2>::from_codes({1, -1, 0, 1});
static_assert(ex_tern2.bytes[0] == 0x4D);
// strided_block<16>, B = 4: codes 0..15, 0..15 -> bytes 0x00, 0x11, ..., 0xFF
constexpr auto ex_strided = [] {
  std::array<std::int32_t, 32> c{};
  for (int k = 0; k < 32; ++k) c[static_cast<std::size_t>(k)] = k % 16;
  return mpq::packed_array<4, unsigned_codes, 32, mpq::strided_block<16>>::from_codes(c);
}();
static_assert(ex_strided.bytes[0] == 0x00 && ex_strided.bytes[1] == 0x11 && ex_strided.bytes[15] == 0xFF);
static_assert(ex_strided.bytes.size() == 16);

// ---- a quantized 2 x 3 weight matrix in flash: quantize + pack at compile time ----
constexpr mpq::uniform_quantizer<4, signed_codes> q4(0.25f);
constexpr auto w = mpq::packed_matrix<4, signed_codes, 2, 3>::quantize(q4, {0.3f, -2.5f, 1.9f, 0.0f, -0.1f, 0.625f});
static_assert(w(0, 0) == 1 && w(0, 1) == -8 && w(0, 2) == 7);  // 1.2 -> 1, clamp -10 -> -8, 7.6 -> 7
static_assert(w(1, 0) == 0 && w(1, 1) == 0 && w(1, 2) == 2);   // -0.4 -> 0, 2.5 -> 2 (half to even)
static_assert(w.scales[0] == 0.25f && w.zero_points[1] == 0.0f && w.value(0, 2) == 1.75f);
static_assert(w.view().get(1, 2) == 2 && w.view().rows == 2 && w.view().row_stride == 32);
// per-channel: one quantizer per row, unsigned codes with a zero point
constexpr std::array<mpq::uniform_quantizer<3, unsigned_codes>, 2> per_row = {
    mpq::uniform_quantizer<3, unsigned_codes>(0.5f, 4), mpq::uniform_quantizer<3, unsigned_codes>(1.0f, 0)};
constexpr auto wc = mpq::packed_matrix<3, unsigned_codes, 2, 2>::quantize(per_row, {-2.0f, 1.0f, 3.0f, 9.0f});
static_assert(wc(0, 0) == 0 && wc(0, 1) == 6 && wc(1, 0) == 3 && wc(1, 1) == 7);
static_assert(wc.zero_points[0] == 4.0f && wc.scales[0] == 0.5f && wc.value(0, 1) == 1.0f);

// adopting exported bytes round-trips at compile time
constexpr auto adopted = mpq::packed_array<3, unsigned_codes, 8>::from_bytes(ex_interleaved.bytes);
static_assert(adopted == ex_interleaved);

// no heap, no exceptions needed: a trivially copyable value, 64-byte aligned like packed_tensor
static_assert(std::is_trivially_copyable_v<mpq::packed_array<4, signed_codes, 100>>);
static_assert(alignof(mpq::packed_array<4, signed_codes, 100>) == mpq::packed_alignment);

TEST_CASE_TEMPLATE("packed_matrix holds the same bytes as packed_tensor for every layout", L, mpq::interleaved,
                   mpq::bitplane, mpq::strided_block<32>, mpq::ternary_base3, mpq_test::reversed128) {
  mpq_test::for_each_width<L>([]<int Bits, mpq::signedness S>() {
    constexpr std::size_t R = 3, C = 65;
    using M = mpq::packed_matrix<Bits, S, R, C, L>;
    const auto codes = mpq_test::random_codes(R * C, M::code_min, M::code_max, 5u + Bits);
    std::array<std::int32_t, R * C> arr{};
    for (std::size_t k = 0; k < arr.size(); ++k) arr[k] = codes[k];
    const M m = M::from_codes(arr);
    const auto t = mpq::pack<Bits, S, L>(codes, R, C);
    CAPTURE(Bits);
    REQUIRE(m.row_stride == t.row_stride());
    REQUIRE(m.padded_cols == t.padded_cols());
    REQUIRE(std::vector<std::uint8_t>(m.bytes.begin(), m.bytes.end()) ==
            std::vector<std::uint8_t>(t.payload().begin(), t.payload().end()));
    const typename M::view_type v = m;
    for (std::size_t i = 0; i < R; ++i)
      for (std::size_t j = 0; j < C; ++j) REQUIRE(v.get(i, j) == codes[i * C + j]);
  });
}

TEST_CASE("packed_matrix at run time: bad codes and non-canonical bytes are refused") {
  using A = mpq::packed_array<2, signed_codes, 6, mpq::ternary_base3>;
  try {
    (void)A::from_codes({0, 1, -1, 0, -2, 1});
    FAIL("expected mpq::error");
  } catch (const mpq::error& e) {
    CHECK(e.code() == mpq::errc::out_of_range);
    CHECK(std::string(e.what()) ==
          "packed_matrix::from_codes: codes[4] = -2: 2-bit signed codes in layout ternary_base3 must lie in [-1, 1]");
  }
  std::array<std::uint8_t, A::byte_size> bytes{};
  bytes[0] = 250;  // not a base-3 byte
  CHECK_THROWS_AS((A::from_bytes(bytes)), mpq::error);
  bytes[0] = 0;
  bytes[1] = 3;  // code 6 = digit 1 of byte 1 -> +1, but the array has only 6 codes: padding not zero
  CHECK_THROWS_AS((A::from_bytes(bytes)), mpq::error);
  bytes[1] = 1;  // code 5 = +1: fine
  CHECK(A::from_bytes(bytes)[5] == 1);

  const mpq::uniform_quantizer<8, signed_codes> q8(1.0f);
  const std::array<float, 6> x{};
  CHECK_THROWS_AS((mpq::packed_array<4, signed_codes, 6>::quantize(q8, x)), mpq::error);
}
