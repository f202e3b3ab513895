// The Pareto frontier of one budget against the objective: every allocation that no other beats in
// both (the other constraints held), in one call, by exact solves at ever smaller budgets.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/search/ilp.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"

namespace mpq {

/// @brief One point of a frontier: the swept constraint's cost, the objective, the allocation.
struct pareto_point {
  double cost = 0.0;
  double objective = 0.0;
  std::vector<bit_pair> bits;
  bool proven_optimal = false;  ///< the objective is the optimum at this cost (ilp proof)
};

struct pareto_options {
  std::size_t max_points = 10000;  ///< stop (complete = false) after this many points
  ilp_options ilp{};               ///< options of each exact solve
};

/// @brief The frontier, cheapest point first; complete = false when max_points stopped it (or a
/// solve hit an ilp limit, so a point may not be optimal at its cost).
struct pareto_result {
  std::vector<pareto_point> points;
  bool complete = true;
};

/// @brief Checked: all non-dominated (cost of constraint `which`, objective) allocations that meet
/// the problem's other constraints and cost no more than constraint `which`'s own budget. The
/// ε-constraint method: solve exactly (ilp_search), record the point, require the next point to
/// cost strictly less, repeat until nothing fits; each point is the optimum at its cost, so the
/// points are exactly the frontier's corners. A frontier has at most as many points as there are
/// distinct costs; max_points bounds the work on large problems.
inline expected<pareto_result> try_pareto_frontier(const problem& p, std::size_t which,
                                                     const pareto_options& options = {}) {
  if (which >= p.constraint_count())
    return status::failure(errc::out_of_range, "pareto_frontier: constraint %zu of %zu", which, p.constraint_count());
  problem q = p;
  ilp_search ilp(options.ilp);
  pareto_result f;
  search_result r;
  for (;;) {
    const status s = ilp.try_solve(q, r);
    if (!s.ok()) {
      if (s.code() == errc::infeasible && !f.points.empty()) break;  // nothing cheaper fits
      return s;
    }
    pareto_point pt;
    pt.cost = r.constraints[which].use;
    pt.objective = r.objective;
    pt.bits = r.bits;
    pt.proven_optimal = r.proven_optimal;
    f.complete = f.complete && r.proven_optimal;
    // An equal objective at a smaller cost replaces the point before it (that one is dominated).
    if (!f.points.empty() && !(pt.objective > f.points.back().objective)) f.points.pop_back();
    f.points.push_back(std::move(pt));
    if (f.points.size() >= options.max_points) {
      f.complete = false;
      break;
    }
    const double next = std::nextafter(f.points.back().cost, -std::numeric_limits<double>::infinity());
    if (!q.try_set_budget(which, budget::absolute(next)).ok()) break;
  }
  // Found from the dearest down; report cheapest first.
  for (std::size_t i = 0, j = f.points.size(); i + 1 < j; ++i, --j) std::swap(f.points[i], f.points[j - 1]);
  return f;
}

/// @brief As try_pareto_frontier; throws mpq::error on failure.
inline pareto_result pareto_frontier(const problem& p, std::size_t which, const pareto_options& options = {}) {
  return try_pareto_frontier(p, which, options).value();
}

}  // namespace mpq
