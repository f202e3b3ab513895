// Shared pieces of the training strategies: softmax, SGD, slots, derivation, checkpoints.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "mpq/cost/bitops.hpp"
#include "mpq/search/training/categorical.hpp"
#include "mpq/search/training/checkpoint.hpp"
#include "mpq/search/ilp.hpp"
#include "mpq/search/training/sgd.hpp"
#include "mpq/search/training/training_concepts.hpp"

// The concept wall's negative side (each strategy's positive static_assert is in its own test file):
// one-shot strategies, quantizers and plain types are not training strategies.
static_assert(!mpq::TrainingStrategy<mpq::ilp_search>);
static_assert(!mpq::TrainingStrategy<mpq::sgd_optimizer>);
static_assert(!mpq::TrainingStrategy<int>);
static_assert(!mpq::HasTrainableParameters<mpq::best_feasible_checkpoint>);

TEST_CASE("softmax sums to one and its backward matches finite differences") {
  const std::vector<float> logits{0.3f, -1.2f, 2.0f, 0.0f};
  std::vector<float> p(4);
  mpq::softmax(logits, p);
  double sum = 0.0;
  for (float v : p) sum += v;
  CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(mpq::argmax(p) == 2);
  // L = Σ c_i π_i; ∂L/∂logit_k by the Jacobian vs central differences.
  const std::vector<double> c{1.0, -2.0, 0.5, 3.0};
  std::vector<float> g(4, 0.0f);
  mpq::softmax_backward(p, c, g);
  for (std::size_t k = 0; k < 4; ++k) {
    auto loss = [&](float delta) {
      std::vector<float> l = logits, q(4);
      l[k] += delta;
      mpq::softmax(l, q);
      double s = 0.0;
      for (std::size_t i = 0; i < 4; ++i) s += c[i] * q[i];
      return s;
    };
    const double fd = (loss(1e-3f) - loss(-1e-3f)) / 2e-3;
    CHECK(g[k] == doctest::Approx(fd).epsilon(2e-3));
  }
}

TEST_CASE("sample_categorical follows the probabilities") {
  const std::vector<float> p{0.1f, 0.6f, 0.3f};
  std::uint64_t state = 42;
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 20000; ++i) ++counts[mpq::sample_categorical(p, state)];
  CHECK(counts[0] / 20000.0 == doctest::Approx(0.1).epsilon(0.1));
  CHECK(counts[1] / 20000.0 == doctest::Approx(0.6).epsilon(0.05));
  CHECK(counts[2] / 20000.0 == doctest::Approx(0.3).epsilon(0.08));
}

TEST_CASE("sgd follows torch.optim.SGD's rule") {
  mpq::sgd_optimizer opt({0.1f, 0.9f, 0.01f});
  std::vector<float> theta{1.0f, -2.0f};
  const std::vector<float> g{0.5f, 0.25f};
  opt.step(theta, g);
  // first step: v = g + wd θ; θ -= lr v
  const float v0 = 0.5f + 0.01f * 1.0f, v1 = 0.25f + 0.01f * -2.0f;
  CHECK(theta[0] == doctest::Approx(1.0f - 0.1f * v0));
  CHECK(theta[1] == doctest::Approx(-2.0f - 0.1f * v1));
  const float t0 = theta[0];
  opt.step(theta, g);
  const float v0b = 0.9f * v0 + (0.5f + 0.01f * t0);
  CHECK(theta[0] == doctest::Approx(t0 - 0.1f * v0b));
  const std::vector<float> bad{1.0f};
  CHECK(opt.try_step(theta, bad).code() == mpq::errc::shape_mismatch);
  const std::vector<float> nan_g{NAN, 0.0f};
  const auto before = theta;
  CHECK(opt.try_step(theta, nan_g).code() == mpq::errc::not_finite);
  CHECK(theta == before);
  CHECK(!mpq::sgd_optimizer::try_make({0.0f, 0.0f, 0.0f}));
  CHECK(!mpq::sgd_optimizer::try_make({0.1f, 1.0f, 0.0f}));
}

TEST_CASE("best_feasible_checkpoint keeps only states within every budget") {
  mpq::problem p;
  const int bits[] = {2, 4, 8};
  p.add_layer(mpq::linear_layer("a", 10, 10), bits, bits);
  p.add_layer(mpq::linear_layer("b", 10, 10), bits, bits);
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));
  mpq::best_feasible_checkpoint ck;
  const std::vector<float> theta{1.0f, 2.0f};
  const std::vector<mpq::bit_pair> over{{8, 8}, {4, 4}}, ok_low{{2, 2}, {4, 4}}, ok_high{{4, 4}, {4, 4}};
  CHECK(!*ck.try_offer(p, over, theta, 0.9, 1));
  CHECK(!ck.has_value());
  CHECK(*ck.try_offer(p, ok_low, theta, 0.5, 2));
  CHECK(!*ck.try_offer(p, ok_high, theta, 0.4, 3));  // feasible, worse score
  CHECK(*ck.try_offer(p, ok_high, theta, 0.7, 4));
  CHECK(ck.best().step == 4);
  CHECK(ck.best().bits == ok_high);
  CHECK(!*ck.try_offer(p, over, theta, 0.99, 5));  // better score, breaks the budget
  CHECK(ck.best().score == 0.7);
  CHECK(ck.try_offer(p, ok_low, theta, NAN, 6).error().code() == mpq::errc::not_finite);
}
