// Tests for the SIMD span loops (bit-identical to the scalar loops, including ties, NaN, Inf and
// tails shorter than a register) and the xtensor entry points (shapes, lazy and strided
// expressions, per-channel on any axis, backward).
#include <doctest/doctest.h>

#include <array>
#include <bit>
#include <cstdint>
#include <random>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xrandom.hpp>

#include "mpq/quant/edmips.hpp"
#include "mpq/quant/lsq.hpp"
#include "mpq/quant/pow2.hpp"
#include "mpq/quant/quantize_xtensor.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/quant/span_simd.hpp"
#include "mpq/quant/step_range.hpp"
#include "mpq/quant/uniform.hpp"
#include "quant_test_util.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;

namespace {
// Random values, exact ties of the quantizer's grid, specials; length not a multiple of any width.
template <class Q>
std::vector<float> hard_inputs(const Q& q, unsigned seed) {
  std::mt19937 rng(seed);
  const float span = 1.5f * (q.max_value() - q.min_value()) + 1.0f;
  std::uniform_real_distribution<float> u(-span, span);
  std::vector<float> x;
  for (int i = 0; i < 3000; ++i) x.push_back(u(rng));
  for (int c = q.code_min() - 2; c <= q.code_max() + 2 && x.size() < 9000; ++c) {
    x.push_back((static_cast<float>(c) + 0.5f) * q.step());
    x.push_back((static_cast<float>(c) - 0.5f) * q.step());
    x.push_back(static_cast<float>(c) * q.step());
  }
  for (float v : {quant_test::nan_f, quant_test::inf_f, -quant_test::inf_f, 0.0f, -0.0f, 3e38f, -3e38f}) x.push_back(v);
  x.push_back(1.0f);  // odd length
  return x;
}

template <class C, class Q>
void check_simd_equals_scalar(const Q& q, unsigned seed) {
  const auto x = hard_inputs(q, seed);
  for (std::size_t len : {x.size(), std::size_t{1}, std::size_t{15}, std::size_t{17}, std::size_t{0}}) {
    const std::span<const float> in(x.data(), len);
    std::vector<C> c_simd(len), c_ref(len);
    std::vector<float> y_simd(len), y_ref(len), d_simd(len), d_ref(len);
    REQUIRE(mpq::simd::try_quantize(q, in, std::span<C>(c_simd)).ok());
    REQUIRE(mpq::try_quantize(q, in, std::span<C>(c_ref)).ok());
    REQUIRE(mpq::simd::try_fake_quantize(q, in, std::span<float>(y_simd)).ok());
    REQUIRE(mpq::try_fake_quantize(q, in, std::span<float>(y_ref)).ok());
    REQUIRE(mpq::simd::try_dequantize(q, std::span<const C>(c_ref), std::span<float>(d_simd)).ok());
    REQUIRE(mpq::try_dequantize(q, std::span<const C>(c_ref), std::span<float>(d_ref)).ok());
    CHECK(c_simd == c_ref);
    for (std::size_t i = 0; i < len; ++i) {
      CAPTURE(x[i]);
      CHECK(std::bit_cast<std::uint32_t>(y_simd[i]) == std::bit_cast<std::uint32_t>(y_ref[i]));
      CHECK(std::bit_cast<std::uint32_t>(d_simd[i]) == std::bit_cast<std::uint32_t>(d_ref[i]));
    }
  }
}
}  // namespace

TEST_CASE("simd span loops are bit-identical to the scalar loops, every affine family, both tie rules") {
  check_simd_equals_scalar<std::int8_t>(mpq::uniform_quantizer<8, signed_codes>(0.0173f), 1);
  check_simd_equals_scalar<std::uint8_t>(mpq::uniform_quantizer<8, unsigned_codes, mpq::round_half_away>(0.02f, 77), 2);
  check_simd_equals_scalar<std::int8_t>(mpq::uniform_quantizer<4, signed_codes>(0.25f, 0, -7, 7), 3);
  check_simd_equals_scalar<std::int16_t>(mpq::uniform_quantizer<16, signed_codes>(0.001f), 4);
  check_simd_equals_scalar<std::int8_t>(mpq::u3_quantizer(0.03f, 1.2f), 5);
  check_simd_equals_scalar<std::int16_t>(mpq::step_range_quantizer<mpq::uhlich_u2, mpq::round_half_even>(6.0f, 2.0f), 6);
  check_simd_equals_scalar<std::int8_t>(mpq::lsq_quantizer<>(4, signed_codes, 0.1f), 7);
  check_simd_equals_scalar<std::uint8_t>(mpq::lsq_quantizer<mpq::round_half_away>(8, unsigned_codes, 0.013f), 8);
  check_simd_equals_scalar<std::int32_t>(mpq::lsq_quantizer<>(16, signed_codes, 0.0007f), 9);
  check_simd_equals_scalar<std::int8_t>(mpq::gaussian_quantizer<>(2, 0.7f), 10);
  check_simd_equals_scalar<std::int8_t>(mpq::gaussian_quantizer<mpq::round_half_away>(3, 1.1f), 11);
  check_simd_equals_scalar<std::uint8_t>(mpq::hwgq_quantizer<>(4), 12);
  check_simd_equals_scalar<std::int8_t>(mpq::p3_quantizer(0.01f, 2.0f), 13);  // scalar fallback
}

TEST_CASE("simd span loops check sizes and code types like the scalar ones") {
  const mpq::lsq_quantizer<> q(8, unsigned_codes, 0.1f);
  std::vector<float> x(40, 1.0f);
  std::vector<std::int8_t> c(40, 3);
  CHECK(mpq::simd::try_quantize(q, std::span<const float>(x), std::span<std::int8_t>(c)).code() == mpq::errc::invalid_argument);
  CHECK(c == std::vector<std::int8_t>(40, 3));
  std::vector<float> y(39);
  CHECK_THROWS_AS(mpq::simd::fake_quantize(q, x, y), mpq::error);
}

TEST_CASE("xtensor: quantize, fake_quantize and dequantize keep the shape and agree with the scalar API") {
  xt::random::seed(5);
  const xt::xarray<float> w = xt::random::randn<float>({3, 4, 5});
  const mpq::u3_quantizer q(0.0625f, 2.0f);
  const auto y = mpq::fake_quantize(q, w);
  const auto c = mpq::quantize<std::int8_t>(q, w);
  const auto d = mpq::dequantize(q, c);
  REQUIRE(y.shape() == w.shape());
  REQUIRE(c.shape() == w.shape());
  for (std::size_t i = 0; i < w.size(); ++i) {
    CHECK(y.flat(i) == q.fake_quantize(w.flat(i)));
    CHECK(c.flat(i) == q.quantize(w.flat(i)));
    CHECK(d.flat(i) == y.flat(i));
  }
  // a lazy, strided expression is evaluated first (here the transpose of 2·w)
  const auto t = mpq::fake_quantize(q, xt::transpose(2.0f * w));
  const xt::xarray<float> tw = xt::transpose(2.0f * w);
  REQUIRE(t.shape() == tw.shape());
  for (std::size_t i = 0; i < tw.size(); ++i) CHECK(t.flat(i) == q.fake_quantize(tw.flat(i)));
  CHECK_THROWS_AS(mpq::quantize<std::int8_t>(mpq::u3_quantizer(0.00390625f, 2.0f), w), mpq::error);
}

TEST_CASE("xtensor: per-channel on every axis and backward") {
  xt::random::seed(6);
  const xt::xarray<float> w = xt::random::randn<float>({2, 3, 4});
  for (std::size_t axis = 0; axis < 3; ++axis) {
    std::vector<mpq::lsq_quantizer<>> qs;
    for (std::size_t ch = 0; ch < w.shape()[axis]; ++ch) qs.emplace_back(3, signed_codes, 0.1f + 0.1f * ch);
    const auto y = mpq::fake_quantize(qs, w, mpq::per_channel{axis});
    const auto c = mpq::quantize<std::int8_t>(qs, w, mpq::per_channel{axis});
    const auto d = mpq::dequantize(qs, c, mpq::per_channel{axis});
    std::vector<float> gp(qs.size(), 0.0f);
    const auto gx = mpq::backward(qs, w, xt::ones_like(w), mpq::per_channel{axis}, gp);
    const std::array<std::size_t, 3> shape{2, 3, 4};
    const mpq::channel_layout layout(shape, mpq::per_channel{axis});
    for (std::size_t i = 0; i < w.size(); ++i) {
      const auto& qc = qs[layout.channel_of(i)];
      CHECK(y.flat(i) == qc.fake_quantize(w.flat(i)));
      CHECK(c.flat(i) == qc.quantize(w.flat(i)));
      CHECK(d.flat(i) == y.flat(i));
      CHECK(gx.flat(i) == qc.gradient(w.flat(i)).dx);
    }
    CHECK_THROWS_AS(mpq::fake_quantize(qs, w, mpq::per_channel{3}), mpq::error);
  }
  const mpq::u3_quantizer q(0.125f, 1.0f);
  std::array<float, 2> gp{};
  const auto gx = mpq::backward(q, w, 2.0f * xt::ones_like(w), gp);
  std::array<float, 2> ref{};
  std::vector<float> xs(w.begin(), w.end()), gs(w.size(), 2.0f), gref(w.size());
  q.backward(xs, gs, gref, ref);
  CHECK(gp == ref);
  for (std::size_t i = 0; i < w.size(); ++i) CHECK(gx.flat(i) == gref[i]);
  const xt::xarray<float> other = xt::zeros<float>({4, 3, 2});
  CHECK_THROWS_AS(mpq::backward(q, w, other, gp), mpq::error);
}
