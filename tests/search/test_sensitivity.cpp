// Sensitivity models against independent computations: weight quantization error, Hutchinson's
// trace, HAWQ-V3's product, LIMPQ's indicators and clean-up, QBitOpt-style Fisher, tables, α.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "mpq/search/problem.hpp"
#include "mpq/search/sensitivity_fisher.hpp"
#include "mpq/search/sensitivity_limpq.hpp"
#include "mpq/search/sensitivity_mse.hpp"
#include "mpq/search/sensitivity_synthetic.hpp"
#include "mpq/search/sensitivity_tables.hpp"

static_assert(mpq::SensitivityModel<mpq::weight_quantization_error>);
static_assert(mpq::SensitivityModel<mpq::hawq_sensitivity>);
static_assert(mpq::SensitivityModel<mpq::limpq_indicators>);
static_assert(mpq::SensitivityModel<mpq::fisher_sensitivity>);
static_assert(mpq::SensitivityModel<mpq::sensitivity_table>);
static_assert(mpq::SensitivityModel<mpq::synthetic_sensitivity>);

namespace {
std::vector<float> gaussian(std::size_t n, float sigma, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> w(n);
  for (float& x : w) x = d(rng);
  return w;
}
// Independent model: symmetric uniform grid at step max|w|/(2^(b-1)-1), round half to even.
double model_error(const std::vector<float>& w, int b) {
  float m = 0.0f;
  for (float x : w) m = std::max(m, std::fabs(x));
  const double qmax = std::ldexp(1.0, b - 1) - 1.0;
  const float step = m / static_cast<float>(qmax);
  const float inv = 1.0f / step;
  double acc = 0.0;
  for (float x : w) {
    double c = std::nearbyint(static_cast<double>(x * inv));
    c = std::clamp(c, -qmax, qmax);
    const double d = static_cast<double>(step * static_cast<float>(c)) - static_cast<double>(x);
    acc += d * d;
  }
  return acc;
}
const mpq::layer_info any_layer{};
}  // namespace

TEST_CASE("weight_quantization_error: the independent model, falling with bits, 0 kept float") {
  const std::vector<float> a = gaussian(4096, 0.05f, 1), b = gaussian(777, 2.0f, 2);
  const std::vector<std::span<const float>> layers = {a, b};
  const mpq::weight_quantization_error e(layers);
  CHECK(e.layer_count() == 2u);
  for (int bits = 2; bits <= 8; ++bits) {
    CAPTURE(bits);
    CHECK(e.error(0, bits) == doctest::Approx(model_error(a, bits)).epsilon(1e-9));
    CHECK(e.error(1, bits) == doctest::Approx(model_error(b, bits)).epsilon(1e-9));
    if (bits > 2) CHECK(e.error(0, bits) < e.error(0, bits - 1));
  }
  // With a max-abs clip the 2-bit grid {-max, 0, max} rounds most Gaussian weights to 0 and errs
  // more than the binary ±mean|w|; the searched clip does not.
  // 1 bit: ±mean|w|, error Σ(|w| − mean|w|)².
  double mean = 0.0, sq = 0.0;
  for (float x : b) mean += std::fabs(x);
  mean /= static_cast<double>(b.size());
  for (float x : b) sq += (std::fabs(x) - mean) * (std::fabs(x) - mean);
  CHECK(e.error(1, 1) == doctest::Approx(sq).epsilon(1e-6));
  CHECK(e.error(0, 16) == 0.0);
  CHECK(e.sensitivity(any_layer, 1, {32, 4}) == 0.0);
  CHECK(e.sensitivity(any_layer, 1, {3, 8}) == e.error(1, 3));
  CHECK(std::isnan(e.error(2, 4)));
  // The searched step is never worse than max-abs.
  mpq::mse_options search;
  search.clip = mpq::clip_rule::mse_search;
  const mpq::weight_quantization_error s(layers, search);
  for (int bits = 2; bits <= 8; ++bits) CHECK(s.error(0, bits) <= e.error(0, bits) * (1 + 1e-12));
  CHECK(e.error(0, 2) > e.error(0, 1));
  CHECK(s.error(0, 2) < s.error(0, 1));
  CHECK(s.error(0, 3) < 0.9 * e.error(0, 3));  // Gaussian tails: clipping pays at low bits
  std::vector<float> bad = a;
  bad[10] = NAN;
  const std::vector<std::span<const float>> bad_layers = {bad};
  CHECK(mpq::weight_quantization_error::try_make(bad_layers).error().code() == mpq::errc::not_finite);
}

TEST_CASE("hutchinson_trace: exact for a diagonal H, unbiased for a dense symmetric H") {
  const std::size_t n = 64;
  std::vector<float> diag(n);
  for (std::size_t i = 0; i < n; ++i) diag[i] = 0.5f + static_cast<float>(i);
  auto hvp_diag = [&](std::span<const float> v, std::span<float> out) {
    for (std::size_t i = 0; i < n; ++i) out[i] = diag[i] * v[i];
  };
  double trace = 0.0;
  for (float d : diag) trace += d;
  CHECK(mpq::hutchinson_trace(n, hvp_diag, 3) == doctest::Approx(trace));  // v_i² = 1: no variance
  // Dense: H = D + (off-diagonal noise); the estimate converges to Tr(H) = Tr(D).
  std::mt19937 rng(4);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> h(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) h[i * n + j] = h[j * n + i] = i == j ? diag[i] : 0.3f * d(rng);
  auto hvp = [&](std::span<const float> v, std::span<float> out) {
    for (std::size_t i = 0; i < n; ++i) {
      float s = 0.0f;
      for (std::size_t j = 0; j < n; ++j) s += h[i * n + j] * v[j];
      out[i] = s;
    }
  };
  const double est = mpq::hutchinson_trace(n, hvp, 4000, 11);
  CHECK(std::fabs(est - trace) < 0.01 * trace);
  CHECK(mpq::try_hutchinson_trace(0, hvp, 5).error().code() == mpq::errc::invalid_argument);
  auto hvp_nan = [&](std::span<const float>, std::span<float> out) { out[0] = NAN; };
  CHECK(mpq::try_hutchinson_trace(n, hvp_nan, 2).error().code() == mpq::errc::not_finite);
}

TEST_CASE("hawq_sensitivity: average trace times the perturbation") {
  const std::vector<float> a = gaussian(512, 0.1f, 5), b = gaussian(512, 0.1f, 6);
  const std::vector<std::span<const float>> layers = {a, b};
  const mpq::weight_quantization_error e(layers);
  const mpq::hawq_sensitivity h({2.5, 0.1}, e);
  CHECK(h.sensitivity(any_layer, 0, {4, 8}) == doctest::Approx(2.5 * e.error(0, 4)));
  CHECK(h.sensitivity(any_layer, 1, {2, 2}) == doctest::Approx(0.1 * e.error(1, 2)));
  CHECK(mpq::hawq_sensitivity::try_make({1.0}, e).error().code() == mpq::errc::shape_mismatch);
  CHECK(mpq::hawq_sensitivity::try_make({1.0, NAN}, e).error().code() == mpq::errc::not_finite);
}

TEST_CASE("limpq_indicators: I^a + α·I^w, and LIMPQ's outlier clean-up on the original values") {
  mpq::limpq_indicators ind(2.0);
  // Weights of layer 0 at 6..2 bits: 4 is below 5's value (outlier) and 2 below 3's (outlier).
  const double wv[] = {0.10, 0.20, 0.15, 0.50, 0.40};  // bits 6, 5, 4, 3, 2
  const double av[] = {0.05, 0.09, 0.20, 0.31, 0.70};  // monotone: no outlier
  for (int i = 0; i < 5; ++i) {
    ind.set(0, mpq::operand::weights, 6 - i, wv[i]);
    ind.set(0, mpq::operand::activations, 6 - i, av[i]);
  }
  CHECK(ind.sensitivity(any_layer, 0, {5, 3}) == doctest::Approx(0.31 + 2.0 * 0.20));
  CHECK(ind.clean_up() == 2u);
  CHECK(ind.indicator(0, mpq::operand::weights, 4) == mpq::limpq_indicators::outlier_penalty);
  CHECK(ind.indicator(0, mpq::operand::weights, 2) == mpq::limpq_indicators::outlier_penalty);
  CHECK(ind.indicator(0, mpq::operand::weights, 3) == 0.50);  // judged on the original 4-bit value
  CHECK(ind.indicator(0, mpq::operand::activations, 2) == 0.70);
  CHECK(ind.sensitivity(any_layer, 3, {4, 4}) == 0.0);  // a layer without indicators: outside the search
  CHECK(std::isnan(ind.sensitivity(any_layer, 0, {7, 4})));
  CHECK(ind.try_set(0, mpq::operand::weights, 4, -1.0).code() == mpq::errc::invalid_argument);
  CHECK(ind.try_set(0, mpq::operand::weights, 9, 1.0).code() == mpq::errc::invalid_argument);
}

TEST_CASE("fisher_sensitivity: EMA of squared gradients times Δ(b)²/12") {
  mpq::fisher_sensitivity f(2, mpq::operand::weights, 0.9);
  const std::vector<float> g1 = {1.0f, 2.0f}, g2 = {3.0f};
  f.observe(0, g1);  // first observation: F = 5
  CHECK(f.fisher(0) == 5.0);
  f.observe(0, g2);  // 0.9·5 + 0.1·9
  CHECK(f.fisher(0) == doctest::Approx(5.4));
  CHECK(f.observations(0) == 2u);
  f.set_range(0, 3.0);
  const double delta = 3.0 / 15.0;
  CHECK(f.sensitivity(any_layer, 0, {4, 2}) == doctest::Approx(5.4 * delta * delta / 12.0));
  CHECK(f.sensitivity(any_layer, 0, {16, 2}) == 0.0);
  CHECK(std::isnan(f.sensitivity(any_layer, 1, {4, 2})));  // no range yet
  CHECK(f.try_set_range(1, 0.0).code() == mpq::errc::invalid_argument);
  CHECK(f.try_observe(2, g1).code() == mpq::errc::out_of_range);
  const std::vector<float> inf = {INFINITY};
  CHECK(f.try_observe(1, inf).code() == mpq::errc::not_finite);
  CHECK(f.observations(1) == 0u);
  CHECK(mpq::fisher_sensitivity::try_make(1, mpq::operand::weights, 1.0).error().code() ==
        mpq::errc::invalid_argument);
  mpq::fisher_sensitivity fa(1, mpq::operand::activations);
  fa.set_fisher(0, 2.0);
  fa.set_range(0, 1.0);
  CHECK(fa.sensitivity(any_layer, 0, {2, 1}) == doctest::Approx(2.0 / 12.0));  // reads A
}

TEST_CASE("tables and the α combination") {
  mpq::sensitivity_table t;
  t.set(2, {4, 8}, 0.5);
  CHECK(t.sensitivity(any_layer, 2, {4, 8}) == 0.5);
  CHECK(std::isnan(t.sensitivity(any_layer, 2, {8, 4})));
  CHECK(std::isnan(t.sensitivity(any_layer, 9, {4, 8})));
  CHECK(t.try_set(0, {4, 8}, NAN).code() == mpq::errc::not_finite);
  mpq::per_bit_sensitivity w(mpq::operand::weights), a(mpq::operand::activations);
  w.set(0, 4, 1.0);
  a.set(0, 8, 0.25);
  CHECK(w.at(0, 32) == 0.0);
  const mpq::combined_sensitivity both(w, a, 3.0);
  CHECK(both.sensitivity(any_layer, 0, {4, 8}) == 0.25 + 3.0 * 1.0);
  CHECK(std::isnan(both.sensitivity(any_layer, 0, {2, 8})));
}

TEST_CASE("synthetic_sensitivity: 4^-b shape, keyed by layer name") {
  mpq::layer_info l = mpq::linear_layer("fc", 100, 10);
  const mpq::synthetic_sensitivity s(5);
  const double w3 = s.sensitivity(l, 0, {3, 32}), w4 = s.sensitivity(l, 0, {4, 32});
  CHECK(w3 == doctest::Approx(4.0 * w4));
  CHECK(s.sensitivity(l, 0, {4, 8}) == doctest::Approx(w4 + s.sensitivity(l, 0, {32, 8})));
  CHECK(s.sensitivity(l, 0, {32, 32}) == 0.0);
  CHECK(s.sensitivity(l, 7, {4, 4}) == s.sensitivity(l, 0, {4, 4}));  // the index does not matter
  mpq::layer_info other = l;
  other.name = std::string("fc2");
  CHECK(s.sensitivity(other, 0, {4, 4}) != s.sensitivity(l, 0, {4, 4}));
}

TEST_CASE("a problem's objective from a model: evaluated per candidate, NaN named") {
  mpq::problem p;
  const int bits[] = {2, 4};
  p.add_layer(mpq::linear_layer("a", 8, 8), bits, bits);
  p.add_layer(mpq::linear_layer("b", 8, 8), bits, bits);
  mpq::fisher_sensitivity f(2);
  f.set_fisher(0, 1.0);
  f.set_range(0, 1.0);
  const mpq::status s = p.try_set_objective(f);
  CHECK(s.code() == mpq::errc::not_finite);
  CHECK(std::string(s.message()).find("layer 1 'b' at (W2, A2)") != std::string::npos);
  CHECK_FALSE(p.has_objective());
  f.set_fisher(1, 4.0);
  f.set_range(1, 1.0);
  REQUIRE(p.try_set_objective(f).ok());
  CHECK(p.objective_table()[p.candidate_offset(1)] == doctest::Approx(4.0 / 9.0 / 12.0));
  CHECK(std::string(p.objective_name()) == "fisher_weight_sensitivity");
}
