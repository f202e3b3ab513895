// Uhlich et al.: learned (d, q_max) quantizers, memory penalties and their gradients, clipping,
// projection, model selection among checkpoints that meet the budgets.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "mpq/cost/activation_memory.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/bitops.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/search/training/training_concepts.hpp"
#include "mpq/search/training/uhlich.hpp"
#include "training_test_util.hpp"

static_assert(mpq::TrainingStrategy<mpq::uhlich_training<mpq::u3_quantizer>>);
static_assert(mpq::TrainingStrategy<mpq::uhlich_training<mpq::p3_quantizer>>);
static_assert(!mpq::UhlichQuantizer<mpq::u1_quantizer>);

namespace {
const int bits2to8[] = {2, 3, 4, 5, 6, 7, 8};
const int abits1to8[] = {1, 2, 3, 4, 5, 6, 7, 8};
}  // namespace

TEST_CASE("uhlich: Sony's inits, and the quantizers are U3's") {
  const auto p = mpq_test::three_layer_problem(bits2to8, abits1to8);
  mpq::uhlich_training<> s(p);
  CHECK(s.parameter_count() == 2 * 2 + 2 * 2);
  // Activations: d0 = 2^-3, q_max0 = d0 (2^4 - 1) -> 4 bits unsigned.
  const std::size_t a = s.parameter_offset(1, mpq::operand::activations);
  CHECK(s.parameters()[a] == 0.125f);
  CHECK(s.parameters()[a + 1] == 1.875f);
  CHECK(s.inferred_bits(1, mpq::operand::activations) == 4);
  const auto w = mpq_test::normal_values(120, 3, 0.1);
  REQUIRE(s.try_init_weights(1, w).ok());
  const auto m = *mpq::try_moments(w);
  const auto t = *mpq::try_uhlich_weight_init(static_cast<float>(m.max_abs), 4);
  const std::size_t o = s.parameter_offset(1, mpq::operand::weights);
  CHECK(s.parameters()[o] == t[0]);
  CHECK(s.parameters()[o + 1] == t[1]);
  CHECK(s.current_bits(1).w == 4);
  CHECK(s.current_bits(0) == mpq::bit_pair{8, 8});
  // forward / backward are the quantizer's.
  const auto q = *s.try_quantizer(1, mpq::operand::weights);
  std::vector<float> y(w.size()), gx(w.size()), gq(2, 0.0f);
  REQUIRE(s.try_forward(1, mpq::operand::weights, w, y).ok());
  for (std::size_t k = 0; k < w.size(); ++k) CHECK(y[k] == q.fake_quantize(w[k]));
  const auto c = mpq_test::normal_values(w.size(), 4);
  s.zero_gradients();
  REQUIRE(s.try_backward(1, mpq::operand::weights, w, c, gx).ok());
  std::vector<float> ref_gx(w.size());
  q.backward(w, c, ref_gx, gq);
  CHECK(gx == ref_gx);
  CHECK(s.gradients()[o] == gq[0]);
  CHECK(s.gradients()[o + 1] == gq[1]);
}

TEST_CASE("uhlich: the weight-memory penalty and its gradient through the bit surrogate") {
  mpq::problem p = mpq_test::three_layer_problem(bits2to8, abits1to8);
  // Budget: 2 bits for the searched layers (fc1 fixed at 8).
  p.add_constraint(mpq::weight_size{}, mpq::budget::absolute(16 * 12 * 8 + (120 + 40) * 2));
  mpq::uhlich_options<mpq::u3_quantizer> o;
  o.lambda_weights = 0.5;
  mpq::uhlich_training<> s(p, o);
  // Every searched layer at 4 bits: S = 1536 + 160·4 bits; excess in KB.
  const double S = 16 * 12 * 8 + 160 * 4, S0 = 16 * 12 * 8 + 160 * 2;
  CHECK(s.constraint_use(0) == doctest::Approx(S));
  const double e = (S - S0) / 8192.0;
  CHECK(s.regularizer() == doctest::Approx(0.5 * e * e));
  s.zero_gradients();
  s.add_regularizer_gradients();
  for (std::size_t l = 1; l < 3; ++l) {
    const auto q = *s.try_quantizer(l, mpq::operand::weights);
    const auto g = q.bits_gradient();
    const double n = static_cast<double>(p.layer(l).weights);
    const std::size_t off = s.parameter_offset(l, mpq::operand::weights);
    CHECK(s.gradients()[off] == doctest::Approx(2 * 0.5 * e / 8192.0 * n * g[0]));
    CHECK(s.gradients()[off + 1] == doctest::Approx(2 * 0.5 * e / 8192.0 * n * g[1]));
    CHECK(s.gradients()[off + 1] > 0.0f);  // a larger range means more bits: the penalty shrinks it
    // Activation parameters get nothing from a weight budget.
    CHECK(s.gradients()[s.parameter_offset(l, mpq::operand::activations)] == 0.0f);
  }
  // Inside the budget the penalty and its gradient vanish.
  mpq::problem loose = mpq_test::three_layer_problem(bits2to8, abits1to8);
  loose.add_constraint(mpq::weight_size{}, mpq::budget::uniform(8, 8));
  mpq::uhlich_training<> t(loose);
  CHECK(t.regularizer() == 0.0);
  t.add_regularizer_gradients();
  for (float g : t.gradients()) CHECK(g == 0.0f);
}

TEST_CASE("uhlich: a peak activation budget pushes only the layer holding the peak") {
  mpq::problem p = mpq_test::three_layer_problem(bits2to8, abits1to8);
  p.add_constraint(mpq::activation_memory(mpq::activation_memory::kind::peak, mpq::memory_unit::bytes),
                   mpq::budget::absolute(4.0));
  mpq::uhlich_options<mpq::u3_quantizer> o;
  o.scale = mpq::uhlich_penalty_scale::budget;
  mpq::uhlich_training<> s(p, o);
  // A_l: fc1 16 (fixed, 8 bits -> 16 bytes), fc2 12·4 bits = 6 bytes, fc3 10·4 bits = 5 bytes.
  CHECK(s.constraint_use(0) == doctest::Approx(16.0));
  s.add_regularizer_gradients();
  for (float g : s.gradients()) CHECK(g == 0.0f);  // the peak is the fixed layer: nothing to learn
  mpq::problem p2 = mpq_test::three_layer_problem(bits2to8, abits1to8);
  const mpq::bit_pair f[] = {{8, 1}};
  p2.fix_layer(0, f[0]);  // fc1: 16 · 1 bit = 2 bytes, so fc2 holds the peak
  p2.add_constraint(mpq::activation_memory(mpq::activation_memory::kind::peak, mpq::memory_unit::bytes),
                    mpq::budget::absolute(4.0));
  mpq::uhlich_training<> s2(p2, o);
  CHECK(s2.constraint_use(0) == doctest::Approx(6.0));
  s2.add_regularizer_gradients();
  CHECK(s2.gradients()[s2.parameter_offset(1, mpq::operand::activations) + 1] > 0.0f);
  CHECK(s2.gradients()[s2.parameter_offset(2, mpq::operand::activations) + 1] == 0.0f);
}

TEST_CASE("uhlich: gradient clipping to ±d while a budget is set, and the projection") {
  mpq::problem p = mpq_test::three_layer_problem(bits2to8, abits1to8);
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(2, 2));
  mpq::uhlich_training<> s(p);
  const std::size_t o = s.parameter_offset(2, mpq::operand::weights);
  const float d = s.parameters()[o];
  s.gradients()[o] = 10.0f;
  s.gradients()[o + 1] = -10.0f;
  REQUIRE(s.try_prepare_update().ok());
  CHECK(s.gradients()[o] == d);
  CHECK(s.gradients()[o + 1] == -d);
  // An optimizer overshoot: d above q_max and out of bounds; projection restores d < q_max.
  s.parameters()[o] = 3.0f;
  s.parameters()[o + 1] = 0.5f;
  CHECK(!s.try_quantizer(2, mpq::operand::weights));
  REQUIRE(s.try_finish_update().ok());
  CHECK(s.parameters()[o] < s.parameters()[o + 1]);
  CHECK(s.parameters()[o] <= 1.0f);
  CHECK(s.try_quantizer(2, mpq::operand::weights).has_value());
  CHECK(s.steps() == 1);
  s.parameters()[o] = NAN;
  CHECK(s.try_finish_update().code() == mpq::errc::not_finite);
  CHECK(s.steps() == 1);
}

TEST_CASE("uhlich: model selection keeps the best checkpoint that meets every budget") {
  mpq::problem p = mpq_test::three_layer_problem(bits2to8, abits1to8);
  p.add_constraint(mpq::weight_size{}, mpq::budget::uniform(3, 8));
  mpq::uhlich_training<> s(p);
  CHECK(!s.meets_constraints());  // 4-bit start
  CHECK(!*s.try_offer_checkpoint(0.9));
  mpq::search_result r;
  CHECK(s.try_derive(r).code() == mpq::errc::infeasible);
  // Shrink both ranges to 3 bits: d = 0.125, q_max = 0.375 -> k = 3 -> 3 bits signed.
  for (std::size_t l = 1; l < 3; ++l) s.parameters()[s.parameter_offset(l, mpq::operand::weights) + 1] = 0.375f;
  CHECK(s.current_bits(1).w == 3);
  CHECK(s.meets_constraints());
  CHECK(*s.try_offer_checkpoint(0.5));
  const auto kept = std::vector<float>(s.parameters().begin(), s.parameters().end());
  CHECK(!*s.try_offer_checkpoint(0.4));
  s.parameters()[s.parameter_offset(1, mpq::operand::weights) + 1] = 0.875f;  // back to 4 bits
  CHECK(!*s.try_offer_checkpoint(0.99));  // better score but over budget
  REQUIRE(s.try_derive(r).ok());
  CHECK(r.bits[1].w == 3);
  CHECK(r.bits[2].w == 3);
  CHECK(r.constraints[0].use <= r.constraints[0].budget);
  REQUIRE(s.try_restore_checkpoint().ok());
  CHECK(std::vector<float>(s.parameters().begin(), s.parameters().end()) == kept);
}

TEST_CASE("uhlich: unsupported budgets and P3") {
  mpq::problem p = mpq_test::three_layer_problem(bits2to8, abits1to8);
  p.add_constraint(mpq::mean_layer_bits{}, mpq::budget::absolute(4.0));
  auto s = mpq::uhlich_training<>::try_make(p);
  REQUIRE(!s);
  CHECK(s.error().code() == mpq::errc::unsupported);
  CHECK(std::string(s.error().message()).find("mean_weight_bits") != std::string::npos);
  const auto q = mpq_test::three_layer_problem(bits2to8, abits1to8);
  mpq::uhlich_training<mpq::p3_quantizer> p3(q);
  CHECK(p3.inferred_bits(1, mpq::operand::weights) == 4);
  CHECK(p3.inferred_bits(1, mpq::operand::activations) == 4);
  const auto x = mpq_test::normal_values(50, 8);
  std::vector<float> y(x.size());
  REQUIRE(p3.try_forward(1, mpq::operand::activations, x, y).ok());
  for (float v : y) CHECK(v >= 0.0f);
}
