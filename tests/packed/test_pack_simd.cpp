// mpq::simd quantize + pack and dequantize: bit-identical to the scalar functions for every width,
// signedness and layout, on odd shapes and on the values that break careless SIMD (ties, NaN, Inf,
// huge values, -0), for uniform, LSQ (runtime bits, divide) and power-of-two (non-uniform) quantizers.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/pack.hpp"
#include "mpq/packed/pack_simd.hpp"
#include "mpq/packed/strided_block.hpp"
#include "mpq/packed/ternary.hpp"
#include "mpq/quant/lsq.hpp"
#include "mpq/quant/pow2.hpp"
#include "mpq/quant/uniform.hpp"
#include "packed_test_util.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;

namespace {

/// Values around every level and tie of a quantizer with the given step, plus the special ones.
std::vector<float> hard_values(std::size_t n, float step, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> level(-300, 300);
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(n);
  for (auto& v : x) {
    const float l = static_cast<float>(level(rng));
    switch (kind(rng)) {
      case 0: v = (l + 0.5f) * step; break;  // a tie
      case 1: v = std::nextafter((l + 0.5f) * step, 1e30f); break;
      case 2: v = std::nextafter((l + 0.5f) * step, -1e30f); break;
      case 3: v = l * step; break;
      default: v = u(rng) * 300.0f * step; break;
    }
  }
  const float special[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(), 1e30f, -1e30f, -0.0f, 0.0f,
                           std::numeric_limits<float>::denorm_min()};
  for (std::size_t k = 0; k < std::size(special) && k * 7 < n; ++k) x[k * 7] = special[k];
  return x;
}

template <int Bits, mpq::signedness S, class L, class Q>
void same_as_scalar(const std::vector<Q>& qs, std::size_t rows, std::size_t cols, unsigned seed) {
  const auto x = hard_values(rows * cols, static_cast<float>(qs[0].step()), seed);
  auto a = mpq::packed_tensor<Bits, S, L>(rows, cols);
  auto b = mpq::packed_tensor<Bits, S, L>(rows, cols);
  const std::span<const Q> qspan(qs);
  REQUIRE(mpq::try_quantize_pack_into(qspan, x, a.span()).ok());
  REQUIRE(mpq::simd::try_quantize_pack_into(qspan, x, b.span()).ok());
  CAPTURE(Bits);
  CAPTURE(std::string(L::name));
  CAPTURE(cols);
  REQUIRE(a == b);
  for (std::size_t i = 0; i < rows; ++i) {
    REQUIRE(mpq::row_is_canonical<Bits, S, L>(b.view().row_span(i), b.padded_cols(), cols));
    for (std::size_t j = 0; j < cols; ++j) REQUIRE(b(i, j) == qs[qs.size() == 1 ? 0 : i].quantize(x[i * cols + j]));
  }
  std::vector<float> ya(x.size()), yb(x.size());
  REQUIRE(mpq::try_dequantize(a.view(), qspan, ya).ok());
  REQUIRE(mpq::simd::try_dequantize(b.view(), qspan, yb).ok());
  for (std::size_t k = 0; k < x.size(); ++k) REQUIRE(std::bit_cast<std::uint32_t>(ya[k]) == std::bit_cast<std::uint32_t>(yb[k]));
}

template <class L>
void sweep_uniform() {
  mpq_test::for_each_width<L>([]<int Bits, mpq::signedness S>() {
    constexpr std::int32_t lo = mpq::layout_code_min<L>(Bits, S), hi = mpq::layout_code_max<L>(Bits, S);
    for (std::size_t cols : {std::size_t{1}, std::size_t{7}, std::size_t{31}, std::size_t{33}, std::size_t{63},
                             std::size_t{65}, std::size_t{1000}, std::size_t{2100}}) {
      // per-channel quantizers with different steps and zero points, narrowed to the layout's range
      std::vector<mpq::uniform_quantizer<Bits, S>> qs;
      for (int i = 0; i < 3; ++i)
        qs.emplace_back(0.05f * static_cast<float>(i + 1), S == unsigned_codes ? (i * 3) % (hi + 1) : 0, lo, hi);
      same_as_scalar<Bits, S, L>(qs, 3, cols, static_cast<unsigned>(cols) + Bits);
      std::vector<mpq::uniform_quantizer<Bits, S, mpq::round_half_away>> away{
          mpq::uniform_quantizer<Bits, S, mpq::round_half_away>(0.25f, 0, lo, hi)};
      same_as_scalar<Bits, S, L>(away, 2, cols, static_cast<unsigned>(cols) * 3u + Bits);
    }
  });
}

}  // namespace

TEST_CASE("simd quantize_pack = scalar, interleaved (the fused AVX2 path for 1, 2, 4, 8 bits)") {
  sweep_uniform<mpq::interleaved>();
}
TEST_CASE("simd quantize_pack = scalar, bitplane") { sweep_uniform<mpq::bitplane>(); }
TEST_CASE("simd quantize_pack = scalar, strided_block and the ternary layouts") {
  sweep_uniform<mpq::strided_block<32>>();
  sweep_uniform<mpq::ternary2>();
  sweep_uniform<mpq::ternary_base3>();
  sweep_uniform<mpq_test::reversed128>();
}

TEST_CASE("any quantizer: LSQ (bits at run time, divides) and power-of-two (not uniform)") {
  const std::vector<mpq::lsq_quantizer<>> lsq{mpq::lsq_quantizer<>(4, signed_codes, 0.1f)};
  same_as_scalar<4, signed_codes, mpq::interleaved>(lsq, 2, 130, 1);
  same_as_scalar<4, signed_codes, mpq::bitplane>(lsq, 2, 130, 2);
  auto t = mpq::simd::quantize_pack<4, signed_codes>(lsq[0], std::vector<float>{0.31f, -5.0f}, 1, 2);
  CHECK(t(0, 0) == 3);
  CHECK(t(0, 1) == -8);
  CHECK(t.scales()[0] == 0.1f);

  const mpq::pow2_quantizer<mpq::pow2_p3> p2(0.125f, 2.0f);
  REQUIRE(p2.code_max() <= 7);
  REQUIRE(p2.code_min() >= -8);
  const std::vector<mpq::pow2_quantizer<mpq::pow2_p3>> pq{p2};
  same_as_scalar<4, signed_codes, mpq::interleaved>(pq, 3, 77, 3);
  // a non-uniform quantizer packs into spans and dequantizes through itself
  mpq::packed_tensor<4, signed_codes> s(1, 3);
  const std::vector<float> x{0.3f, -1.1f, 7.0f};
  REQUIRE(mpq::simd::try_quantize_pack_into(p2, x, s.span()).ok());
  std::vector<float> y(3);
  REQUIRE(mpq::try_dequantize(s.view(), p2, y).ok());
  for (std::size_t k = 0; k < 3; ++k) CHECK(y[k] == p2.fake_quantize(x[k]));
}

TEST_CASE("simd quantize_pack refuses what the scalar one refuses, and changes nothing") {
  auto t = mpq::pack<4, signed_codes>(std::vector<std::int8_t>(64, 5), 1, 64);
  const auto before = t;
  const std::vector<float> x(64, 1.0f);
  CHECK(mpq::simd::try_quantize_pack_into(mpq::uniform_quantizer<5>(0.1f), x, t.span()).code() ==
        mpq::errc::invalid_argument);
  CHECK(mpq::simd::try_quantize_pack_into(mpq::uniform_quantizer<4>(0.1f), std::vector<float>(63), t.span()).code() ==
        mpq::errc::shape_mismatch);
  CHECK(t == before);
}
