// `exhaustive`: tries every allocation of a small problem; the oracle the other strategies are
// tested against (it shares no search code with them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/search/mckp.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"
#include "mpq/search/strategy_concepts.hpp"

namespace mpq {

/// @brief Limit of the brute force.
struct exhaustive_options {
  /// Refuse (errc::unsupported) problems with more allocations than this (product of the layers'
  /// candidate counts, before ties).
  std::uint64_t max_allocations = 20'000'000;
};

/// @brief Brute force: every combination of the layers' candidates, ties and budgets checked as the
/// problem states them (layer-order sums), the lowest objective kept (the first found among equals).
/// Proves optimality by construction. For tests and small problems only.
class exhaustive_search : public detail::throwing_solve<exhaustive_search> {
 public:
  exhaustive_search() = default;
  explicit exhaustive_search(const exhaustive_options& options) : options_(options) {}

  static constexpr const char* name() noexcept { return "exhaustive"; }
  exhaustive_options& options() noexcept { return options_; }

  /// @brief Checked: the optimal allocation into `out`; errc::unsupported beyond max_allocations,
  /// errc::infeasible (with each constraint's smallest achievable cost) when nothing fits.
  status try_solve(const problem& p, search_result& out) {
    const std::size_t L = p.layer_count(), C = p.constraint_count();
    if (L == 0) return status::failure(errc::invalid_argument, "exhaustive: the problem has no layers");
    if (!p.has_objective())
      return status::failure(errc::invalid_argument, "exhaustive: the problem has no objective (call set_objective)");
    double count = 1.0;
    for (std::size_t l = 0; l < L; ++l) count *= static_cast<double>(p.candidates(l).size());
    if (count > static_cast<double>(options_.max_allocations))
      return status::failure(errc::unsupported, "exhaustive: %.3g allocations exceed max_allocations = %llu", count,
                             static_cast<unsigned long long>(options_.max_allocations));

    digit_.assign(L, 0);
    bits_.resize(L);
    best_.clear();
    double best = std::numeric_limits<double>::infinity();
    std::uint64_t visited = 0;
    for (;;) {
      for (std::size_t l = 0; l < L; ++l) bits_[l] = p.candidates(l)[digit_[l]];
      ++visited;
      bool ok = true;
      for (const layer_tie& t : p.ties()) ok = ok && problem::tie_holds(t.kind, bits_[t.first], bits_[t.second]);
      for (std::size_t c = 0; c < C && ok; ++c) ok = p.within_budget(c, p.cost(c, bits_));
      if (ok) {
        const double o = p.objective(bits_);
        if (o < best) {
          best = o;
          best_ = bits_;
        }
      }
      std::size_t l = 0;
      while (l < L && ++digit_[l] == p.candidates(l).size()) digit_[l++] = 0;
      if (l == L) break;
    }

    // The report (min achievable, binding) uses the compiled form; the choice above does not.
    MPQ_TRY(detail::compile(p, k_, cws_));
    if (best_.empty()) return detail::infeasible_status(p, k_, "exhaustive");
    out.bits = best_;
    detail::fill_result(p, k_, out);
    out.strategy = name();
    out.proven_optimal = true;
    out.lower_bound = out.objective;
    out.nodes = visited;
    return {};
  }


 private:
  exhaustive_options options_{};
  std::vector<std::size_t> digit_;
  std::vector<bit_pair> bits_, best_;
  detail::mckp k_;
  detail::mckp_workspace cws_;
};

}  // namespace mpq
