// `greedy`: start every layer at its highest bits and lower one layer one step at a time until every
// budget holds (HAWQ / AIMET's sensitivity descent), or HAQ's last-to-first repair walk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/search/local_moves.hpp"
#include "mpq/search/mckp.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"
#include "mpq/search/strategy_concepts.hpp"

namespace mpq {

/// @brief Which step greedy_search takes while a budget is exceeded.
enum class greedy_rule : std::uint8_t {
  /// Lower, by one step, the layer whose objective grows least per unit of exceeded budget saved
  /// (Σ over the exceeded budgets of the cost saved, each relative to its budget): HAWQ's and
  /// AIMET's greedy mixed-precision descent.
  sensitivity_per_cost,
  /// HAQ's "action wall" (algorithms.md §1.6): walk the layers from last to first; at each, lower
  /// the activation bits one step, re-check, then the weight bits one step, re-check; repeat the
  /// walk until every budget holds. Ignores the objective: a feasibility repair, not an optimizer.
  haq_last_to_first,
};

struct greedy_options {
  greedy_rule rule = greedy_rule::sensitivity_per_cost;
};

/// @brief The greedy strategies. A "step" of a layer (or tie group) lowers its weight bits, or its
/// activation bits, to the next lower width among its candidates with the other width unchanged;
/// a layer with no such candidate (explicit pair lists) steps to the lower pair with the most bits.
/// Never returns an allocation that breaks a budget; errc::infeasible when the walk runs out of
/// steps first (which does not prove that nothing fits: ilp_search does).
class greedy_search : public detail::throwing_solve<greedy_search> {
 public:
  greedy_search() = default;
  explicit greedy_search(const greedy_options& options) : options_(options) {}

  static constexpr const char* name() noexcept { return "greedy"; }
  greedy_options& options() noexcept { return options_; }

  /// @brief Checked: the greedy allocation into `out` (unchanged on failure).
  status try_solve(const problem& p, search_result& out) {
    MPQ_TRY(detail::compile(p, k_, ws_, /*prune_dominated=*/false));
    const std::size_t G = k_.groups();
    sel_.resize(G);
    for (std::size_t g = 0; g < G; ++g) sel_[g] = top_choice(p, g);
    detail::row_scales(k_, scale_);
    detail::selection_totals(k_, sel_, use_);
    std::uint64_t steps = 0;
    bool ok = options_.rule == greedy_rule::sensitivity_per_cost ? descend(p, steps) : haq_walk(p, steps);
    if (!ok) {
      if (!within_min_costs()) return detail::infeasible_status(p, k_, "greedy");
      return status::failure(errc::infeasible,
                             "greedy: no step lowers the exceeded budgets any further (%llu steps taken); this does "
                             "not prove that no allocation fits: ilp_search decides that",
                             static_cast<unsigned long long>(steps));
    }
    if (!detail::meets_budgets(p, k_, sel_, bits_))
      return status::failure(errc::infeasible, "greedy: the walk ended outside a budget (rounding); no allocation returned");
    out.bits = bits_;
    detail::fill_result(p, k_, out);
    out.strategy = name();
    out.lower_bound = -std::numeric_limits<double>::infinity();
    out.proven_optimal = false;
    out.nodes = steps;
    return {};
  }


 private:
  // The choice with the most bits (Σ w + a over the group's layers); among equals the first, which
  // has the lowest objective (choices are sorted by objective).
  std::uint32_t top_choice(const problem& p, std::size_t g) const {
    std::uint32_t best = k_.group_begin[g];
    long most = -1;
    for (std::uint32_t j = k_.group_begin[g]; j < k_.group_begin[g + 1]; ++j) {
      long bits = 0;
      for (std::size_t q = 0; q < k_.layer_begin[g + 1] - k_.layer_begin[g]; ++q) {
        const bit_pair b = detail::choice_bits(p, k_, g, j, q);
        bits += b.w + b.a;
      }
      if (bits > most) {
        most = bits;
        best = j;
      }
    }
    return best;
  }

  // One step down for group g from its current choice, or `none`: which = 0 lowers the weight bits,
  // 1 the activation bits (the other width unchanged, the nearest lower width); 2 both (a lower
  // pair in both widths with the most bits left, for pair lists without single-width steps).
  std::uint32_t step(const problem& p, std::size_t g, int which) const {
    const std::uint32_t cur = sel_[g];
    const std::size_t n = k_.layer_begin[g + 1] - k_.layer_begin[g];
    std::uint32_t best = none;
    long closest = -1;
    for (std::uint32_t j = k_.group_begin[g]; j < k_.group_begin[g + 1]; ++j) {
      if (j == cur) continue;
      bool ok = true, lower = which == 2;
      long kept = 0;
      for (std::size_t q = 0; q < n && ok; ++q) {
        const bit_pair a = detail::choice_bits(p, k_, g, cur, q), b = detail::choice_bits(p, k_, g, j, q);
        if (which == 2) {
          ok = b.w <= a.w && b.a <= a.a;
          kept += b.w + b.a;
        } else {
          const int av = which == 0 ? a.w : a.a, bv = which == 0 ? b.w : b.a;
          ok = (which == 0 ? b.a == a.a : b.w == a.w) && bv <= av;
          lower = lower || bv < av;
          kept += bv;
        }
      }
      if (ok && lower && kept > closest) {
        closest = kept;
        best = j;
      }
    }
    return best;
  }

  void apply(std::size_t g, std::uint32_t j) {
    for (std::size_t r = 0; r < k_.m; ++r) use_[r] += k_.cost_of(j)[r] - k_.cost_of(sel_[g])[r];
    sel_[g] = j;
  }

  bool within_sums() const {
    for (std::size_t r = 0; r < k_.m; ++r)
      if (use_[r] > k_.budget[r]) return false;
    return true;
  }

  // Whether each budget alone could be met (the cheapest choice of every group).
  bool within_min_costs() const {
    for (std::size_t r = 0; r < k_.m; ++r) {
      double lo = 0.0;
      for (std::size_t g = 0; g < k_.groups(); ++g) {
        double best = std::numeric_limits<double>::infinity();
        for (std::uint32_t j = k_.group_begin[g]; j < k_.group_begin[g + 1]; ++j)
          best = best < k_.cost_of(j)[r] ? best : k_.cost_of(j)[r];
        lo += best;
      }
      if (lo > k_.budget[r]) return false;
    }
    return true;
  }

  bool descend(const problem& p, std::uint64_t& steps) {
    while (!within_sums()) {
      double best = std::numeric_limits<double>::infinity();
      std::size_t bg = 0;
      std::uint32_t bj = none;
      for (std::size_t g = 0; g < k_.groups(); ++g) {
        std::uint32_t moves[3] = {step(p, g, 0), step(p, g, 1), none};
        if (moves[0] == none && moves[1] == none) moves[2] = step(p, g, 2);
        for (std::uint32_t j : moves) {
          if (j == none) continue;
          double saved = 0.0;
          for (std::size_t r = 0; r < k_.m; ++r)
            if (use_[r] > k_.budget[r]) {
              const double d = k_.cost_of(sel_[g])[r] - k_.cost_of(j)[r];
              if (d > 0.0) saved += d / scale_[r];
            }
          if (!(saved > 0.0)) continue;
          const double ratio = (k_.obj[j] - k_.obj[sel_[g]]) / saved;
          if (ratio < best) {
            best = ratio;
            bg = g;
            bj = j;
          }
        }
      }
      if (bj == none) return false;
      apply(bg, bj);
      ++steps;
    }
    return true;
  }

  bool haq_walk(const problem& p, std::uint64_t& steps) {
    while (!within_sums()) {
      bool moved = false;
      for (std::size_t g = k_.groups(); g-- > 0 && !within_sums();) {
        for (int which : {1, 0}) {  // activations first, then weights
          std::uint32_t j = step(p, g, which);
          if (j == none && which == 0 && step(p, g, 1) == none) j = step(p, g, 2);
          if (j == none) continue;
          apply(g, j);
          ++steps;
          moved = true;
          if (within_sums()) break;
        }
      }
      if (!moved) return false;
    }
    return true;
  }

  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  greedy_options options_{};
  detail::mckp k_;
  detail::mckp_workspace ws_;
  std::vector<std::uint32_t> sel_;
  std::vector<double> use_, scale_;
  std::vector<bit_pair> bits_;
};

}  // namespace mpq
