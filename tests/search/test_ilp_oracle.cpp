// ilp against the exhaustive oracle on thousands of seeded random problems.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "mpq/search/exhaustive.hpp"
#include "mpq/search/ilp.hpp"
#include "random_problems.hpp"

namespace {
bool close(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b)) + 1e-12; }
}  // namespace

namespace {
struct tally {
  int solved = 0, infeasible = 0;
  std::uint64_t nodes = 0;
};

// Solve `trials` random problems with both strategies and compare.
tally compare(std::uint64_t seed, int trials, mpq_test::random_spec spec, bool alternate_integer,
              mpq::ilp_options options = {}) {
  std::mt19937_64 rng(seed);
  mpq::ilp_search ilp(options);  // one solver for all: also checks that warm starts never leak
  mpq::exhaustive_search oracle;
  tally t;
  for (int trial = 0; trial < trials; ++trial) {
    mpq::problem p;
    spec.integer_objective = alternate_integer && trial % 3 == 0;
    if (!mpq_test::random_problem(p, rng, spec)) continue;
    mpq::search_result a, b;
    const mpq::status sa = ilp.try_solve(p, a);
    const mpq::status sb = oracle.try_solve(p, b);
    CAPTURE(seed);
    CAPTURE(trial);
    CAPTURE(std::string(sa.message()));
    CAPTURE(std::string(sb.message()));
    REQUIRE(sa.ok() == sb.ok());
    if (!sa.ok()) {
      CHECK(sa.code() == mpq::errc::infeasible);
      CHECK(sb.code() == mpq::errc::infeasible);
      ++t.infeasible;
      continue;
    }
    ++t.solved;
    t.nodes += a.nodes;
    CHECK(a.proven_optimal);
    CHECK(a.lower_bound <= a.objective);
    CHECK(close(a.objective, b.objective));
    CHECK(p.check_allocation(a.bits).ok());
    for (std::size_t c = 0; c < p.constraint_count(); ++c) CHECK(p.within_budget(c, p.cost(c, a.bits)));
  }
  return t;
}

// Deeper problems: up to 11 layers, few candidates each, so the branch and bound has levels to search.
mpq_test::random_spec deep_spec(bool shaped) {
  mpq_test::random_spec spec;
  spec.max_layers = 11;
  spec.subset_p = 0.22;
  spec.max_explicit = 4;
  spec.max_allocations = 30000;
  spec.shaped = shaped;
  spec.min_constraints = 1;
  return spec;
}
}  // namespace

TEST_CASE("ilp equals exhaustive on random small problems") {
  const tally t = compare(12345, 3000, {}, true);
  MESSAGE("solved " << t.solved << ", infeasible " << t.infeasible << ", nodes " << t.nodes);
  CHECK(t.solved > 1000);
  CHECK(t.infeasible > 20);
}

TEST_CASE("ilp equals exhaustive on deeper random problems (the branch and bound runs)") {
  const mpq_test::random_spec spec = deep_spec(false);
  const tally t = compare(777, 2000, spec, true);
  MESSAGE("solved " << t.solved << ", infeasible " << t.infeasible << ", nodes " << t.nodes);
  CHECK(t.solved > 800);
}

TEST_CASE("ilp without its greedy incumbent: the tree search alone equals exhaustive") {
  const mpq_test::random_spec spec = deep_spec(true);
  mpq::ilp_options options;
  options.heuristic_incumbent = false;
  const tally t = compare(4242, 2000, spec, true, options);
  MESSAGE("solved " << t.solved << ", infeasible " << t.infeasible << ", nodes " << t.nodes);
  CHECK(t.solved > 800);
  CHECK(t.nodes > 5000);  // the tree search was exercised, not only the root bound
}

TEST_CASE("ilp searching in probing rounds (targets below the incumbent first) equals exhaustive") {
  // Probing is on by default only from 256 groups up; here it runs on every problem.
  const mpq_test::random_spec spec = deep_spec(false);
  mpq::ilp_options options;
  options.probe_min_groups = 0;
  const tally t = compare(9191, 2000, spec, true, options);
  MESSAGE("solved " << t.solved << ", infeasible " << t.infeasible << ", nodes " << t.nodes);
  CHECK(t.solved > 800);
}

TEST_CASE("ilp with the per-state LP bound at every state (stable levels folded into a line) equals exhaustive") {
  // That bound is used by default only while 64 or more levels remain: these problems never get it.
  const mpq_test::random_spec spec = deep_spec(false);
  mpq::ilp_options options;
  options.lp_bound_min_levels = 0;
  options.probe_min_groups = 0;
  const tally t = compare(31337, 2000, spec, true, options);
  MESSAGE("solved " << t.solved << ", infeasible " << t.infeasible << ", nodes " << t.nodes);
  CHECK(t.solved > 800);
}
