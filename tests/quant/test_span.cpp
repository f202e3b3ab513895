// Tests for the span entry points (quantize / fake-quantize / dequantize / backward), per-channel
// granularity on every axis, and calibration (moments, min/max, percentiles, MSE-optimal step).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "mpq/quant/calibration.hpp"
#include "mpq/quant/edmips.hpp"
#include "mpq/quant/lsq.hpp"
#include "mpq/quant/per_channel.hpp"
#include "mpq/quant/pow2.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/quant/step_range.hpp"
#include "mpq/quant/uniform.hpp"
#include "quant_test_util.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;

namespace {
std::vector<float> normal_data(std::size_t n, unsigned seed, float sd = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

template <class Q, class C>
void check_span_matches_scalar(const Q& q) {
  auto x = normal_data(777, 41, 2.0f);
  x[5] = quant_test::nan_f;
  x[6] = quant_test::inf_f;
  std::vector<C> codes(x.size());
  std::vector<float> y(x.size()), back(x.size());
  REQUIRE(mpq::try_quantize(q, std::span<const float>(x), std::span<C>(codes)).ok());
  REQUIRE(mpq::try_fake_quantize(q, x, y).ok());
  REQUIRE(mpq::try_dequantize(q, std::span<const C>(codes), std::span<float>(back)).ok());
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(codes[i] == q.quantize(x[i]));
    CHECK(y[i] == q.fake_quantize(x[i]));
    CHECK(back[i] == y[i]);
  }
  std::vector<float> inplace = x;
  mpq::fake_quantize(q, inplace, inplace);
  CHECK(inplace == y);
}
}  // namespace

TEST_CASE("span entry points equal the scalar ones for every family and code type") {
  check_span_matches_scalar<mpq::uniform_quantizer<4>, std::int8_t>(mpq::uniform_quantizer<4>(0.25f));
  check_span_matches_scalar<mpq::uniform_quantizer<8, unsigned_codes>, std::uint8_t>(
      mpq::uniform_quantizer<8, unsigned_codes>(0.03f, 128));
  check_span_matches_scalar<mpq::u3_quantizer, std::int16_t>(mpq::u3_quantizer(0.01f, 3.0f));
  check_span_matches_scalar<mpq::p3_quantizer, std::int8_t>(mpq::p3_quantizer(0.01f, 2.0f));
  check_span_matches_scalar<mpq::lsq_quantizer<>, std::int32_t>(mpq::lsq_quantizer<>(6, signed_codes, 0.1f));
  check_span_matches_scalar<mpq::gaussian_quantizer<>, std::int8_t>(mpq::gaussian_quantizer<>(3, 1.5f));
  check_span_matches_scalar<mpq::hwgq_quantizer<>, std::uint16_t>(mpq::hwgq_quantizer<>(4));
}

TEST_CASE("span entry points reject bad sizes and code types and change nothing") {
  const mpq::u3_quantizer q(0.01f, 3.0f);  // d_eff = 2^-7: codes -384..384 (10 bits)
  std::vector<float> x(8, 1.0f), y(7, -5.0f);
  std::vector<std::int8_t> c8(8, 42);
  std::vector<std::int16_t> c16(7, 42);
  auto st = mpq::try_fake_quantize(q, x, y);
  CHECK(st.code() == mpq::errc::shape_mismatch);
  CHECK(quant_test::str(st.message()) == "fake_quantize: x has 8 elements and y has 7: the sizes must match");
  CHECK(std::all_of(y.begin(), y.end(), [](float v) { return v == -5.0f; }));
  st = mpq::try_quantize(q, std::span<const float>(x), std::span<std::int8_t>(c8));
  CHECK(st.code() == mpq::errc::invalid_argument);
  CHECK(quant_test::str(st.message()) == "quantize: the codes of this 10-bit quantizer span [-384, 384], which does not fit int8_t");
  CHECK(std::all_of(c8.begin(), c8.end(), [](std::int8_t v) { return v == 42; }));
  CHECK(mpq::try_quantize(q, std::span<const float>(x), std::span<std::int16_t>(c16)).code() == mpq::errc::shape_mismatch);
  CHECK_THROWS_AS(mpq::dequantize(q, std::span<const std::int16_t>(c16), std::span<float>(x)), mpq::error);
}

TEST_CASE("backward: grad_x optional or aliased, parameter gradients accumulate, sizes checked") {
  const auto x = normal_data(300, 43);
  const auto go = normal_data(300, 44);
  const mpq::u3_quantizer q(0.125f, 1.0f);
  std::vector<float> gx(300);
  std::array<float, 2> gp{};
  q.backward(x, go, gx, gp);
  std::array<double, 2> want{};
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto g = q.gradient(x[i]);
    CHECK(gx[i] == go[i] * g.dx);
    want[0] += static_cast<double>(go[i]) * g.dparams[0];
    want[1] += static_cast<double>(go[i]) * g.dparams[1];
  }
  CHECK(gp[0] == static_cast<float>(want[0]));
  CHECK(gp[1] == static_cast<float>(want[1]));
  // again, without grad_x and with grad_x aliasing grad_out: sums double, grad_x as before
  q.backward(x, go, std::span<float>{}, gp);
  CHECK(gp[0] == doctest::Approx(2 * want[0]));
  std::vector<float> alias = go;
  std::array<float, 2> gp2{};
  q.backward(x, alias, alias, gp2);
  CHECK(alias == gx);
  // mismatched sizes: nothing written
  std::array<float, 2> untouched{7.0f, 7.0f};
  std::vector<float> short_g(299);
  CHECK(q.try_backward(x, short_g, std::span<float>{}, untouched).code() == mpq::errc::shape_mismatch);
  std::array<float, 3> too_many{};
  CHECK(q.try_backward(x, go, gx, too_many).code() == mpq::errc::shape_mismatch);
  CHECK(untouched == std::array<float, 2>{7.0f, 7.0f});
}

TEST_CASE("per_channel: every axis of a rank-3 tensor matches per-element quantizer choice") {
  const std::array<std::size_t, 3> shape{3, 4, 5};
  const auto x = normal_data(60, 45);
  const auto go = normal_data(60, 46);
  for (std::size_t axis = 0; axis < 3; ++axis) {
    const mpq::channel_layout layout(shape, mpq::per_channel{axis});
    CHECK(layout.channels() == shape[axis]);
    std::vector<mpq::lsq_quantizer<>> qs;
    for (std::size_t c = 0; c < shape[axis]; ++c) qs.emplace_back(4, signed_codes, 0.05f * static_cast<float>(c + 1));
    std::vector<std::int8_t> codes(60);
    std::vector<float> y(60), back(60), gx(60);
    std::vector<float> gp(shape[axis], 0.0f);
    mpq::quantize_per_channel(qs, layout, x, std::span<std::int8_t>(codes));
    mpq::fake_quantize_per_channel(qs, layout, x, y);
    mpq::dequantize_per_channel(qs, layout, std::span<const std::int8_t>(codes), std::span<float>(back));
    mpq::backward_per_channel(qs, layout, x, go, gx, gp);
    std::vector<double> sums(shape[axis], 0.0);
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 4; ++j)
        for (std::size_t k = 0; k < 5; ++k) {
          const std::size_t flat = (i * 4 + j) * 5 + k;
          const std::size_t c = axis == 0 ? i : (axis == 1 ? j : k);
          CHECK(layout.channel_of(flat) == c);
          CHECK(codes[flat] == qs[c].quantize(x[flat]));
          CHECK(y[flat] == qs[c].fake_quantize(x[flat]));
          CHECK(back[flat] == y[flat]);
          CHECK(gx[flat] == go[flat] * qs[c].gradient(x[flat]).dx);
          sums[c] += static_cast<double>(go[flat]) * qs[c].gradient(x[flat]).dparams[0];
        }
    for (std::size_t c = 0; c < shape[axis]; ++c)  // LSQ's scale uses the whole tensor's N = 60
      CHECK(gp[c] == doctest::Approx(sums[c] * qs[c].gradient_scale(60)[0]).epsilon(1e-5));
  }
}

TEST_CASE("per_channel: bad axis, counts and code types are errors that change nothing") {
  const std::array<std::size_t, 2> shape{2, 3};
  const auto bad = mpq::channel_layout::try_make(shape, mpq::per_channel{2});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code() == mpq::errc::out_of_range);
  CHECK(quant_test::str(bad.error().message()) == "per_channel: axis = 2: out of range for a rank-2 tensor (axes 0..1)");
  CHECK_THROWS_AS(mpq::channel_layout(shape, mpq::per_channel{5}), mpq::error);
  const mpq::channel_layout layout(shape, mpq::per_channel{1});
  std::vector<float> x(6, 0.5f), y(6, -1.0f);
  const std::vector<mpq::uniform_quantizer<8>> two(2, mpq::uniform_quantizer<8>(0.1f));
  CHECK(mpq::try_fake_quantize_per_channel(two, layout, x, y).code() == mpq::errc::shape_mismatch);
  CHECK(y == std::vector<float>(6, -1.0f));
  // the third quantizer's codes do not fit int8_t: nothing is written, not even channels 0 and 1
  const std::vector<mpq::u3_quantizer> qs{{0.25f, 1.0f}, {0.25f, 1.0f}, {0.00390625f, 1.0f}};
  std::vector<std::int8_t> codes(6, 9);
  CHECK(mpq::try_quantize_per_channel(qs, layout, std::span<const float>(x), std::span<std::int8_t>(codes)).code() ==
        mpq::errc::invalid_argument);
  CHECK(codes == std::vector<std::int8_t>(6, 9));
}

TEST_CASE("calibration: moments, min/max and percentiles against sorting") {
  auto x = normal_data(1001, 47, 3.0f);
  const auto m = mpq::try_moments(x);
  REQUIRE(m.has_value());
  double mean = 0, sa = 0;
  for (float v : x) mean += v, sa += std::fabs(v);
  mean /= x.size();
  double ss = 0;
  for (float v : x) ss += (v - mean) * (v - mean);
  CHECK(m->mean == doctest::Approx(mean));
  CHECK(m->stddev == doctest::Approx(std::sqrt(ss / 1000)));
  CHECK(m->mean_abs == doctest::Approx(sa / 1001));
  auto sorted = x;
  std::sort(sorted.begin(), sorted.end());
  const auto r = mpq::try_minmax(x);
  CHECK(r->lo == sorted.front());
  CHECK(r->hi == sorted.back());
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    auto pct = [&](double q) {
      const double pos = q / 100 * (sorted.size() - 1);
      const auto i = static_cast<std::size_t>(std::floor(pos));
      const double f = pos - i;
      return i + 1 < sorted.size() ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i];
    };
    const auto pr = mpq::try_percentile_range(x, p);
    REQUIRE(pr.has_value());
    CHECK(pr->lo == doctest::Approx(pct(100 - p)).epsilon(1e-6));
    CHECK(pr->hi == doctest::Approx(pct(p)).epsilon(1e-6));
  }
  std::vector<float> ax(x.size());
  std::transform(x.begin(), x.end(), ax.begin(), [](float v) { return std::fabs(v); });
  std::sort(ax.begin(), ax.end());
  CHECK(*mpq::try_abs_percentile(x, 100.0) == ax.back());
  CHECK(*mpq::try_abs_percentile(x, 50.0) == doctest::Approx(ax[500]));
  // errors
  x[17] = quant_test::nan_f;
  const auto e = mpq::try_moments(x);
  CHECK(e.error().code() == mpq::errc::not_finite);
  CHECK(quant_test::str(e.error().message()) == "moments: x[17] = nan: calibration data must be finite");
  CHECK(mpq::try_percentile_range(sorted, 40.0).error().code() == mpq::errc::invalid_argument);
  CHECK(mpq::try_minmax(std::vector<float>{}).error().code() == mpq::errc::invalid_argument);
}

TEST_CASE("calibration: the MSE step search is at least as good as a dense brute-force scan") {
  const auto x = normal_data(4000, 48);
  for (int bits : {2, 3, 4, 8}) {
    auto make = [bits](float s) { return mpq::lsq_quantizer<>(bits, signed_codes, s); };
    const float hi = 4.0f / static_cast<float>((1 << (bits - 1)) - 1), lo = hi / 100;
    const auto s = mpq::try_mse_optimal_step(x, make, lo, hi);
    REQUIRE(s.has_value());
    double brute = 1e30;
    for (int i = 0; i <= 2000; ++i) brute = std::min(brute, mpq::quantization_mse(make(lo + (hi - lo) * i / 2000.0f), x));
    CAPTURE(bits);
    CHECK(mpq::quantization_mse(make(*s), x) <= brute * (1 + 1e-3));
  }
  // data exactly on a 4-bit grid of step 0.1 spanning the whole code range: the optimum is 0.1
  std::vector<float> grid;
  for (int c = -8; c <= 7; ++c) grid.push_back(0.1f * static_cast<float>(c));
  auto make4 = [](float s) { return mpq::lsq_quantizer<>(4, signed_codes, s); };
  const auto s = mpq::try_mse_optimal_step(grid, make4, 0.01f, 0.5f);
  CHECK(*s == doctest::Approx(0.1).epsilon(1e-3));
  // power-of-two steps: exhaustive over exponents
  auto make_u1 = [](float d) { return mpq::u1_quantizer(4.0f, d); };
  const auto e = mpq::try_mse_optimal_pow2_exponent(x, make_u1, -8, 0);
  REQUIRE(e.has_value());
  for (int k = -8; k <= 0; ++k)
    CHECK(mpq::quantization_mse(make_u1(std::ldexp(1.0f, *e)), x) <= mpq::quantization_mse(make_u1(std::ldexp(1.0f, k)), x));
  CHECK(mpq::try_mse_optimal_step(x, make4, 0.0f, 1.0f).error().code() == mpq::errc::invalid_argument);
}

TEST_CASE("calibration per channel: moments and percentiles of every channel along any axis") {
  const std::array<std::size_t, 3> shape{2, 3, 4};
  const auto x = normal_data(24, 49);
  for (std::size_t axis = 0; axis < 3; ++axis) {
    const mpq::channel_layout layout(shape, mpq::per_channel{axis});
    std::vector<mpq::data_moments> ms(shape[axis]);
    std::vector<mpq::value_range> rs(shape[axis]);
    REQUIRE(mpq::try_moments_per_channel(x, layout, ms).ok());
    REQUIRE(mpq::try_percentile_range_per_channel(x, layout, 100.0, rs).ok());
    for (std::size_t c = 0; c < shape[axis]; ++c) {
      std::vector<float> mine;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (layout.channel_of(i) == c) mine.push_back(x[i]);
      CHECK(ms[c].count == mine.size());
      CHECK(ms[c].min == *std::min_element(mine.begin(), mine.end()));
      CHECK(ms[c].max == *std::max_element(mine.begin(), mine.end()));
      CHECK(ms[c].mean == doctest::Approx(mpq::try_moments(mine)->mean));
      CHECK(rs[c].hi == ms[c].max);
      CHECK(rs[c].lo == ms[c].min);
    }
  }
  const mpq::channel_layout layout(shape, mpq::per_channel{0});
  std::vector<mpq::data_moments> wrong(3);
  CHECK(mpq::try_moments_per_channel(x, layout, wrong).code() == mpq::errc::shape_mismatch);
}

TEST_CASE("uniform_quantizer::try_from_range covers a calibrated range") {
  const auto s = mpq::uniform_quantizer<8, signed_codes>::try_from_range(-1.27f, 0.5f);
  REQUIRE(s.has_value());
  CHECK(s->step() == doctest::Approx(1.27 / 128));
  CHECK(s->zero_point() == 0);
  const auto u = mpq::uniform_quantizer<8, unsigned_codes>::try_from_range(-0.5f, 2.05f);
  REQUIRE(u.has_value());
  CHECK(u->step() == doctest::Approx(2.55 / 255));
  CHECK(u->zero_point() == 50);
  CHECK(u->fake_quantize(0.0f) == 0.0f);
  CHECK(mpq::uniform_quantizer<8, unsigned_codes>::try_from_range(-1.0f, -0.5f)->min_value() == doctest::Approx(-1.0));
  CHECK(mpq::uniform_quantizer<4>::try_from_range(1.0f, 0.0f).error().code() == mpq::errc::invalid_argument);
  CHECK(mpq::uniform_quantizer<4>::try_from_range(0.0f, quant_test::nan_f).error().code() == mpq::errc::not_finite);
  CHECK(mpq::uniform_quantizer<4>::try_from_range(0.0f, 0.0f).error().code() == mpq::errc::invalid_argument);
}
