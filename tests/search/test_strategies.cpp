// Every strategy against the exact ones: budgets always met, heuristics never beat ilp, infeasible
// inputs reported with the smallest achievable costs, order independence, gaps at limits, Pareto.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "mpq/cost/activation_memory.hpp"
#include "mpq/cost/bitops.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/search/convex.hpp"
#include "mpq/search/exhaustive.hpp"
#include "mpq/search/greedy.hpp"
#include "mpq/search/ilp.hpp"
#include "mpq/search/networks.hpp"
#include "mpq/search/pareto.hpp"
#include "mpq/search/sensitivity_synthetic.hpp"
#include "mpq/search/strategy_concepts.hpp"
#include "random_problems.hpp"

static_assert(mpq::SearchStrategy<mpq::ilp_search>);
static_assert(mpq::SearchStrategy<mpq::greedy_search>);
static_assert(mpq::SearchStrategy<mpq::convex_search>);
static_assert(mpq::SearchStrategy<mpq::exhaustive_search>);

namespace {
double rel(double a, double b) { return 1e-9 * std::max({std::fabs(a), std::fabs(b), 1e-12}); }

bool meets_all(const mpq::problem& p, const mpq::search_result& r) {
  if (!p.check_allocation(r.bits).ok()) return false;
  for (std::size_t c = 0; c < p.constraint_count(); ++c)
    if (!p.within_budget(c, p.cost(c, r.bits)) || r.constraints[c].use > r.constraints[c].budget) return false;
  return true;
}

template <class S>
void check_heuristic(S& s, const mpq::problem& p, const mpq::search_result& exact, bool exact_ok, int& solved) {
  mpq::search_result r;
  const mpq::status st = s.try_solve(p, r);
  CAPTURE(std::string(s.name()));
  CAPTURE(std::string(st.message()));
  if (!exact_ok) {
    CHECK_FALSE(st.ok());  // nothing fits: no strategy may claim otherwise
    CHECK(st.code() == mpq::errc::infeasible);
    return;
  }
  if (!st.ok()) {
    CHECK(st.code() == mpq::errc::infeasible);  // a heuristic may fail to find one, never fake one
    return;
  }
  ++solved;
  CHECK(meets_all(p, r));
  CHECK(r.objective >= exact.objective - rel(r.objective, exact.objective));
  CHECK(r.lower_bound <= exact.objective + rel(r.lower_bound, exact.objective));
  if (r.proven_optimal) CHECK(r.objective <= exact.objective + rel(r.objective, exact.objective));
}
}  // namespace

TEST_CASE("greedy, convex and both greedy rules meet every budget and never beat ilp") {
  std::mt19937_64 rng(2024);
  mpq::ilp_search ilp;
  mpq::greedy_search greedy;
  mpq::greedy_search haq(mpq::greedy_options{mpq::greedy_rule::haq_last_to_first});
  mpq::convex_search convex;
  int solved_g = 0, solved_h = 0, solved_c = 0, exact_solved = 0;
  for (int trial = 0; trial < 1500; ++trial) {
    mpq::problem p;
    if (!mpq_test::random_problem(p, rng)) continue;
    mpq::search_result exact;
    const bool ok = ilp.try_solve(p, exact).ok();
    exact_solved += ok ? 1 : 0;
    CAPTURE(trial);
    check_heuristic(greedy, p, exact, ok, solved_g);
    check_heuristic(haq, p, exact, ok, solved_h);
    check_heuristic(convex, p, exact, ok, solved_c);
  }
  MESSAGE("ilp solved " << exact_solved << "; greedy " << solved_g << ", haq " << solved_h << ", convex " << solved_c);
  CHECK(solved_g > exact_solved * 8 / 10);
  CHECK(solved_c > exact_solved * 8 / 10);
  CHECK(solved_h > exact_solved * 6 / 10);
}

TEST_CASE("infeasible budgets: every strategy says so, with each constraint's smallest cost") {
  const int bits[] = {2, 4, 8};
  mpq::problem p = mpq::make_problem(mpq::resnet18(), bits, bits);
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(2, 2));
  // Below the all-2-bit size: impossible alone.
  const auto size = p.add_constraint(mpq::weight_size{}, mpq::budget::uniform(1, 8));
  p.set_objective(mpq::synthetic_sensitivity(3));
  mpq::ilp_search ilp;
  mpq::greedy_search greedy;
  mpq::convex_search convex;
  mpq::exhaustive_search exhaustive;
  mpq::search_result r;
  r.objective = 12345.0;  // untouched on failure
  for (const mpq::status& s : {ilp.try_solve(p, r), greedy.try_solve(p, r), convex.try_solve(p, r)}) {
    CHECK(s.code() == mpq::errc::infeasible);
    const std::string msg = s.message();
    CAPTURE(msg);
    CHECK(msg.find("weight_size_bits' needs >=") != std::string::npos);
    CHECK(msg.find("EXCEEDED ALONE") != std::string::npos);
  }
  CHECK(r.objective == 12345.0);
  CHECK(exhaustive.try_solve(p, r).code() == mpq::errc::unsupported);  // 3^36 allocations: refused
  CHECK_THROWS_AS(ilp.solve(p), mpq::error);
  (void)size;
}

TEST_CASE("budgets that only conflict together: ilp proves it, the message says each alone fits") {
  // Two layers, each either W8A2 or W2A8: size wants W2, activation memory wants A2. Each budget
  // alone is met (both layers on its side), together they need one layer on each side, and a
  // budget one bit below that mix rules it out.
  mpq::problem p;
  for (int l = 0; l < 2; ++l) {
    mpq::layer_info info;
    info.name = "l" + std::to_string(l);
    info.macs = info.weights = info.activations = 10;
    p.add_layer(info, {mpq::bit_pair{8, 2}, mpq::bit_pair{2, 8}});
  }
  p.add_constraint(mpq::weight_size{}, mpq::budget::absolute(99));
  p.add_constraint(mpq::activation_memory{}, mpq::budget::absolute(99));
  std::vector<double> obj(p.candidate_count(), 1.0);
  REQUIRE(p.try_set_objective_values(obj).ok());
  mpq::search_result r;
  const mpq::status s = mpq::ilp_search{}.try_solve(p, r);
  CHECK(s.code() == mpq::errc::infeasible);
  CHECK(std::string(s.message()).find("each alone fits, not all together") != std::string::npos);
  CHECK(mpq::exhaustive_search{}.try_solve(p, r).code() == mpq::errc::infeasible);
  p.set_budget(0, mpq::budget::absolute(100));
  p.set_budget(1, mpq::budget::absolute(100));
  CHECK(mpq::ilp_search{}.try_solve(p, r).ok());  // the mix fits exactly
  CHECK(r.bits[0] != r.bits[1]);
}

TEST_CASE("results do not depend on the order of the layers") {
  std::mt19937_64 rng(99);
  const int bits[] = {2, 3, 4, 5, 6, 8};
  const mpq::network net = mpq::resnet18();
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<std::size_t> perm(net.layers.size());
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<std::size_t> where(perm.size());
    for (std::size_t i = 0; i < perm.size(); ++i) where[perm[i]] = i;
    auto build = [&](bool permuted) {
      mpq::problem p;
      for (std::size_t i = 0; i < net.layers.size(); ++i) p.add_layer(net.layers[permuted ? perm[i] : i], bits, bits);
      for (const mpq::layer_tie& t : net.ties)
        p.tie(permuted ? where[t.first] : t.first, permuted ? where[t.second] : t.second);
      p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));
      p.add_constraint(mpq::weight_size{}, mpq::budget::between_low_high(0.3));
      p.set_objective(mpq::synthetic_sensitivity(static_cast<std::uint64_t>(trial)));  // keyed by layer name
      return p;
    };
    const mpq::problem a = build(false), b = build(true);
    mpq::ilp_search ilp_a, ilp_b;
    const mpq::search_result ra = ilp_a.solve(a), rb = ilp_b.solve(b);
    CAPTURE(trial);
    CHECK(ra.proven_optimal);
    CHECK(rb.proven_optimal);
    CHECK(std::fabs(ra.objective - rb.objective) <= 1e-9 * ra.objective);
    for (std::size_t i = 0; i < perm.size(); ++i) CHECK(rb.bits[i] == ra.bits[perm[i]]);
    for (mpq::greedy_search g; auto* s : {&g}) {
      const mpq::search_result ga = s->solve(a), gb = s->solve(b);
      CHECK(std::fabs(ga.objective - gb.objective) <= 1e-9 * ga.objective);
    }
  }
}

TEST_CASE("ilp at a node limit: the best allocation found, a valid lower bound, no proof") {
  std::mt19937_64 rng(5);
  mpq_test::random_spec spec;
  spec.max_layers = 11;
  spec.subset_p = 0.3;
  spec.shaped = false;
  spec.min_constraints = 2;
  mpq::ilp_options limited;
  limited.max_nodes = 1;
  limited.heuristic_incumbent = true;
  int gaps = 0;
  for (int trial = 0; trial < 800; ++trial) {
    limited.probe_min_groups = trial % 2 == 0 ? 0 : 256;  // half of them in probing rounds
    mpq::problem p;
    if (!mpq_test::random_problem(p, rng, spec)) continue;
    mpq::search_result full, cut;
    if (!mpq::exhaustive_search{}.try_solve(p, full).ok()) continue;
    mpq::ilp_search ilp(limited);
    if (!ilp.try_solve(p, cut).ok()) continue;  // may find nothing in one node
    CAPTURE(trial);
    CHECK(meets_all(p, cut));
    CHECK(cut.lower_bound <= full.objective + rel(cut.lower_bound, full.objective));
    CHECK(cut.objective >= full.objective - rel(cut.objective, full.objective));
    if (!cut.proven_optimal) {
      ++gaps;
      CHECK(cut.gap() >= 0.0);
    }
  }
  MESSAGE(gaps << " solves stopped at the limit with a gap");
  CHECK(gaps > 10);
}

TEST_CASE("ilp on 200 random conv layers: probing rounds and the plain search prove the same optimum") {
  // The benchmark's 1000-layer instance family (benchmarks/search), at a size both finish fast.
  const int bits[] = {2, 3, 4, 5, 6, 8};
  mpq::network_options free_layers;
  free_layers.fix_first = free_layers.fix_last = free_layers.tie_shortcuts = false;
  mpq::problem p = mpq::make_problem(mpq::synthetic_convs(200, 42), bits, bits, free_layers);
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));
  p.add_constraint(mpq::weight_size{}, mpq::budget::uniform(3, 8));
  p.set_objective(mpq::synthetic_sensitivity(3));
  mpq::ilp_options probing, plain;
  probing.probe_min_groups = 0;
  plain.probe_min_groups = 1u << 30;
  const mpq::search_result a = mpq::ilp_search(probing).solve(p);
  const mpq::search_result b = mpq::ilp_search(plain).solve(p);
  CHECK(a.proven_optimal);
  CHECK(b.proven_optimal);
  CHECK(meets_all(p, a));
  CHECK(std::fabs(a.objective - b.objective) <= 1e-9 * b.objective);
  CHECK(a.lower_bound <= a.objective);
}

TEST_CASE("repeated solves (a training loop): warm starts change nothing but the time") {
  const int bits[] = {2, 3, 4, 5, 6};
  mpq::problem p = mpq::make_problem(mpq::resnet18(), bits, bits);
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));
  p.add_constraint(mpq::weight_size{}, mpq::budget::uniform(3, 8));
  mpq::ilp_search warm;  // one object for every call
  mpq::ilp_options cold_options;
  cold_options.warm_start = false;
  mpq::search_result r;
  for (std::uint64_t step = 0; step < 12; ++step) {
    p.set_objective(mpq::synthetic_sensitivity(1, 1.0 + 0.05 * static_cast<double>(step)));  // drifting
    REQUIRE(warm.try_solve(p, r).ok());
    mpq::ilp_search cold(cold_options);
    const mpq::search_result c = cold.solve(p);
    CHECK(r.proven_optimal);
    CHECK(std::fabs(r.objective - c.objective) <= 1e-9 * c.objective);
  }
}

TEST_CASE("pareto frontier equals the brute-force frontier") {
  std::mt19937_64 rng(31);
  mpq_test::random_spec spec;
  spec.max_layers = 5;
  spec.max_allocations = 3000;
  int compared = 0;
  for (int trial = 0; trial < 300; ++trial) {
    mpq::problem p;
    if (!mpq_test::random_problem(p, rng, spec) || p.constraint_count() == 0) continue;
    if (p.constraint(0).aggregation != mpq::cost_aggregation::sum) continue;
    auto f = mpq::try_pareto_frontier(p, 0);
    // Brute force: every allocation meeting the other budgets and constraint 0's own.
    std::vector<std::pair<double, double>> all;
    std::vector<std::size_t> digit(p.layer_count(), 0);
    std::vector<mpq::bit_pair> bits(p.layer_count());
    for (;;) {
      for (std::size_t l = 0; l < bits.size(); ++l) bits[l] = p.candidates(l)[digit[l]];
      if (p.check_allocation(bits).ok()) {
        bool ok = true;
        for (std::size_t c = 0; c < p.constraint_count(); ++c) ok = ok && p.within_budget(c, p.cost(c, bits));
        if (ok) all.push_back({p.cost(0, bits), p.objective(bits)});
      }
      std::size_t l = 0;
      while (l < digit.size() && ++digit[l] == p.candidates(l).size()) digit[l++] = 0;
      if (l == digit.size()) break;
    }
    CAPTURE(trial);
    if (all.empty()) {
      CHECK_FALSE(f.has_value());
      continue;
    }
    REQUIRE(f.has_value());
    std::sort(all.begin(), all.end());
    std::vector<std::pair<double, double>> front;
    for (const auto& e : all)
      if (front.empty() || e.second < front.back().second - 1e-12 * std::fabs(e.second)) {
        if (!front.empty() && e.first == front.back().first) continue;
        front.push_back(e);
      }
    REQUIRE(f->points.size() == front.size());
    for (std::size_t i = 0; i < front.size(); ++i) {
      CHECK(std::fabs(f->points[i].cost - front[i].first) <= 1e-9 * std::max(1.0, front[i].first));
      CHECK(std::fabs(f->points[i].objective - front[i].second) <= rel(front[i].second, f->points[i].objective));
    }
    ++compared;
  }
  MESSAGE(compared << " frontiers compared");
  CHECK(compared > 50);
}
