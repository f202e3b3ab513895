// Tests for Uhlich et al.'s U1/U2/U3 quantizers: forward against an independent model over dense
// grids, every gradient against the closed forms of algorithms.md §2a (and finite differences where
// the relaxed function is smooth), inferred bits against the formula, projection, errors, NaN.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "mpq/quant/step_range.hpp"
#include "quant_test_util.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;
using quant_test::round_model;

namespace {

// ---- an independent model of §2a in double ------------------------------------------------------
struct model {
  bool is_signed = true;
  double b_prime = 0;  // U1/U2
  double levels = 0;   // 2^b' - 1 (U1/U2)
  double d_eff = 0;
  double k = 0;        // largest code magnitude
  double q_eff() const { return k * d_eff; }
};

double pow2_model(double v) { return std::exp2(std::round(std::log2(v))); }

template <class Q>
model make_model(std::array<float, 2> th, bool sgn) {
  using P = typename Q::parametrization;
  using R = typename Q::rounding;
  model m;
  m.is_signed = sgn;
  if constexpr (std::is_same_v<P, mpq::uhlich_u3>) {
    m.d_eff = pow2_model(th[0]);
    m.k = std::max(1.0, round_model<R>(th[1] / m.d_eff));
  } else {
    m.b_prime = round_model<R>(th[0]) - (sgn ? 1 : 0);
    m.levels = std::exp2(m.b_prime) - 1;
    if constexpr (std::is_same_v<P, mpq::uhlich_u1>) {
      m.d_eff = pow2_model(th[1]);
      m.k = m.levels;
    } else {
      m.d_eff = pow2_model(th[1] / m.levels);
      m.k = std::min(std::max(1.0, round_model<R>(th[1] / m.d_eff)), m.levels);
    }
  }
  return m;
}

// Q(x): the paper's piecewise formula for half-away ties; d·nearbyint(clip(x)/d) for half-even.
template <class R>
double forward_model(const model& m, double x) {
  if (std::isnan(x)) x = 0.0;
  const double q = m.q_eff(), lower = m.is_signed ? -q : 0.0;
  if constexpr (std::is_same_v<R, mpq::round_half_away>) {
    if (!m.is_signed && x < 0) return 0.0;
    const double s = x < 0 ? -1.0 : 1.0;
    if (std::fabs(x) > q) return s * q;
    return s * m.d_eff * std::floor(std::fabs(x) / m.d_eff + 0.5);
  } else {
    const double c = std::min(std::max(x, lower), q);
    return m.d_eff * std::nearbyint(c / m.d_eff);
  }
}

// The closed forms of §2a, with the raw parameters and the STE factor d_eff/d.
template <class Q>
std::array<double, 3> gradient_model(const model& m, std::array<float, 2> th, double x, double Qx) {
  using P = typename Q::parametrization;
  const bool flows = Q::bound_gradient::flows;
  const double q = m.q_eff(), lower = m.is_signed ? -q : 0.0;
  const bool in = x >= lower && x <= q;
  const bool out = x > q || (m.is_signed && x < lower);
  const double s = x < 0 ? -1.0 : 1.0, err = Qx - x, ln2 = std::log(2.0);
  double dx = in ? 1.0 : 0.0, d0 = 0, d1 = 0;
  if constexpr (std::is_same_v<P, mpq::uhlich_u3>) {
    d0 = in ? err / th[0] : 0.0;
    d1 = out && flows ? s : 0.0;
  } else if constexpr (std::is_same_v<P, mpq::uhlich_u1>) {
    d0 = out && flows ? s * m.d_eff * std::exp2(m.b_prime) * ln2 : 0.0;
    d1 = in ? err / th[1] : (out && flows ? s * m.levels * m.d_eff / th[1] : 0.0);
  } else {
    d0 = in ? -err * std::exp2(m.b_prime) * ln2 / m.levels : 0.0;
    d1 = in ? err / th[1] : (out && flows ? s : 0.0);
  }
  return {dx, d0, d1};
}

template <class Q>
void check_against_model(std::array<float, 2> th, mpq::signedness sgn) {
  const auto bounds = sgn == signed_codes ? mpq::step_range_bounds::weights() : mpq::step_range_bounds::activations();
  const Q q(th[0], th[1], sgn, bounds);
  const model m = make_model<Q>(th, sgn == signed_codes);
  using R = typename Q::rounding;
  CAPTURE(th[0]);
  CAPTURE(th[1]);
  CAPTURE(quant_test::str(mpq::to_string(sgn)));
  REQUIRE(q.step() == static_cast<float>(m.d_eff));
  REQUIRE(q.code_max() == static_cast<std::int32_t>(m.k));
  REQUIRE(q.max_value() == static_cast<float>(m.q_eff()));
  const float span = static_cast<float>(m.q_eff());
  for (float x : quant_test::dense_grid(-2.0f * span, 2.0f * span, static_cast<float>(m.d_eff))) {
    CAPTURE(x);
    const double want = forward_model<R>(m, x);
    const float got = q.fake_quantize(x);
    CHECK(got == static_cast<float>(want));
    CHECK(q.quantize(x) == static_cast<std::int32_t>(want / m.d_eff));
    CHECK(q.dequantize(q.quantize(x)) == got);
    const auto g = q.gradient(x);
    CHECK(g.value == got);
    const auto w = gradient_model<Q>(m, th, x, got);
    CHECK(g.dx == static_cast<float>(w[0]));
    CHECK(g.dparams[0] == doctest::Approx(w[1]).epsilon(1e-5));
    CHECK(g.dparams[1] == doctest::Approx(w[2]).epsilon(1e-5));
  }
}

template <class P, class R, class G>
using sr = mpq::step_range_quantizer<P, R, G>;
using away = mpq::round_half_away;
using even = mpq::round_half_even;
using flows = mpq::bound_gradient_flows;
using stops = mpq::bound_gradient_stops;

}  // namespace

#define STEP_RANGE_TYPES                                                                        \
  sr<mpq::uhlich_u3, away, flows>, sr<mpq::uhlich_u3, even, stops>, sr<mpq::uhlich_u1, away, flows>, \
      sr<mpq::uhlich_u1, even, stops>, sr<mpq::uhlich_u2, away, flows>, sr<mpq::uhlich_u2, even, stops>

TEST_CASE_TEMPLATE("step_range: forward and gradients match the model on dense grids", Q, STEP_RANGE_TYPES) {
  using P = typename Q::parametrization;
  std::vector<std::array<float, 2>> thetas;
  if constexpr (std::is_same_v<P, mpq::uhlich_u3>) {
    // on-grid, off-grid q_max, a d that the power of two rounds up and one it rounds down
    thetas = {{0.25f, 1.0f}, {0.25f, 1.3f}, {0.09f, 0.8f}, {0.7f, 0.75f}, {0.0041f, 2.0f}, {0.125f, 0.13f}};
  } else if constexpr (std::is_same_v<P, mpq::uhlich_u1>) {
    thetas = {{2.0f, 0.25f}, {3.5f, 0.09f}, {4.4f, 0.7f}, {8.0f, 0.004f}, {5.0f, 0.125f}};
  } else {
    thetas = {{2.0f, 1.0f}, {3.5f, 0.8f}, {4.0f, 1.0f}, {4.6f, 3.3f}, {8.0f, 100.0f}, {5.0f, 0.3f}};
  }
  for (const auto& th : thetas) {
    check_against_model<Q>(th, signed_codes);
    check_against_model<Q>(th, unsigned_codes);
  }
}

TEST_CASE_TEMPLATE("step_range: NaN quantizes as 0 with zero gradients; Inf saturates", Q, STEP_RANGE_TYPES) {
  using P = typename Q::parametrization;
  const std::array<float, 2> th = std::is_same_v<P, mpq::uhlich_u3> ? std::array<float, 2>{0.25f, 1.0f}
                                  : std::is_same_v<P, mpq::uhlich_u1> ? std::array<float, 2>{4.0f, 0.25f}
                                                                       : std::array<float, 2>{4.0f, 1.0f};
  for (auto sgn : {signed_codes, unsigned_codes}) {
    const Q q(th[0], th[1], sgn,
              sgn == signed_codes ? mpq::step_range_bounds::weights() : mpq::step_range_bounds::activations());
    CHECK(q.quantize(quant_test::nan_f) == q.quantize(0.0f));
    const auto g = q.gradient(quant_test::nan_f);
    CHECK(g.value == q.fake_quantize(0.0f));
    CHECK(g.dx == 0.0f);
    CHECK(g.dparams[0] == 0.0f);
    CHECK(g.dparams[1] == 0.0f);
    CHECK(q.quantize(quant_test::inf_f) == q.code_max());
    CHECK(q.quantize(-quant_test::inf_f) == q.code_min());
    CHECK(q.gradient(quant_test::inf_f).dx == 0.0f);
  }
}

TEST_CASE("u3: inferred bits equal max(ceil(log2(k + 1)) + [signed], b_min) over a dense (d, q_max) grid") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> log_d(-8.0f, 0.0f), log_q(-8.0f, 7.0f);
  int checked = 0;
  for (int i = 0; i < 4000; ++i) {
    const float d = std::exp2(log_d(rng)), q_max = std::exp2(log_q(rng));
    if (q_max < d || q_max > 127.0f) continue;
    for (auto sgn : {signed_codes, unsigned_codes}) {
      const auto bounds = sgn == signed_codes ? mpq::step_range_bounds::weights() : mpq::step_range_bounds::activations();
      const mpq::u3_quantizer q(d, q_max, sgn, bounds);
      const double d_eff = pow2_model(d);
      const double k = std::max(1.0, std::round(q_max / d_eff));
      const double inferred = std::ceil(std::log2(k + 1.0)) + (sgn == signed_codes ? 1 : 0);
      CAPTURE(d);
      CAPTURE(q_max);
      CHECK(q.bits() == static_cast<int>(std::max(inferred, static_cast<double>(bounds.b_min))));
      // the codes fit the reported width
      CHECK(q.code_min() >= mpq::code_min(q.bits(), sgn));
      CHECK(q.code_max() <= mpq::code_max(q.bits(), sgn));
      ++checked;
    }
  }
  CHECK(checked > 2000);
}

TEST_CASE("u1/u2: bits are round(b) and the codes fit them") {
  for (float b = 2.0f; b <= 8.0f; b += 0.125f) {
    const mpq::u1_quantizer q1(b, 0.1f, signed_codes);
    const mpq::u2_quantizer q2(b, 3.0f, signed_codes);
    const int want = static_cast<int>(std::round(b));  // Sony: half away
    CHECK(q1.bits() == want);
    CHECK(q2.bits() == want);
    CHECK(q1.code_max() == (1 << (want - 1)) - 1);
    CHECK(q2.code_max() <= (1 << (want - 1)) - 1);
    CHECK(q2.code_min() >= -(1 << (want - 1)));
  }
  const mpq::step_range_quantizer<mpq::uhlich_u1, mpq::round_half_even> even(4.5f, 0.1f);
  CHECK(even.bits() == 4);
}

TEST_CASE("u3: bits_gradient is the surrogate's gradient (finite differences) with the STE factor") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 200; ++i) {
    const double d = std::exp2(-8 + 6 * u(rng)), q = d * (1 + 60 * u(rng));
    for (auto sgn : {signed_codes, unsigned_codes}) {
      const auto g = mpq::uhlich_surrogate_bits_gradient(static_cast<float>(d), static_cast<float>(q));
      const double h_d = d * 1e-3, h_q = q * 1e-3;
      auto b = [&](double dd, double qq) {
        return static_cast<double>(mpq::uhlich_surrogate_bits(static_cast<float>(dd), static_cast<float>(qq), sgn));
      };
      CHECK(g[0] == doctest::Approx((b(d + h_d, q) - b(d - h_d, q)) / (2 * h_d)).epsilon(2e-3));
      CHECK(g[1] == doctest::Approx((b(d, q + h_q) - b(d, q - h_q)) / (2 * h_q)).epsilon(2e-3));
    }
  }
  // the quantizer evaluates it at (d_eff, q_eff) and chains d_eff/d into ∂/∂d
  const mpq::u3_quantizer q(0.09f, 0.8f);  // log2 0.09 = -3.47: d_eff = 0.125, k = R(6.4) = 6, q_eff = 0.75
  const auto s = mpq::uhlich_surrogate_bits_gradient(0.125f, 0.75f);
  const auto g = q.bits_gradient();
  CHECK(g[0] == doctest::Approx(s[0] * 0.125 / 0.09).epsilon(1e-6));
  CHECK(g[1] == s[1]);
  CHECK(q.real_bits() == doctest::Approx(std::log2(7.0) + 1));
  CHECK(std::ceil(q.real_bits()) == q.bits());
  // held at b_min: no gradient
  const mpq::u3_quantizer small(0.5f, 0.5f, unsigned_codes, {0.00390625f, 1.0f, 0.00390625f, 255.0f, 3.0f, 8.0f});
  CHECK(small.bits() == 3);
  CHECK(small.bits_gradient() == std::array<float, 2>{0.0f, 0.0f});
  // U1/U2 learn b directly: ∂bits/∂b = 1 (STE of round)
  CHECK(mpq::u1_quantizer(4.2f, 0.1f).bits_gradient() == std::array<float, 2>{1.0f, 0.0f});
  CHECK(mpq::u2_quantizer(4.2f, 1.0f).real_bits() == 4.2f);
}

TEST_CASE("u1/u2: ∂Q/∂b matches finite differences of the relaxed (real-b) maps") {
  const double ln2 = std::log(2.0);
  for (float b : {2.0f, 3.0f, 5.0f, 7.0f}) {
    // U1 saturated: Q = (2^(b-1) - 1)·d_eff
    const mpq::u1_quantizer q1(b, 0.1f);  // d_eff = 0.125
    const double d_eff = q1.step(), h = 1e-4;
    auto sat = [&](double bb) { return (std::exp2(bb - 1) - 1) * d_eff; };
    CHECK(q1.gradient(1e6f).dparams[0] == doctest::Approx((sat(b + h) - sat(b - h)) / (2 * h)).epsilon(1e-5));
    // U2 inside: Q ≈ x + d(b)·r0 with d(b) = (d_eff/d)·q_max/(2^(b-1) - 1) and r0 fixed (STE of round)
    const mpq::u2_quantizer q2(b, 3.0f);
    const double levels = std::exp2(b - 1) - 1, d_raw = 3.0 / levels, factor = q2.step() / d_raw;
    const float x = static_cast<float>(q2.step() * 0.3);
    const double r0 = q2.quantize(x) - x / q2.step();
    auto inside = [&](double bb) { return x + factor * 3.0 / (std::exp2(bb - 1) - 1) * r0; };
    CHECK(q2.gradient(x).dparams[0] == doctest::Approx((inside(b + h) - inside(b - h)) / (2 * h)).epsilon(1e-4));
    CHECK(q2.gradient(x).dparams[0] ==
          doctest::Approx(-(q2.fake_quantize(x) - x) * std::exp2(b - 1) * ln2 / levels).epsilon(1e-5));
  }
}

TEST_CASE_TEMPLATE("step_range: project() makes any finite θ valid and keeps valid θ inside", Q, STEP_RANGE_TYPES) {
  const Q q = [] {
    using P = typename Q::parametrization;
    if constexpr (std::is_same_v<P, mpq::uhlich_u3>) return Q(0.25f, 1.0f);
    else if constexpr (std::is_same_v<P, mpq::uhlich_u1>) return Q(4.0f, 0.25f);
    else return Q(4.0f, 1.0f);
  }();
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> wild(-300.0f, 300.0f);
  for (int i = 0; i < 2000; ++i) {
    const std::array<float, 2> raw{wild(rng), wild(rng)};
    const auto p = q.project(raw);
    Q copy = q;
    CAPTURE(raw[0]);
    CAPTURE(raw[1]);
    CHECK(copy.try_set_parameters(p).ok());
    CHECK(copy.parameters() == p);
  }
  // U3: d < q_max is enforced first (Sony's order), then the bounds with a 1e-5 margin
  if constexpr (std::is_same_v<typename Q::parametrization, mpq::uhlich_u3>) {
    const auto p = q.project({0.5f, 0.3f});
    CHECK(p[0] == doctest::Approx(0.3f - 1e-5f));
    CHECK(p[1] == doctest::Approx(0.5f + 1e-5f));
    CHECK(q.project({2.0f, 300.0f}) == std::array<float, 2>{1.0f - 1e-5f, 127.0f - 1e-5f});
    CHECK(q.clip_gradients({3.0f, -0.1f}) == std::array<float, 2>{0.25f, -0.1f});
  }
  CHECK(std::isnan(q.project({quant_test::nan_f, 1.0f})[0]));
}

TEST_CASE("step_range: bad parameters give a clear error and change nothing") {
  CHECK_THROWS_WITH_AS(mpq::u3_quantizer(0.5f, 0.25f),
                       "u3_quantizer: q_max = 0.25 is below d = 0.5: the range must hold at least one step", mpq::error);
  CHECK_THROWS_WITH_AS(mpq::u3_quantizer(-0.5f, 1.0f), "u3_quantizer: d = -0.5: must lie in [0.00390625, 1]", mpq::error);
  CHECK_THROWS_WITH_AS(mpq::u3_quantizer(0.5f, quant_test::nan_f), "u3_quantizer: q_max = nan: must be finite", mpq::error);
  CHECK_THROWS_WITH_AS(mpq::u1_quantizer(9.0f, 0.5f), "u1_quantizer: b = 9: must lie in [2, 8]", mpq::error);
  CHECK_THROWS_WITH_AS(mpq::u2_quantizer(4.0f, 0.0f), "u2_quantizer: q_max = 0: must lie in [0.00390625, 127]", mpq::error);
  // signed codes need b_min >= 2 (the sign bit)
  CHECK_THROWS_WITH_AS(mpq::u1_quantizer(2.0f, 0.5f, signed_codes, mpq::step_range_bounds::activations()),
                       "u1_quantizer: b_min = 1: must be >= 2 because signed codes spend one bit on the sign",
                       mpq::error);
  CHECK_THROWS_AS((mpq::u3_quantizer(0.5f, 1.0f, signed_codes, {1.0f, 0.5f, 0.1f, 1.0f, 2.0f, 8.0f})), mpq::error);
  CHECK_THROWS_AS((mpq::u3_quantizer(0.5f, 1.0f, signed_codes, {1e-9f, 1.0f, 0.1f, 127.0f, 2.0f, 8.0f})), mpq::error);

  const auto bad = mpq::u3_quantizer::try_make(0.25f, quant_test::inf_f);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code() == mpq::errc::not_finite);
  CHECK(mpq::u3_quantizer::try_make(0.5f, 0.25f).error().code() == mpq::errc::invalid_argument);

  mpq::u3_quantizer q(0.25f, 1.0f);
  const auto st = q.try_set_parameters({0.5f, 0.1f});
  CHECK(st.code() == mpq::errc::invalid_argument);
  CHECK(q.parameters() == std::array<float, 2>{0.25f, 1.0f});
  CHECK(q.bits() == 4);
  CHECK_THROWS_AS(q.set_parameters(std::array<float, 2>{quant_test::nan_f, 1.0f}), mpq::error);
  CHECK(q.parameters() == std::array<float, 2>{0.25f, 1.0f});
}

TEST_CASE("uhlich_weight_init: Sony's find_delta") {
  // max|W| = 1, b0 = 4: levels 7, log2(1/7) = -2.807 -> floor -3 -> d0 = 0.125, q0 = 0.875
  const auto a = mpq::try_uhlich_weight_init(1.0f, 4);
  REQUIRE(a.has_value());
  CHECK(*a == std::array<float, 2>{0.125f, 0.875f});
  // b0 = 8 > 4 rounds the exponent up: max|W| = 1 -> 1/127 -> ceil(-6.99) = -6 -> 1/64
  CHECK((*mpq::try_uhlich_weight_init(1.0f, 8))[0] == 0.015625f);
  CHECK(mpq::try_uhlich_weight_init(0.0f, 4).error().code() == mpq::errc::invalid_argument);
  CHECK(mpq::try_uhlich_weight_init(1.0f, 1).error().code() == mpq::errc::invalid_argument);
}

TEST_CASE("STE primitives: nearest power of two in the log domain, its factor p/v, clipping masks") {
  std::mt19937 rng(37);
  std::uniform_real_distribution<float> e(-20.0f, 20.0f);
  for (int i = 0; i < 20000; ++i) {
    const float v = std::exp2(e(rng));
    const auto p = mpq::pow2_ste(v);
    CAPTURE(v);
    CHECK(p.value == static_cast<float>(std::exp2(std::round(std::log2(static_cast<double>(v))))));
    CHECK(p.grad == p.value / v);
  }
  for (int k = -10; k <= 10; ++k) {  // around the log-domain midpoint √2·2^k
    const float mid = static_cast<float>(std::sqrt(2.0) * std::exp2(k));
    CHECK(mpq::nearest_pow2_exponent(mid) == (mid > std::sqrt(2.0) * std::exp2(k) ? k + 1 : k));
    CHECK(mpq::nearest_pow2_exponent(std::nextafter(mid, 0.0f)) == k);
    CHECK(mpq::nearest_pow2_exponent(std::nextafter(mid, 1e30f)) == k + 1);
    CHECK(mpq::nearest_pow2_exponent(std::ldexp(1.0f, k)) == k);
  }
  CHECK(mpq::clip_ste(0.5f, 0.0f, 1.0f).grad == 1.0f);
  CHECK(mpq::clip_ste(1.0f, 0.0f, 1.0f).grad == 1.0f);  // bounds included (torch.clamp, nnabla)
  CHECK(mpq::clip_ste(1.5f, 0.0f, 1.0f).value == 1.0f);
  CHECK(mpq::clip_ste(1.5f, 0.0f, 1.0f).grad == 0.0f);
  CHECK(mpq::clip_ste(-0.5f, 0.0f, 1.0f).grad == 0.0f);
  CHECK(mpq::sign_of(-0.0f) == 1.0f);
  CHECK(mpq::sign_of(-2.0f) == -1.0f);
}
