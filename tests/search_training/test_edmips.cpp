// EdMIPS: mixtures, their gradients, the complexity loss and its analytic gradient, derivation.
#include <doctest/doctest.h>

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "mpq/cost/bitops.hpp"
#include "mpq/search/training/edmips.hpp"
#include "mpq/search/training/training_concepts.hpp"
#include "training_test_util.hpp"

static_assert(mpq::TrainingStrategy<mpq::edmips_training>);

namespace {
const int w_bits[] = {1, 2, 3, 4};
const int a_bits[] = {2, 3, 4};
}  // namespace

TEST_CASE("edmips: one logit per candidate width, separate for weights and activations") {
  const auto p = mpq_test::three_layer_problem(w_bits, a_bits);
  mpq::edmips_training s(p);
  CHECK(s.parameter_count() == 2 * (4 + 3));
  CHECK(!s.is_searched(0));
  CHECK(s.is_searched(1));
  CHECK(s.logits(1, mpq::operand::weights).size() == 4);
  CHECK(s.logits(2, mpq::operand::activations).size() == 3);
  for (float v : s.parameters()) CHECK(v == 0.01f);
  std::vector<float> pi(4);
  REQUIRE(s.try_mixing_weights(1, mpq::operand::weights, pi).ok());
  for (float v : pi) CHECK(v == doctest::Approx(0.25));
  // Uniform start: E[b_w] = 2.5, E[b_a] = 3.
  CHECK(s.expected_bits(2, mpq::operand::weights) == doctest::Approx(2.5));
  CHECK(s.expected_bits(2, mpq::operand::activations) == doctest::Approx(3.0));
  CHECK(s.current_bits(0) == mpq::bit_pair{8, 8});
}

TEST_CASE("edmips: construction errors name the rule") {
  mpq::problem p;
  const mpq::bit_pair not_grid[] = {{2, 2}, {4, 4}};
  p.add_layer(mpq::linear_layer("x", 4, 4), std::span<const mpq::bit_pair>(not_grid));
  auto s = mpq::edmips_training::try_make(p);
  REQUIRE(!s);
  CHECK(std::string(s.error().message()).find("full grid") != std::string::npos);

  const int eight[] = {4, 8};
  const auto p8 = mpq_test::three_layer_problem(eight, a_bits);
  CHECK(mpq::edmips_training::try_make(p8).has_value());  // 5..8 bits have derived steps
  mpq::edmips_options o;
  o.weight_step_factors[7] = std::nan("");
  auto s8 = mpq::edmips_training::try_make(p8, o);
  REQUIRE(!s8);
  CHECK(std::string(s8.error().message()).find("width 8") != std::string::npos);
  o = {};
  o.eta = -1.0;
  CHECK(mpq::edmips_training::try_make(p8, o).error().code() == mpq::errc::invalid_argument);
}

TEST_CASE("edmips: the weight mixture is the π-weighted sum of the Gaussian quantizers") {
  const auto p = mpq_test::three_layer_problem(w_bits, a_bits);
  mpq::edmips_training s(p);
  auto theta = s.parameters();
  const std::size_t off = s.parameter_offset(1, mpq::operand::weights);
  theta[off + 0] = 0.5f;
  theta[off + 2] = -0.7f;
  const auto w = mpq_test::normal_values(120, 7, 0.3);
  std::vector<float> w_hat(w.size());
  REQUIRE(s.try_forward(1, mpq::operand::weights, w, w_hat).ok());
  std::vector<float> pi(4);
  REQUIRE(s.try_mixing_weights(1, mpq::operand::weights, pi).ok());
  const auto m = *mpq::try_moments(w);
  for (std::size_t k = 0; k < w.size(); ++k) {
    double expect = 0.0;
    for (int b = 1; b <= 4; ++b) {
      const auto q = *mpq::gaussian_quantizer<>::try_make(b, static_cast<float>(m.stddev));
      expect += pi[static_cast<std::size_t>(b - 1)] * q.fake_quantize(w[k]);
    }
    CHECK(w_hat[k] == doctest::Approx(expect).epsilon(1e-5));
  }
}

TEST_CASE("edmips: logit gradients of the mixtures match finite differences") {
  const auto p = mpq_test::three_layer_problem(w_bits, a_bits);
  mpq::edmips_training s(p);
  auto theta = s.parameters();
  for (std::size_t i = 0; i < theta.size(); ++i) theta[i] = 0.3f * std::sin(static_cast<float>(i) + 1.0f);
  for (mpq::operand which : {mpq::operand::weights, mpq::operand::activations}) {
    const auto x = mpq_test::normal_values(200, which == mpq::operand::weights ? 3 : 4, 0.6, 0.4);
    const auto c = mpq_test::normal_values(200, 9);  // L = Σ c_k y_k
    auto loss = [&] {
      std::vector<float> y(x.size());
      REQUIRE(s.try_forward(2, which, x, y).ok());
      double l = 0.0;
      for (std::size_t k = 0; k < y.size(); ++k) l += c[k] * static_cast<double>(y[k]);
      return l;
    };
    s.zero_gradients();
    std::vector<float> grad_x(x.size());
    REQUIRE(s.try_backward(2, which, x, c, grad_x).ok());
    std::vector<float> th(theta.begin(), theta.end());
    const std::size_t off = s.parameter_offset(2, which);
    const std::size_t K = s.widths(2, which).size();
    for (std::size_t i = 0; i < K; ++i) {
      const double fd = mpq_test::central_difference(th, off + i, 1e-2f, [&] {
        std::copy(th.begin(), th.end(), theta.begin());
        return loss();
      });
      std::copy(th.begin(), th.end(), theta.begin());
      CHECK(s.gradients()[off + i] == doctest::Approx(fd).epsilon(1e-3).scale(1.0));
    }
    // Weights: identity STE (Σπ = 1); activations: HWGQ's clamp mask.
    std::vector<float> pi(K);
    REQUIRE(s.try_mixing_weights(2, which, pi).ok());
    for (std::size_t k = 0; k < x.size(); ++k) {
      double dx = 0.0;
      for (std::size_t i = 0; i < K; ++i) {
        const int b = s.widths(2, which)[i];
        const float clip = static_cast<float>(mpq::edmips_hwgq_steps[static_cast<std::size_t>(b - 1)] * ((1 << b) - 1));
        dx += pi[i] * (which == mpq::operand::weights ? 1.0 : (x[k] >= 0.0f && x[k] <= clip ? 1.0 : 0.0));
      }
      CHECK(grad_x[k] == doctest::Approx(c[k] * dx).epsilon(1e-5));
    }
  }
}

TEST_CASE("edmips: the complexity gradient is the analytic softmax gradient") {
  const auto p = mpq_test::three_layer_problem(w_bits, a_bits);
  mpq::edmips_options o;
  o.eta = 0.5;
  mpq::edmips_training s(p, o);
  auto theta = s.parameters();
  for (std::size_t i = 0; i < theta.size(); ++i) theta[i] = 0.4f * std::cos(1.7f * static_cast<float>(i));
  // C = (1/f1) Σ MAC E_w E_a, f1 = MACs of fc2 (the first searched layer).
  const double f1 = 12.0 * 10.0;
  double expect = 0.0;
  for (std::size_t l = 1; l < 3; ++l)
    expect += static_cast<double>(p.layer(l).macs) * s.expected_bits(l, mpq::operand::weights) *
              s.expected_bits(l, mpq::operand::activations);
  CHECK(s.complexity() == doctest::Approx(expect / f1));
  CHECK(s.regularizer() == doctest::Approx(0.5 * expect / f1));
  s.zero_gradients();
  s.add_regularizer_gradients();
  std::vector<float> th(theta.begin(), theta.end());
  for (std::size_t k = 0; k < th.size(); ++k) {
    const double fd = mpq_test::central_difference(th, k, 1e-2f, [&] {
      std::copy(th.begin(), th.end(), theta.begin());
      return s.regularizer();
    });
    std::copy(th.begin(), th.end(), theta.begin());
    CHECK(s.gradients()[k] == doctest::Approx(fd).epsilon(1e-3).scale(1e-3));
  }
}

TEST_CASE("edmips: argmax derivation gives a search_result checked against the budget") {
  const auto base = mpq_test::three_layer_problem(w_bits, a_bits);
  mpq::problem p = base;
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(3, 3));
  mpq::edmips_training s(p);
  auto theta = s.parameters();
  // Push layer fc2 to (W2, A3), fc3 to (W4, A2).
  theta[s.parameter_offset(1, mpq::operand::weights) + 1] = 2.0f;
  theta[s.parameter_offset(1, mpq::operand::activations) + 1] = 2.0f;
  theta[s.parameter_offset(2, mpq::operand::weights) + 3] = 2.0f;
  theta[s.parameter_offset(2, mpq::operand::activations) + 0] = 2.0f;
  CHECK(s.current_bits(1) == mpq::bit_pair{2, 3});
  CHECK(s.current_bits(2) == mpq::bit_pair{4, 2});
  mpq::search_result r;
  REQUIRE(s.try_derive(r).ok());
  CHECK(std::string(r.strategy) == "edmips");
  CHECK(r.bits[1] == mpq::bit_pair{2, 3});
  CHECK(r.bits[2] == mpq::bit_pair{4, 2});
  REQUIRE(r.constraints.size() == 1);
  CHECK(r.constraints[0].use <= r.constraints[0].budget);
  CHECK(r.constraints[0].use == doctest::Approx(16 * 12 * 64 + 120 * 6 + 40 * 8));
  CHECK(r.objective > 0.0);  // -log of probabilities < 1

  // Every layer at its dearest pair breaks the W3A3 budget: infeasible, result untouched.
  theta[s.parameter_offset(1, mpq::operand::weights) + 3] = 5.0f;
  theta[s.parameter_offset(1, mpq::operand::activations) + 2] = 5.0f;
  theta[s.parameter_offset(2, mpq::operand::activations) + 2] = 5.0f;
  mpq::search_result r2 = r;
  const auto st = s.try_derive(r2);
  CHECK(st.code() == mpq::errc::infeasible);
  CHECK(std::string(st.message()).find("bitops") != std::string::npos);
  CHECK(r2.bits == r.bits);
}

TEST_CASE("edmips: sampled derivation follows the distributions and is reproducible") {
  const auto p = mpq_test::three_layer_problem(w_bits, a_bits);
  mpq::edmips_options o;
  o.derivation = mpq::edmips_derivation::sample;
  o.sample_seed = 5;
  mpq::edmips_training s(p, o);
  mpq::search_result a, b;
  REQUIRE(s.try_derive(a).ok());
  REQUIRE(s.try_derive(b).ok());
  CHECK(a.bits == b.bits);
  // A near-certain distribution is always sampled at its mode.
  auto theta = s.parameters();
  theta[s.parameter_offset(1, mpq::operand::weights) + 2] = 30.0f;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    mpq::edmips_options o2 = o;
    o2.sample_seed = seed;
    mpq::edmips_training t(p, o2);
    std::copy(theta.begin(), theta.end(), t.parameters().begin());
    mpq::search_result r;
    REQUIRE(t.try_derive(r).ok());
    CHECK(r.bits[1].w == 3);
  }
}

TEST_CASE("edmips: tied layers share their logits and always agree") {
  mpq::problem p = mpq_test::three_layer_problem(w_bits, a_bits);
  p.tie(1, 2, mpq::tie_kind::weights);
  mpq::edmips_training s(p);
  CHECK(s.parameter_count() == 4 + 3 + 3);
  CHECK(s.parameter_offset(1, mpq::operand::weights) == s.parameter_offset(2, mpq::operand::weights));
  CHECK(s.parameter_offset(1, mpq::operand::activations) != s.parameter_offset(2, mpq::operand::activations));
}
