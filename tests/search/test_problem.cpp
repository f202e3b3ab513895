// The problem model: building it (validation that names the rule and changes nothing), every budget
// kind, ties and fixed layers, forbidden choices, and the built-in network tables.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "mpq/cost/activation_memory.hpp"
#include "mpq/cost/bitops.hpp"
#include "mpq/cost/latency_table.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/search/exhaustive.hpp"
#include "mpq/search/ilp.hpp"
#include "mpq/search/networks.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/sensitivity_synthetic.hpp"

namespace {
mpq::layer_info layer(const char* name, std::uint64_t macs, std::uint64_t weights, std::uint64_t acts = 1) {
  mpq::layer_info l;
  l.name = std::string(name);
  l.macs = macs;
  l.weights = weights;
  l.activations = acts;
  return l;
}
bool contains(const mpq::status& s, const char* text) { return std::string(s.message()).find(text) != std::string::npos; }
}  // namespace

TEST_CASE("layers: candidate grids and pair lists; bad input is named and changes nothing") {
  mpq::problem p;
  const int w[] = {2, 4, 8}, a[] = {4, 32};
  CHECK(p.add_layer(layer("a", 10, 10), w, a) == 0u);
  CHECK(p.candidates(0).size() == 6u);
  CHECK(p.candidates(0)[1] == mpq::bit_pair{2, 32});
  CHECK(p.add_layer(layer("b", 10, 10), {mpq::bit_pair{8, 8}, mpq::bit_pair{4, 16}}) == 1u);
  CHECK(p.candidate_offset(1) == 6u);
  const int bad[] = {4, 12};
  auto r = p.try_add_layer(layer("c", 1, 1), bad, a);
  REQUIRE_FALSE(r.has_value());
  CHECK(contains(r.error(), "weight bits = 12"));
  r = p.try_add_layer(layer("c", 1, 1), std::vector<mpq::bit_pair>{{4, 4}, {4, 4}});
  REQUIRE_FALSE(r.has_value());
  CHECK(contains(r.error(), "listed twice"));
  CHECK(p.layer_count() == 2u);
  CHECK(p.candidate_count() == 8u);
  // Fixing keeps one candidate and shifts the flat tables.
  p.fix_layer(0, {8, 8});
  CHECK(p.is_fixed(0));
  CHECK(p.candidate_offset(1) == 1u);
  CHECK(p.candidate_count() == 3u);
  CHECK(p.try_fix_layer(5, {8, 8}).code() == mpq::errc::out_of_range);
  CHECK(p.try_tie(1, 1).code() == mpq::errc::invalid_argument);
}

TEST_CASE("structure first: layers and fixes after constraints or the objective are refused") {
  mpq::problem p;
  CHECK(p.try_add_constraint(mpq::bitops{}, mpq::budget::absolute(1)).error().code() == mpq::errc::invalid_argument);
  const int w[] = {2, 4};
  p.add_layer(layer("a", 10, 10), w, w);
  p.add_constraint(mpq::bitops{}, mpq::budget::absolute(1000));
  CHECK(contains(p.try_add_layer(layer("b", 1, 1), w, w).error(), "before constraints"));
  CHECK(p.try_fix_layer(0, {4, 4}).code() == mpq::errc::invalid_argument);
  CHECK(p.try_tie(0, 0).code() == mpq::errc::invalid_argument);
}

TEST_CASE("budgets: absolute, uniform (fixed layers at their own pair) and HAWQ-V3's r") {
  mpq::problem p;
  const int w[] = {2, 4, 8};
  p.add_layer(layer("first", 100, 10), w, w);
  p.add_layer(layer("mid", 1000, 50), w, w);
  p.add_layer(layer("last", 10, 5), w, w);
  p.fix_layer(0, {8, 8});
  const auto u = p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));
  CHECK(p.constraint(u).budget_value == 100.0 * 64 + 1000.0 * 16 + 10.0 * 16);
  const auto r = p.add_constraint(mpq::weight_size{}, mpq::budget::between_low_high(0.25));
  const double low = 10.0 * 8 + 50.0 * 2 + 5.0 * 2, high = 10.0 * 8 + 50.0 * 8 + 5.0 * 8;
  CHECK(p.constraint(r).budget_value == doctest::Approx(low + 0.25 * (high - low)));
  CHECK(std::string(p.constraint(r).name) == "weight_size_bits");
  const auto abs = p.add_constraint(mpq::weight_size{mpq::memory_unit::bytes}, mpq::budget::absolute(42.5));
  CHECK(p.constraint(abs).budget_value == 42.5);
  CHECK(p.raw_budget(abs) == 42.5);
  // Rejected budgets name the rule and change nothing.
  CHECK(contains(p.try_set_budget(r, mpq::budget::between_low_high(1.5)), "must lie in [0, 1]"));
  CHECK(contains(p.try_set_budget(r, mpq::budget::absolute(NAN)), "must be finite"));
  CHECK(p.try_set_budget(r, mpq::budget::uniform(3, 9)).code() == mpq::errc::invalid_argument);
  CHECK(p.constraint(r).budget_value == doctest::Approx(low + 0.25 * (high - low)));
  CHECK(p.try_set_budget(7, mpq::budget::absolute(1)).code() == mpq::errc::out_of_range);
  p.set_budget(r, mpq::budget::uniform(2, 2));
  CHECK(p.constraint(r).budget_value == low);
}

TEST_CASE("a cost model without an entry for a candidate is an error naming layer and pair") {
  mpq::problem p;
  const int w[] = {4, 8};
  p.add_layer(layer("conv", 1, 1), w, w);
  mpq::latency_table t;
  t.set("conv", {4, 4}, 1.0);
  t.set("conv", {8, 8}, 2.0);
  t.set("conv", {4, 8}, 1.5);
  auto c = p.try_add_constraint(t, mpq::budget::absolute(1.7));
  REQUIRE_FALSE(c.has_value());
  CHECK(contains(c.error(), "layer 0 'conv' at (W8, A4): cost = nan"));
  t.set("conv", {8, 4}, 1.6);
  CHECK(p.try_add_constraint(t, mpq::budget::absolute(1.7)).has_value());
}

TEST_CASE("objective: NaN is refused, +inf forbids a choice, all forbidden is infeasible") {
  mpq::problem p;
  const int w[] = {2, 4, 8};
  p.add_layer(layer("a", 10, 10), w, w);
  p.add_layer(layer("b", 10, 10), w, w);
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(8, 8));
  std::vector<double> v(p.candidate_count(), 1.0);
  v[3] = NAN;
  CHECK(p.try_set_objective_values(v).code() == mpq::errc::not_finite);
  CHECK_FALSE(p.has_objective());
  CHECK(p.try_set_objective_values(std::vector<double>(3, 1.0)).code() == mpq::errc::shape_mismatch);
  // Layer a: the (8,8) choice is best but forbidden.
  for (std::size_t j = 0; j < 9; ++j) v[j] = 10.0 - static_cast<double>(p.candidates(0)[j].w + p.candidates(0)[j].a) / 2;
  v[8] = std::numeric_limits<double>::infinity();
  for (std::size_t j = 9; j < 18; ++j) v[j] = 1.0;
  REQUIRE(p.try_set_objective_values(v).ok());
  const mpq::search_result r = mpq::ilp_search{}.solve(p);
  CHECK_FALSE(r.bits[0] == (mpq::bit_pair{8, 8}));
  CHECK(std::isfinite(r.objective));
  for (std::size_t j = 0; j < 9; ++j) v[j] = std::numeric_limits<double>::infinity();
  REQUIRE(p.try_set_objective_values(v).ok());
  mpq::search_result none;
  const mpq::status s = mpq::ilp_search{}.try_solve(p, none);
  CHECK(s.code() == mpq::errc::infeasible);
  CHECK(contains(s, "every candidate of layer 0 'a' is forbidden"));
}

TEST_CASE("ties and peak budgets: structural infeasibility is named") {
  mpq::problem p;
  p.add_layer(layer("x", 10, 10, 100), {mpq::bit_pair{4, 4}, mpq::bit_pair{8, 8}});
  p.add_layer(layer("y", 10, 10, 100), {mpq::bit_pair{2, 2}, mpq::bit_pair{4, 8}});
  p.tie(0, 1);
  p.add_constraint(mpq::bitops{}, mpq::budget::absolute(1e9));
  p.set_objective(mpq::synthetic_sensitivity(1));
  mpq::search_result r;
  const mpq::status s = mpq::ilp_search{}.try_solve(p, r);
  CHECK(contains(s, "admit no common candidate"));
  // Weights-only tie: x (4,4) with y (4,8) is allowed.
  mpq::problem q;
  q.add_layer(layer("x", 10, 10, 100), {mpq::bit_pair{4, 4}, mpq::bit_pair{8, 8}});
  q.add_layer(layer("y", 10, 10, 1000), {mpq::bit_pair{2, 2}, mpq::bit_pair{4, 8}});
  q.tie(0, 1, mpq::tie_kind::weights);
  q.add_constraint(mpq::activation_memory{mpq::activation_memory::kind::peak}, mpq::budget::absolute(8000));
  q.set_objective(mpq::synthetic_sensitivity(1));
  const mpq::search_result ok = mpq::ilp_search{}.solve(q);
  CHECK(ok.bits[0].w == ok.bits[1].w);
  CHECK(ok.constraints[0].use <= 8000.0);
  CHECK(q.check_allocation(std::vector<mpq::bit_pair>{{8, 8}, {4, 8}}).code() == mpq::errc::invalid_argument);
  q.set_budget(0, mpq::budget::absolute(7999));  // y needs 1000 x 8 at its only tie-consistent pair
  const mpq::status peak = mpq::ilp_search{}.try_solve(q, r);
  CHECK(peak.code() == mpq::errc::infeasible);
  CHECK(mpq::exhaustive_search{}.try_solve(q, r).code() == mpq::errc::infeasible);
}

TEST_CASE("built-in tables: totals computed from the architectures match the published figures") {
  struct expect {
    mpq::network net;
    std::size_t layers, ties;
    std::uint64_t macs, weights;
    double published_macs, published_params;
  };
  // Exact sums of conv and fc weights / MACs (batch 1, 224x224); published: torchvision's model
  // cards (GFLOPS counted as multiply-adds; params include biases and batch norm, +0.1-1%).
  const expect cases[] = {
      {mpq::resnet18(), 21, 3, 1814073344u, 11678912u, 1.81e9, 11.69e6},
      {mpq::resnet50(), 54, 4, 4089184256u, 25502912u, 4.09e9, 25.56e6},
      {mpq::mobilenet_v2(), 53, 0, 300774272u, 3469760u, 0.30e9, 3.50e6},
  };
  for (const expect& e : cases) {
    CAPTURE(e.net.name);
    std::uint64_t macs = 0, weights = 0;
    for (const mpq::layer_info& l : e.net.layers) {
      macs += l.macs;
      weights += l.weights;
    }
    CHECK(e.net.layers.size() == e.layers);
    CHECK(e.net.ties.size() == e.ties);
    CHECK(macs == e.macs);
    CHECK(weights == e.weights);
    CHECK(std::fabs(static_cast<double>(macs) / e.published_macs - 1.0) < 0.01);
    CHECK(std::fabs(static_cast<double>(weights) / e.published_params - 1.0) < 0.012);
  }
  // ResNet-18 params including biases and batch norm: exactly torchvision's 11,689,512.
  CHECK(11678912u + 1000u + 2u * (64u + 4u * 64u + 5u * 128u + 5u * 256u + 5u * 512u) == 11689512u);
  // A tie joins a stage's shortcut conv with the conv reading the same input.
  const mpq::network r18 = mpq::resnet18();
  CHECK(r18.layers[r18.ties[0].first].name == "layer2.0.conv1");
  CHECK(r18.layers[r18.ties[0].second].name == "layer2.0.downsample.0");
  CHECK(r18.layers[r18.ties[0].first].activations == r18.layers[r18.ties[0].second].activations);
  const int bits[] = {2, 4};
  const mpq::problem p = mpq::make_problem(r18, bits, bits);
  CHECK(p.is_fixed(0));
  CHECK(p.is_fixed(20));
  CHECK(p.ties().size() == 3u);
  CHECK(p.candidates(0)[0] == mpq::bit_pair{8, 8});
}
