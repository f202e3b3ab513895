// LIMPQ indicator training: per-bit steps, the pass schedule, clipping, indicators and the ILP.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "mpq/cost/bitops.hpp"
#include "mpq/search/training/limpq.hpp"
#include "mpq/search/training/training_concepts.hpp"
#include "training_test_util.hpp"

static_assert(mpq::TrainingStrategy<mpq::limpq_training>);

namespace {
const int bits[] = {2, 3, 4, 5, 6};
}

TEST_CASE("limpq: one step per width and operand; uniform passes, then a random mixed one") {
  mpq::problem p = mpq_test::three_layer_problem(bits, bits);
  mpq::limpq_training s(p);
  CHECK(s.parameter_count() == 2 * 2 * 5);
  REQUIRE(s.pass_count() == 6);
  CHECK(s.widths()[0] == 6);
  for (std::size_t k = 0; k < 5; ++k) {
    REQUIRE(s.try_begin_pass(k).ok());
    CHECK(s.current_bits(1) == mpq::bit_pair{6 - static_cast<int>(k), 6 - static_cast<int>(k)});
    CHECK(s.current_bits(2) == s.current_bits(1));
    CHECK(s.current_bits(0) == mpq::bit_pair{8, 8});
  }
  std::set<int> seen;
  for (int batch = 0; batch < 200; ++batch) {
    REQUIRE(s.try_begin_pass(5).ok());
    seen.insert(s.current_bits(1).w);
    CHECK(s.current_bits(1).w == s.current_bits(1).a);
  }
  CHECK(seen.size() == 5);
  CHECK(s.try_begin_pass(6).code() == mpq::errc::out_of_range);
  // Same seed, same draws; tied layers draw together.
  p.tie(1, 2);
  mpq::limpq_training a(p), b(p);
  for (int batch = 0; batch < 20; ++batch) {
    REQUIRE(a.try_begin_pass(5).ok());
    REQUIRE(b.try_begin_pass(5).ok());
    CHECK(a.current_bits(1) == b.current_bits(1));
    CHECK(a.current_bits(1) == a.current_bits(2));
  }
}

TEST_CASE("limpq: a pass quantizes with its width's step and accumulates only that step's gradient") {
  mpq::problem p = mpq_test::three_layer_problem(bits, bits);
  mpq::limpq_training s(p);
  const auto w = mpq_test::normal_values(120, 1, 0.2);
  std::vector<float> y(w.size());
  REQUIRE(s.try_begin_pass(2).ok());  // 4 bits
  REQUIRE(s.try_forward(1, mpq::operand::weights, w, y).ok());
  for (int b : bits) CHECK(s.step(1, mpq::operand::weights, b) == *mpq::try_lsq_init_weights(w, b));
  const auto q = *mpq::lsq_quantizer<>::try_make(4, mpq::signed_codes, s.step(1, mpq::operand::weights, 4),
                                                 mpq::lsq_options::limpq_pretraining());
  for (std::size_t k = 0; k < w.size(); ++k) CHECK(y[k] == q.fake_quantize(w[k]));
  const auto g = mpq_test::normal_values(w.size(), 2, 10.0);
  s.zero_gradients();
  REQUIRE(s.try_backward(1, mpq::operand::weights, w, g, {}).ok());
  for (int b : bits) {
    const float gb = s.gradients()[s.parameter_offset(1, mpq::operand::weights, b)];
    CHECK((b == 4 ? gb != 0.0f : gb == 0.0f));
  }
  // Clipping to ±1 (LIMPQ's process.py).
  s.gradients()[0] = 7.0f;
  s.gradients()[1] = -3.0f;
  REQUIRE(s.try_prepare_update().ok());
  CHECK(s.gradients()[0] == 1.0f);
  CHECK(s.gradients()[1] == -1.0f);
}

TEST_CASE("limpq: indicators need every step trained; the ILP picks bits where steps fall fastest") {
  mpq::problem p = mpq_test::three_layer_problem(bits, bits);
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));
  mpq::limpq_training s(p);
  CHECK(s.try_indicators().error().code() == mpq::errc::invalid_argument);
  // Synthetic trained steps: fc2's fall steeply with bits (important), fc3's barely.
  const auto w = mpq_test::normal_values(120, 3, 0.2);
  const auto x = mpq_test::normal_values(12, 4, 1.0, 0.5);
  std::vector<float> y(120);
  for (std::size_t k = 0; k < s.pass_count() - 1; ++k) {
    REQUIRE(s.try_begin_pass(k).ok());
    for (std::size_t l = 1; l < 3; ++l) {
      REQUIRE(s.try_forward(l, mpq::operand::weights, std::span<const float>(w.data(), l == 1 ? 120 : 40),
                            std::span<float>(y.data(), l == 1 ? 120 : 40)).ok());
      REQUIRE(s.try_forward(l, mpq::operand::activations, std::span<const float>(x.data(), l == 1 ? 12 : 10),
                            std::span<float>(y.data(), l == 1 ? 12 : 10)).ok());
    }
  }
  for (int b : bits)
    for (mpq::operand which : {mpq::operand::weights, mpq::operand::activations}) {
      s.parameters()[s.parameter_offset(1, which, b)] = static_cast<float>(std::ldexp(1.0, 6 - b));
      s.parameters()[s.parameter_offset(2, which, b)] = static_cast<float>(0.1 + 0.01 * (6 - b));
    }
  auto ind = s.try_indicators();
  REQUIRE(ind);
  CHECK(ind->indicator(1, mpq::operand::weights, 2) == 16.0);
  mpq::search_result r;
  REQUIRE(s.try_derive(r).ok());
  CHECK(std::string(r.strategy) == "limpq");
  CHECK(r.constraints[0].use <= r.constraints[0].budget);
  CHECK(r.bits[1].w > r.bits[2].w);
  CHECK(r.proven_optimal);
  // A non-monotone indicator is an outlier that the clean-up forbids.
  s.parameters()[s.parameter_offset(2, mpq::operand::weights, 3)] = 0.01f;  // I(3) < I(4)
  auto cleaned = s.try_indicators();
  REQUIRE(cleaned);
  CHECK(cleaned->indicator(2, mpq::operand::weights, 3) == mpq::limpq_indicators::outlier_penalty);
}

TEST_CASE("limpq: construction rules") {
  const int ab[] = {2, 4};
  CHECK(mpq::limpq_training::try_make(mpq_test::three_layer_problem(bits, ab)).error().code() ==
        mpq::errc::invalid_argument);
  const int one[] = {1, 2};
  CHECK(!mpq::limpq_training::try_make(mpq_test::three_layer_problem(one, one)));
}
