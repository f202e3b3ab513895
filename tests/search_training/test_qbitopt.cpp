// QBitOpt: LSQ steps, Fisher from the host's gradients, re-solves every T steps within the budget,
// range-keeping rescale of the steps, freezing.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "mpq/cost/bitops.hpp"
#include "mpq/search/exhaustive.hpp"
#include "mpq/search/ilp.hpp"
#include "mpq/search/training/qbitopt.hpp"
#include "mpq/search/training/training_concepts.hpp"
#include "training_test_util.hpp"

static_assert(mpq::TrainingStrategy<mpq::qbitopt_training<>>);
static_assert(mpq::TrainingStrategy<mpq::qbitopt_training<mpq::ilp_search>>);
static_assert(mpq::TrainingStrategy<mpq::qbitopt_training<mpq::exhaustive_search>>);

namespace {
const int bits2to8[] = {2, 3, 4, 5, 6, 7, 8};

mpq::problem budgeted(int w, int a) {
  mpq::problem p = mpq_test::three_layer_problem(bits2to8, bits2to8);
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(w, a));
  return p;
}

mpq::qbitopt_options schedule(std::uint64_t total, std::uint64_t every) {
  mpq::qbitopt_options o;
  o.total_steps = total;
  o.resolve_every = every;
  return o;
}

bool within(const mpq::problem& p, const std::vector<mpq::bit_pair>& bits) {
  for (std::size_t c = 0; c < p.constraint_count(); ++c)
    if (!p.within_budget(c, p.cost(c, bits))) return false;
  return true;
}
}  // namespace

TEST_CASE("qbitopt: starts at the largest uniform pair within the budget") {
  const auto p = budgeted(4, 4);
  mpq::qbitopt_training<> s(p, schedule(100, 10));
  CHECK(s.current_bits(1) == mpq::bit_pair{4, 4});
  CHECK(s.current_bits(2) == mpq::bit_pair{4, 4});
  CHECK(s.current_bits(0) == mpq::bit_pair{8, 8});
  REQUIRE(s.history().size() == 1);
  mpq::search_result r;
  const auto st = s.try_derive(r);
  INFO(std::string(st.message()));
  REQUIRE(st.ok());
  CHECK(std::string(r.strategy) == "qbitopt");
  CHECK(r.constraints[0].use <= r.constraints[0].budget);
  CHECK(mpq::qbitopt_training<>::try_make(p, schedule(0, 10)).error().code() == mpq::errc::invalid_argument);
  // A budget below every allocation: infeasible at construction.
  mpq::problem tight = mpq_test::three_layer_problem(bits2to8, bits2to8);
  tight.add_constraint(mpq::bitops{}, mpq::budget::absolute(10.0));
  CHECK(mpq::qbitopt_training<>::try_make(tight, schedule(10, 5)).error().code() == mpq::errc::infeasible);
}

TEST_CASE("qbitopt: LSQ forward with lazily initialised steps; backward feeds the Fisher EMA") {
  const auto p = budgeted(4, 4);
  mpq::qbitopt_training<> s(p, schedule(100, 10));
  const auto w = mpq_test::normal_values(120, 1, 0.2);
  std::vector<float> y(w.size());
  CHECK(!s.initialised(1, mpq::operand::weights));
  REQUIRE(s.try_forward(1, mpq::operand::weights, w, y).ok());
  CHECK(s.parameters()[s.parameter_offset(1, mpq::operand::weights)] == *mpq::try_lsq_init_weights(w, 4));
  const auto q = *s.try_quantizer(1, mpq::operand::weights);
  for (std::size_t k = 0; k < w.size(); ++k) CHECK(y[k] == q.fake_quantize(w[k]));
  const auto g = mpq_test::normal_values(w.size(), 2);
  s.zero_gradients();
  REQUIRE(s.try_backward(1, mpq::operand::weights, w, g, {}).ok());
  double sq = 0.0;
  for (float v : g) sq += static_cast<double>(v) * v;
  CHECK(s.weight_fisher().fisher(1) == doctest::Approx(sq));
  CHECK(s.gradients()[s.parameter_offset(1, mpq::operand::weights)] != 0.0f);
}

TEST_CASE_TEMPLATE("qbitopt: re-solves every T steps, every allocation within the budget, steps keep their range",
                   Solver, mpq::convex_search, mpq::ilp_search) {
  const auto p = budgeted(4, 4);
  mpq::qbitopt_training<Solver> s(p, schedule(100, 10));
  const auto w1 = mpq_test::normal_values(120, 3, 0.2), w2 = mpq_test::normal_values(40, 4, 0.2);
  const auto x1 = mpq_test::normal_values(12, 5, 1.0, 0.5), x2 = mpq_test::normal_values(10, 6, 1.0, 0.5);
  std::vector<float> tmp(120);
  REQUIRE(s.try_forward(1, mpq::operand::weights, w1, std::span<float>(tmp.data(), 120)).ok());
  REQUIRE(s.try_forward(2, mpq::operand::weights, w2, std::span<float>(tmp.data(), 40)).ok());
  REQUIRE(s.try_forward(1, mpq::operand::activations, x1, std::span<float>(tmp.data(), 12)).ok());
  REQUIRE(s.try_forward(2, mpq::operand::activations, x2, std::span<float>(tmp.data(), 10)).ok());
  const float s1_before = s.parameters()[s.parameter_offset(1, mpq::operand::weights)];
  // fc2's weights are far more sensitive than anything else.
  const auto big = mpq_test::normal_values(120, 7, 50.0), small2 = mpq_test::normal_values(40, 8, 1e-3);
  const auto small_a1 = mpq_test::normal_values(12, 9, 1e-3), small_a2 = mpq_test::normal_values(10, 10, 1e-3);
  for (int step = 0; step < 10; ++step) {
    REQUIRE(s.try_backward(1, mpq::operand::weights, w1, big, {}).ok());
    REQUIRE(s.try_backward(2, mpq::operand::weights, w2, small2, {}).ok());
    REQUIRE(s.try_backward(1, mpq::operand::activations, x1, small_a1, {}).ok());
    REQUIRE(s.try_backward(2, mpq::operand::activations, x2, small_a2, {}).ok());
    REQUIRE(s.try_finish_update().ok());
  }
  REQUIRE(s.history().size() == 2);
  CHECK(s.current_bits(1).w > 4);  // the sensitive layer got more weight bits
  CHECK(within(p, s.history().back()));
  const int b = s.current_bits(1).w;
  const float s1_after = s.parameters()[s.parameter_offset(1, mpq::operand::weights)];
  CHECK(s1_after * (std::ldexp(1.0f, b) - 1.0f) == doctest::Approx(s1_before * 15.0f).epsilon(1e-5));
  mpq::search_result r;
  REQUIRE(s.try_derive(r).ok());
  CHECK(r.bits == s.history().back());
  CHECK(std::string(r.strategy) == "qbitopt");
  if constexpr (std::is_same_v<Solver, mpq::ilp_search>) CHECK(r.proven_optimal);
}

TEST_CASE("qbitopt: the bits are frozen for the last part of training") {
  const auto p = budgeted(4, 4);
  mpq::qbitopt_options o = schedule(40, 5);
  o.freeze_fraction = 0.5;  // re-solves at steps 5, 10, 15 only
  mpq::qbitopt_training<> s(p, o);
  for (int step = 0; step < 40; ++step) REQUIRE(s.try_finish_update().ok());
  CHECK(s.frozen());
  CHECK(s.history().size() == 1 + 3);
  for (const auto& a : s.history()) CHECK(within(p, a));
}
