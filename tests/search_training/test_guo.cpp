// Guo et al.'s two readings: softmax over widths with an expected-size penalty, and a real-valued
// width interpolating the floor and ceil quantizers.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "mpq/cost/weight_size.hpp"
#include "mpq/search/training/guo.hpp"
#include "mpq/search/training/training_concepts.hpp"
#include "training_test_util.hpp"

static_assert(mpq::TrainingStrategy<mpq::guo_softmax_training>);
static_assert(mpq::TrainingStrategy<mpq::guo_interpolation_training>);

namespace {
const int w_bits[] = {1, 2, 4, 8};
const int consecutive[] = {2, 3, 4, 5, 6};
const int a8[] = {8};
const int a32[] = {32};
}  // namespace

TEST_CASE("guo_softmax: weight logits only; one activation width per layer") {
  const auto p = mpq_test::three_layer_problem(w_bits, a8);
  mpq::guo_softmax_training s(p);
  // 2 searched layers x 4 logits + 3 activation steps (every layer's input is 8-bit).
  CHECK(s.parameter_count() == 2 * 4 + 3);
  CHECK(s.current_bits(1).a == 8);
  const int two_a[] = {4, 8};
  auto bad = mpq::guo_softmax_training::try_make(mpq_test::three_layer_problem(w_bits, two_a));
  REQUIRE(!bad);
  CHECK(std::string(bad.error().message()).find("activation width") != std::string::npos);
  const auto pf = mpq_test::three_layer_problem(w_bits, a32);
  CHECK(mpq::guo_softmax_training(pf).parameter_count() == 2 * 4 + 1);  // fc1's fixed (8, 8) input
}

TEST_CASE("guo_softmax: per-width quantizers, mixture and size-penalty gradients") {
  const auto p = mpq_test::three_layer_problem(w_bits, a32);
  mpq::guo_softmax_options o;
  o.lambda = 2.0;
  mpq::guo_softmax_training s(p, o);
  auto theta = s.parameters();
  for (std::size_t i = 0; i < 8; ++i) theta[i] = 0.5f * std::sin(2.0f * static_cast<float>(i));
  const auto w = mpq_test::normal_values(120, 11, 0.2);
  // The 1-bit branch is ±mean|W|, the 2..8-bit branches are symmetric max-abs grids.
  const auto m = *mpq::try_moments(w);
  std::vector<float> pi(4), y(w.size());
  REQUIRE(s.try_mixing_weights(2, pi).ok());
  REQUIRE(s.try_forward(2, mpq::operand::weights, w, y).ok());
  for (std::size_t k = 0; k < w.size(); ++k) {
    double expect = pi[0] * (w[k] < 0.0f ? -m.mean_abs : m.mean_abs);
    for (int i = 1; i < 4; ++i) {
      const int b = w_bits[i];
      const double step = m.max_abs / (std::ldexp(1.0, b - 1) - 1.0);
      expect += pi[static_cast<std::size_t>(i)] * step * std::nearbyint(w[k] / step);
    }
    CHECK(y[k] == doctest::Approx(expect).epsilon(1e-4));
  }
  // Logit gradients of L = Σ c·y + R against finite differences.
  const auto c = mpq_test::normal_values(w.size(), 12);
  auto loss = [&] {
    std::vector<float> out(w.size());
    REQUIRE(s.try_forward(2, mpq::operand::weights, w, out).ok());
    double l = s.regularizer();
    for (std::size_t k = 0; k < out.size(); ++k) l += c[k] * static_cast<double>(out[k]);
    return l;
  };
  s.zero_gradients();
  std::vector<float> gx(w.size());
  REQUIRE(s.try_backward(2, mpq::operand::weights, w, c, gx).ok());
  s.add_regularizer_gradients();
  std::vector<float> th(theta.begin(), theta.end());
  for (std::size_t k = s.parameter_offset(2); k < s.parameter_offset(2) + 4; ++k) {
    const double fd = mpq_test::central_difference(th, k, 1e-2f, [&] {
      std::copy(th.begin(), th.end(), theta.begin());
      return loss();
    });
    std::copy(th.begin(), th.end(), theta.begin());
    CHECK(s.gradients()[k] == doctest::Approx(fd).epsilon(2e-3).scale(1e-3));
  }
  // The penalty is λ Σ n E[b] / (32 Σ n).
  const double n_total = 16 * 12 + 12 * 10 + 10 * 4;
  const double size = 16 * 12 * 8 + 12 * 10 * s.expected_bits(1) + 10 * 4 * s.expected_bits(2);
  CHECK(s.expected_size_bits() == doctest::Approx(size));
  CHECK(s.regularizer() == doctest::Approx(2.0 * size / (32.0 * n_total)));
}

TEST_CASE("guo_softmax: activation steps are LSQ, initialised from the first batch") {
  const auto p = mpq_test::three_layer_problem(w_bits, a8);
  mpq::guo_softmax_training s(p);
  const auto x = mpq_test::normal_values(64, 5, 1.0, 0.5);
  std::vector<float> y(x.size());
  const std::size_t off = s.activation_step_offset(1);
  REQUIRE(off != mpq::detail::no_slot);
  std::vector<float> gx(x.size());
  CHECK(!s.try_backward(1, mpq::operand::activations, x, x, gx).ok());  // before any forward
  REQUIRE(s.try_forward(1, mpq::operand::activations, x, y).ok());
  const float s0 = *mpq::try_lsq_init_activations(x, 8);
  CHECK(s.parameters()[off] == s0);
  const auto q = *mpq::lsq_quantizer<>::try_make(8, mpq::unsigned_codes, s0);
  for (std::size_t k = 0; k < x.size(); ++k) CHECK(y[k] == q.fake_quantize(x[k]));
  s.parameters()[off] = -1.0f;  // an optimizer overshoot is projected back to a positive step
  REQUIRE(s.try_finish_update().ok());
  CHECK(s.parameters()[off] > 0.0f);
}

TEST_CASE("guo_interpolation: Ŵ interpolates the floor and ceil quantizers; ∂Ŵ/∂β = Q_hi - Q_lo") {
  const auto p = mpq_test::three_layer_problem(consecutive, a32);
  mpq::guo_interpolation_options o;
  o.lambda = 0.5;
  mpq::guo_interpolation_training s(p, o);
  CHECK(s.real_bits(1) == 6.0f);  // starts at the largest width
  const std::size_t off = s.parameter_offset(2);
  s.parameters()[off] = 3.3f;
  const auto w = mpq_test::normal_values(90, 21, 0.5);
  const auto m = *mpq::try_moments(w);
  auto grid = [&](int b, float v) {
    const double step = m.max_abs / (std::ldexp(1.0, b - 1) - 1.0);
    return step * std::nearbyint(v / step);
  };
  std::vector<float> y(w.size());
  REQUIRE(s.try_forward(2, mpq::operand::weights, w, y).ok());
  for (std::size_t k = 0; k < w.size(); ++k)
    CHECK(y[k] == doctest::Approx(0.7 * grid(3, w[k]) + 0.3 * grid(4, w[k])).epsilon(1e-4));
  const auto c = mpq_test::normal_values(w.size(), 22);
  s.zero_gradients();
  REQUIRE(s.try_backward(2, mpq::operand::weights, w, c, {}).ok());
  s.add_regularizer_gradients();
  double expect = 0.5 * 10 * 4 / (32.0 * (16 * 12 + 12 * 10 + 10 * 4));
  for (std::size_t k = 0; k < w.size(); ++k) expect += c[k] * (grid(4, w[k]) - grid(3, w[k]));
  CHECK(s.gradients()[off] == doctest::Approx(expect).epsilon(1e-4));
  // At an integer β the layer is exactly Q_β; at the top it is Q_{b_max}.
  s.parameters()[off] = 4.0f;
  REQUIRE(s.try_forward(2, mpq::operand::weights, w, y).ok());
  for (std::size_t k = 0; k < w.size(); ++k) CHECK(y[k] == doctest::Approx(grid(4, w[k])).epsilon(1e-5));
  s.parameters()[off] = 6.0f;
  REQUIRE(s.try_forward(2, mpq::operand::weights, w, y).ok());
  for (std::size_t k = 0; k < w.size(); ++k) CHECK(y[k] == doctest::Approx(grid(6, w[k])).epsilon(1e-5));
}

TEST_CASE("guo_interpolation: projection, rounding and derivation") {
  mpq::problem p = mpq_test::three_layer_problem(consecutive, a32);
  p.add_constraint(mpq::weight_size{}, mpq::budget::uniform(4, 32));
  mpq::guo_interpolation_training s(p);
  s.parameters()[s.parameter_offset(1)] = 9.0f;
  s.parameters()[s.parameter_offset(2)] = 0.5f;
  REQUIRE(s.try_finish_update().ok());
  CHECK(s.real_bits(1) == 6.0f);
  CHECK(s.real_bits(2) == 2.0f);
  s.parameters()[s.parameter_offset(1)] = 3.4f;
  s.parameters()[s.parameter_offset(2)] = 4.6f;
  CHECK(s.current_bits(1).w == 3);
  CHECK(s.current_bits(2).w == 5);
  mpq::search_result r;
  REQUIRE(s.try_derive(r).ok());
  CHECK(r.bits[1].w == 3);
  CHECK(r.constraints[0].use <= r.constraints[0].budget);
  mpq::guo_interpolation_options up;
  up.rounding = mpq::guo_rounding::up;
  mpq::guo_interpolation_training t(p, up);
  t.parameters()[t.parameter_offset(1)] = 3.4f;
  CHECK(t.current_bits(1).w == 4);
  const int gap[] = {2, 4};
  CHECK(mpq::guo_interpolation_training::try_make(mpq_test::three_layer_problem(gap, a32)).error().code() ==
        mpq::errc::invalid_argument);
}
