// What every search strategy returns: bits per layer, each constraint's use/budget/slack, the
// objective, and a proof of optimality (or the gap) for exact strategies.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "mpq/cost/cost_concepts.hpp"
#include "mpq/cost/layer.hpp"

namespace mpq {

/// @brief One constraint as met by a result.
struct constraint_report {
  std::string name;                 ///< the cost model's name()
  cost_aggregation aggregation = cost_aggregation::sum;
  double use = 0.0;                 ///< the allocation's network cost (model unit)
  double budget = 0.0;              ///< the resolved budget; always use <= budget
  double slack = 0.0;               ///< budget - use
  double min_achievable = 0.0;      ///< the smallest cost any allocation has under this model alone
  /// True when the budget stops the objective from improving: some single layer (or tie group)
  /// change that lowers the objective would break this budget.
  bool binding = false;
};

/// @brief The allocation a strategy chose and everything needed to judge it.
struct search_result {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  const char* strategy = "";             ///< "ilp", "greedy", "convex", "exhaustive"
  std::vector<bit_pair> bits;            ///< per layer, in problem order
  std::vector<constraint_report> constraints;  ///< per constraint, in problem order
  double objective = 0.0;                ///< Σ_l Ω_l(bits_l), summed in layer order
  /// A proven lower bound on the optimal objective (-inf when the strategy proves none).
  double lower_bound = -std::numeric_limits<double>::infinity();
  bool proven_optimal = false;           ///< objective - lower_bound within the strategy's tolerance
  std::size_t binding_constraint = npos; ///< the binding constraint with the least relative slack
  std::uint64_t nodes = 0;               ///< branch-and-bound nodes, enumerated allocations, or steps

  /// @brief objective - lower_bound (0 when proven optimal, +inf without a bound).
  double gap() const noexcept { return objective - lower_bound; }
  /// @brief gap() / max(|objective|, tiny).
  double relative_gap() const noexcept {
    const double d = std::fabs(objective) > 1e-300 ? std::fabs(objective) : 1e-300;
    return gap() / d;
  }
};

}  // namespace mpq
