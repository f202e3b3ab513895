// Tests for Uhlich et al.'s power-of-two quantizers P1/P2/P3, with and without a zero level:
// forward against an independent model over dense grids, gradients against the closed forms,
// finite differences of the derived bounds, inferred bits, codes, projection, errors, NaN.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <random>
#include <type_traits>
#include <vector>

#include "mpq/quant/pow2.hpp"
#include "quant_test_util.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;
using mpq::zero_level;

namespace {

struct pmodel {
  bool is_signed = true, zero = false;
  int e_min = 0, e_max = 0;
  double b2 = 0;  // b'' (P1, P2)
  double q_min() const { return std::exp2(e_min); }
  double q_max() const { return std::exp2(e_max); }
  float threshold() const { return static_cast<float>(q_min() / std::sqrt(2.0)); }  // as documented
};

int exponent_model(double v) { return static_cast<int>(std::round(std::log2(v))); }

template <class Q>
pmodel make_model(std::array<float, 2> th, bool sgn, bool zero) {
  using P = typename Q::parametrization;
  pmodel m;
  m.is_signed = sgn;
  m.zero = zero;
  if constexpr (std::is_same_v<P, mpq::pow2_p3>) {
    m.e_min = exponent_model(th[0]);
    m.e_max = exponent_model(th[1]);
  } else {
    m.b2 = quant_test::round_model<typename Q::rounding>(th[0]) - sgn - zero;
    const int span = static_cast<int>(std::exp2(m.b2)) - 1;
    if constexpr (std::is_same_v<P, mpq::pow2_p1>) {
      m.e_max = exponent_model(th[1]);
      m.e_min = m.e_max - span;
    } else {
      m.e_min = exponent_model(th[1]);
      m.e_max = m.e_min + span;
    }
  }
  return m;
}

// Sony's parametric_pow2_quantize forward, in double.
double forward_model(const pmodel& m, double x) {
  if (std::isnan(x)) x = 0.0;
  if (!m.is_signed && x < 0) x = 0.0;
  const double ax = std::fabs(x), s = x < 0 ? -1.0 : 1.0;
  if (m.zero && ax < m.threshold()) return 0.0;
  if (ax < m.q_min()) return s * m.q_min();
  if (ax < m.q_max()) return s * std::exp2(std::round(std::log2(ax)));
  return s * m.q_max();
}

template <class Q>
std::array<double, 3> gradient_model(const pmodel& m, std::array<float, 2> th, double x, double Qx) {
  using P = typename Q::parametrization;
  const bool flows = Q::bound_gradient::flows;
  if (std::isnan(x)) return {0, 0, 0};
  const bool cut = !m.is_signed && x < 0;
  const double xr = cut ? 0.0 : x, ax = std::fabs(xr), s = xr < 0 ? -1.0 : 1.0;
  const double l2 = std::log(2.0) * std::log(2.0), p = std::exp2(m.b2);
  if (ax >= m.q_max()) {
    if (!flows) return {0, 0, 0};
    if constexpr (std::is_same_v<P, mpq::pow2_p2>) return {0, s * m.q_max() * p * l2, s * m.q_max() / th[1]};
    else return {0, 0, s * m.q_max() / th[1]};
  }
  if (ax >= m.q_min()) return {cut ? 0.0 : Qx / xr, 0, 0};
  if ((m.zero && ax < m.threshold()) || !flows) return {0, 0, 0};
  if constexpr (std::is_same_v<P, mpq::pow2_p3>) return {0, s * m.q_min() / th[0], 0};
  else if constexpr (std::is_same_v<P, mpq::pow2_p1>) return {0, -s * m.q_min() * p * l2, s * m.q_min() / th[1]};
  else return {0, 0, s * m.q_min() / th[1]};
}

template <class Q>
void check_against_model(std::array<float, 2> th, mpq::signedness sgn, zero_level z) {
  const bool sg = sgn == signed_codes, zero = z == zero_level::present;
  const auto bounds = sg ? mpq::pow2_bounds::weights() : mpq::pow2_bounds::activations();
  const Q q(th[0], th[1], sgn, z, bounds);
  const pmodel m = make_model<Q>(th, sg, zero);
  CAPTURE(th[0]);
  CAPTURE(th[1]);
  CAPTURE(sg);
  CAPTURE(zero);
  REQUIRE(q.q_min() == static_cast<float>(m.q_min()));
  REQUIRE(q.q_max() == static_cast<float>(m.q_max()));
  auto xs = quant_test::dense_grid(-2.0f * q.q_max(), 2.0f * q.q_max(), q.q_min(), 4001);
  for (int e = m.e_min - 1; e <= m.e_max + 1; ++e) {  // every level, every rounding boundary √2·2^e
    for (float v : {static_cast<float>(std::exp2(e)), static_cast<float>(std::exp2(e + 0.5)), m.threshold()}) {
      for (float w : {v, std::nextafter(v, 0.0f), std::nextafter(v, 1e30f)}) {
        xs.push_back(w);
        xs.push_back(-w);
      }
    }
  }
  for (float x : xs) {
    CAPTURE(x);
    const double want = forward_model(m, x);
    const float got = q.fake_quantize(x);
    CHECK(got == static_cast<float>(want));
    const auto code = q.quantize(x);
    CHECK(code >= q.code_min());
    CHECK(code <= q.code_max());
    CHECK(q.dequantize(code) == got);
    const auto g = q.gradient(x);
    CHECK(g.value == got);
    const auto w = gradient_model<Q>(m, th, x, got);
    CHECK(g.dx == doctest::Approx(w[0]).epsilon(1e-6));
    CHECK(g.dparams[0] == doctest::Approx(w[1]).epsilon(1e-5));
    CHECK(g.dparams[1] == doctest::Approx(w[2]).epsilon(1e-5));
  }
  // the codes enumerate the levels in increasing order, and fit bits() two's-complement bits
  for (auto c = q.code_min(); c < q.code_max(); ++c) CHECK(q.dequantize(c) < q.dequantize(c + 1));
  CHECK(q.code_min() >= mpq::code_min(q.bits(), sgn));
  CHECK(q.code_max() <= mpq::code_max(q.bits(), sgn));
}

template <class P, class G>
using p2q = mpq::pow2_quantizer<P, mpq::round_half_away, G>;
using flows = mpq::bound_gradient_flows;
using stops = mpq::bound_gradient_stops;

}  // namespace

#define POW2_TYPES                                                                                      \
  p2q<mpq::pow2_p1, flows>, p2q<mpq::pow2_p2, flows>, p2q<mpq::pow2_p3, flows>, p2q<mpq::pow2_p1, stops>, \
      p2q<mpq::pow2_p3, stops>

TEST_CASE_TEMPLATE("pow2: forward and gradients match the model, with and without a zero level", Q, POW2_TYPES) {
  using P = typename Q::parametrization;
  std::vector<std::array<float, 2>> thetas;
  if constexpr (std::is_same_v<P, mpq::pow2_p3>) thetas = {{1.0f / 64, 1.0f}, {0.01f, 0.7f}, {0.3f, 0.3f}, {1e-4f, 3.0f}};
  else if constexpr (std::is_same_v<P, mpq::pow2_p1>) thetas = {{3.0f, 1.0f}, {4.4f, 0.7f}, {2.0f, 3.0f}};
  else thetas = {{3.0f, 0.01f}, {4.4f, 0.003f}, {2.0f, 0.3f}};
  for (const auto& th : thetas) {
    check_against_model<Q>(th, signed_codes, zero_level::absent);
    check_against_model<Q>(th, signed_codes, zero_level::present);
    check_against_model<Q>(th, unsigned_codes, zero_level::present);
    check_against_model<Q>(th, unsigned_codes, zero_level::absent);
  }
}

TEST_CASE("p3: inferred bits = max(ceil(log2(n + 1)) + [signed] + [zero], b_min), n = log2(q_max/q_min)") {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> lo(-16.0f, 6.0f), hi(-8.0f, 6.9f);
  int checked = 0;
  for (int i = 0; i < 3000; ++i) {
    const float q_min = std::exp2(lo(rng)), q_max = std::exp2(hi(rng));
    if (q_max < q_min) continue;
    for (auto sgn : {signed_codes, unsigned_codes})
      for (auto z : {zero_level::absent, zero_level::present}) {
        const auto bounds = sgn == signed_codes ? mpq::pow2_bounds::weights() : mpq::pow2_bounds::activations();
        if (q_min < bounds.q_min_min) continue;
        const mpq::p3_quantizer q(q_min, q_max, sgn, z, bounds);
        const double n = exponent_model(q_max) - exponent_model(q_min);
        const double b = std::ceil(std::log2(n + 1)) + (sgn == signed_codes) + (z == zero_level::present);
        CHECK(q.bits() == static_cast<int>(std::max(b, static_cast<double>(bounds.b_min))));
        ++checked;
      }
  }
  CHECK(checked > 4000);
}

TEST_CASE("pow2: bits gradients and the derived bounds' b-derivatives match finite differences") {
  std::mt19937 rng(19);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 200; ++i) {
    const double a = std::exp2(-12 + 8 * u(rng)), b = a * std::exp2(1 + 10 * u(rng));
    const auto g = mpq::pow2_surrogate_bits_gradient(static_cast<float>(a), static_cast<float>(b));
    auto f = [](double lo, double hi) {
      return static_cast<double>(mpq::pow2_surrogate_bits(static_cast<float>(lo), static_cast<float>(hi),
                                                          signed_codes, zero_level::absent));
    };
    CHECK(g[0] == doctest::Approx((f(a * 1.001, b) - f(a * 0.999, b)) / (0.002 * a)).epsilon(2e-3));
    CHECK(g[1] == doctest::Approx((f(a, b * 1.001) - f(a, b * 0.999)) / (0.002 * b)).epsilon(2e-3));
  }
  const double h = 1e-4;
  for (float b : {2.0f, 3.0f, 4.0f}) {
    // P1 (signed, no zero): q_min(b) = q_max·2^(1 - 2^(b-1)); the q_min band's ∂Q/∂b is its derivative
    const mpq::p1_quantizer p1(b, 1.0f);
    auto qmin = [](double bb) { return std::exp2(1 - std::exp2(bb - 1)); };
    const float in_band = p1.q_min() * 0.9f;
    CHECK(p1.gradient(in_band).dparams[0] == doctest::Approx((qmin(b + h) - qmin(b - h)) / (2 * h)).epsilon(1e-4));
    // P2: q_max(b) = q_min·2^(2^(b-1) - 1); the saturated ∂Q/∂b
    const mpq::p2_quantizer p2(b, 0.0625f);
    auto qmax = [](double bb) { return 0.0625 * std::exp2(std::exp2(bb - 1) - 1); };
    CHECK(p2.gradient(1e6f).dparams[0] == doctest::Approx((qmax(b + h) - qmax(b - h)) / (2 * h)).epsilon(1e-4));
  }
  const mpq::p3_quantizer q(0.01f, 0.7f);  // effective 2^-7 .. 2^-1: n = 6
  CHECK(q.real_bits() == doctest::Approx(std::log2(7.0) + 1));
  CHECK(std::ceil(q.real_bits()) == q.bits());
  const auto s = mpq::pow2_surrogate_bits_gradient(q.q_min(), q.q_max());
  CHECK(q.bits_gradient()[0] == doctest::Approx(s[0] * q.q_min() / 0.01f).epsilon(1e-6));
  CHECK(q.bits_gradient()[1] == doctest::Approx(s[1] * q.q_max() / 0.7f).epsilon(1e-6));
  CHECK(mpq::p1_quantizer(3.3f, 1.0f).bits_gradient() == std::array<float, 2>{1.0f, 0.0f});
}

TEST_CASE("pow2: NaN quantizes as 0 with zero gradients; unsigned without zero maps negatives to +q_min") {
  for (auto z : {zero_level::absent, zero_level::present})
    for (auto sgn : {signed_codes, unsigned_codes}) {
      const mpq::p3_quantizer q(1.0f / 64, 1.0f, sgn, z,
                                sgn == signed_codes ? mpq::pow2_bounds::weights() : mpq::pow2_bounds::activations());
      CHECK(q.quantize(quant_test::nan_f) == q.quantize(0.0f));
      const auto g = q.gradient(quant_test::nan_f);
      CHECK(g.value == q.fake_quantize(0.0f));
      CHECK(g.dx == 0.0f);
      CHECK(g.dparams == std::array<float, 2>{0.0f, 0.0f});
      CHECK(q.fake_quantize(quant_test::inf_f) == 1.0f);
    }
  const mpq::p3_quantizer relu(1.0f / 64, 1.0f, unsigned_codes, zero_level::absent, mpq::pow2_bounds::activations());
  CHECK(relu.fake_quantize(-3.0f) == 1.0f / 64);
  CHECK(relu.gradient(-3.0f).dx == 0.0f);
  CHECK(relu.gradient(-3.0f).dparams[0] == doctest::Approx(1.0f / 64 / (1.0f / 64)));  // Sony: sign(0) = +1
}

TEST_CASE("pow2: project() and errors") {
  const mpq::p3_quantizer q(0.01f, 1.0f);
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> wild(-200.0f, 200.0f);
  for (int i = 0; i < 1000; ++i) {
    auto copy = q;
    const auto p = q.project({wild(rng), wild(rng)});
    CHECK(copy.try_set_parameters(p).ok());
  }
  CHECK(q.clip_gradients({1.0f, -1.0f}) == std::array<float, 2>{0.01f, -0.01f});

  CHECK_THROWS_WITH_AS(mpq::p3_quantizer(0.5f, 0.25f), "p3_quantizer: q_max = 0.25 is below q_min = 0.5", mpq::error);
  CHECK_THROWS_WITH_AS(mpq::p3_quantizer(0.0f, 0.25f), "p3_quantizer: q_min = 0: must lie in [1.52588e-05, 127]",
                       mpq::error);
  // 2^7 = 128 powers of two below q_max = 2^-8 reach 2^-135: not a normal float
  const auto deep = mpq::p1_quantizer::try_make(7.0f, 0.00390625f, unsigned_codes, zero_level::absent,
                                                mpq::pow2_bounds::activations());
  REQUIRE_FALSE(deep.has_value());
  CHECK(deep.error().code() == mpq::errc::out_of_range);
  CHECK(std::string(deep.error().message()).find("must be normal floats") != std::string::npos);
  // b too small for the sign and the zero level
  CHECK(mpq::p1_quantizer::try_make(2.0f, 1.0f, signed_codes, zero_level::present, {1.5e-5f, 127.0f, 0.0039f, 127.0f, 1.0f, 7.0f})
            .error()
            .code() == mpq::errc::invalid_argument);
  auto p = mpq::p2_quantizer(3.0f, 0.01f);
  CHECK_FALSE(p.try_set_parameters({quant_test::nan_f, 0.01f}).ok());
  CHECK(p.parameters() == std::array<float, 2>{3.0f, 0.01f});
}
