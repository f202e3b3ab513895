// `convex`: QBitOpt-style allocation: solve the convex relaxation by bisection on the budget
// multiplier, take its feasible rounding, and spend what is left of the budgets greedily.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/search/lagrangian.hpp"
#include "mpq/search/local_moves.hpp"
#include "mpq/search/mckp.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"
#include "mpq/search/strategy_concepts.hpp"

namespace mpq {

struct convex_options {
  int bisection_steps = 200;  ///< halvings of the multiplier bracket (stops earlier at 1e-12 relative)
  bool fill = true;           ///< after rounding, raise bits greedily while every budget holds
};

/// @brief The relaxation-and-rounding strategy of QBitOpt (algorithms.md §5b):
///
/// 1. relax: each layer's candidates become their convex hull, so the problem is convex; its KKT
///    point for multiplier μ picks, per layer, the candidate minimizing Ω + μ·(cost) (the exact
///    counterpart of QBitOpt's b(μ) = clip(ln(κc/(μw))/κ, ...), whose exponential becomes the chords
///    between integer widths). Bisection finds the smallest μ whose picks meet the budget;
///    with several budgets μ = t·λ* moves along the direction of the Lagrangian dual optimum λ*.
/// 2. round: those picks, cheapest among ties, are the feasible rounding ("floor") of the relaxed
///    optimum: they meet every budget by construction;
/// 3. fill: raise, one layer at a time, the choice with the best objective decrease per unit of
///    budget while every budget still holds.
///
/// The Lagrangian bound L(μ) is reported as lower_bound, so the result carries its own gap.
/// Cheap (a few passes over the candidates) and allocation-free after the first call: meant to be
/// re-run every T training steps.
class convex_search : public detail::throwing_solve<convex_search> {
 public:
  convex_search() = default;
  explicit convex_search(const convex_options& options) : options_(options) {}

  static constexpr const char* name() noexcept { return "convex"; }
  convex_options& options() noexcept { return options_; }

  /// @brief Checked: the rounded relaxation into `out` (unchanged on failure).
  status try_solve(const problem& p, search_result& out) {
    MPQ_TRY(detail::compile(p, k_, ws_));
    const std::size_t G = k_.groups(), m = k_.m;
    const detail::mckp_view v = detail::view_of(k_);
    sel_.resize(G);
    double lower = -std::numeric_limits<double>::infinity();
    for (std::size_t r = 0; r < m; ++r) {
      double lo = 0.0;
      for (std::size_t g = 0; g < G; ++g) {
        double best = std::numeric_limits<double>::infinity();
        for (std::uint32_t j = k_.group_begin[g]; j < k_.group_begin[g + 1]; ++j) best = std::min(best, k_.cost_of(j)[r]);
        lo += best;
      }
      if (lo > k_.budget[r]) return detail::infeasible_status(p, k_, "convex");
    }
    // Direction of the multiplier: the only one, or the dual optimum's.
    dir_.assign(m, 1.0);
    if (m > 1) {
      lambda_.clear();
      lower = dual_.maximize(v, lambda_);
      double norm = 0.0;
      for (double x : lambda_) norm = std::max(norm, x);
      if (norm > 0.0)
        for (std::size_t r = 0; r < m; ++r) dir_[r] = lambda_[r] / norm;
    }
    detail::row_scales(k_, scale_);
    std::uint64_t steps = 0;
    if (m == 0 || pick(0.0)) {
      steps = 1;  // the unconstrained optimum (lowest objective everywhere) fits: it is optimal
      if (m == 0) pick(0.0);
      lower = detail::selection_totals(k_, sel_, use_);
    } else {
      // Bracket: double μ until the picks fit (or every pick is its group's cheapest).
      double lo = 0.0, hi = initial_scale();
      bool fits = false;
      for (int i = 0; i < 2000 && !(fits = pick(hi)); ++i) {
        lo = hi;
        hi *= 2.0;
        ++steps;
        if (!std::isfinite(hi)) break;
      }
      if (!fits) {
        // The multiplier direction cannot reach every budget at once: repair instead.
        detail::selection_totals(k_, sel_, use_);
        if (!detail::repair_selection(k_, sel_, use_, scale_))
          return status::failure(errc::infeasible,
                                 "convex: the relaxation's rounding and its repair fit no allocation into every "
                                 "budget; ilp_search decides whether any fits");
      } else {
        for (int i = 0; i < options_.bisection_steps && hi - lo > 1e-12 * hi; ++i, ++steps) {
          const double mid = 0.5 * (lo + hi);
          if (pick(mid))
            hi = mid;
          else
            lo = mid;
        }
        pick(hi);
        // L(μ) at the bracket's feasible end bounds the optimum (weak duality).
        mu_.resize(m);
        for (std::size_t r = 0; r < m; ++r) mu_[r] = hi * dir_[r];
        grad_.resize(m);
        lower = std::max(lower, detail::lagrangian(v, mu_.data(), grad_.data()));
      }
    }
    detail::selection_totals(k_, sel_, use_);
    if (options_.fill) detail::fill_selection(k_, sel_, use_, scale_);
    if (!detail::meets_budgets(p, k_, sel_, bits_))
      return status::failure(errc::infeasible, "convex: the rounding ended outside a budget (rounding); no allocation returned");
    out.bits = bits_;
    detail::fill_result(p, k_, out);
    out.strategy = name();
    out.lower_bound = std::min(lower, out.objective);
    out.proven_optimal = out.objective - out.lower_bound <= 1e-9 * std::max(std::fabs(out.objective), 1e-300);
    out.nodes = steps;
    return {};
  }


 private:
  // Per group, the choice minimizing o + μ·dir·c (the cheapest in dir·c among ties); true when the
  // picks meet every budget.
  bool pick(double mu) {
    const std::size_t m = k_.m;
    use_.assign(m, 0.0);
    for (std::size_t g = 0; g < k_.groups(); ++g) {
      double best = std::numeric_limits<double>::infinity(), best_c = best;
      std::uint32_t bj = k_.group_begin[g];
      for (std::uint32_t j = k_.group_begin[g]; j < k_.group_begin[g + 1]; ++j) {
        double c = 0.0;
        for (std::size_t r = 0; r < m; ++r) c += dir_[r] * k_.cost_of(j)[r];
        const double val = k_.obj[j] + mu * c;
        if (val < best || (val == best && c < best_c)) {
          best = val;
          best_c = c;
          bj = j;
        }
      }
      sel_[g] = bj;
      for (std::size_t r = 0; r < m; ++r) use_[r] += k_.cost_of(bj)[r];
    }
    for (std::size_t r = 0; r < m; ++r)
      if (use_[r] > k_.budget[r]) return false;
    return true;
  }

  // A first multiplier of the right order: the objective spread per unit of dir-weighted cost spread.
  double initial_scale() const {
    double os = 0.0, cs = 0.0;
    for (std::size_t g = 0; g < k_.groups(); ++g) {
      double olo = std::numeric_limits<double>::infinity(), ohi = -olo, clo = olo, chi = -olo;
      for (std::uint32_t j = k_.group_begin[g]; j < k_.group_begin[g + 1]; ++j) {
        double c = 0.0;
        for (std::size_t r = 0; r < k_.m; ++r) c += dir_[r] * k_.cost_of(j)[r];
        olo = std::min(olo, k_.obj[j]);
        ohi = std::max(ohi, k_.obj[j]);
        clo = std::min(clo, c);
        chi = std::max(chi, c);
      }
      os += ohi - olo;
      cs += chi - clo;
    }
    return os > 0.0 && cs > 0.0 ? os / cs * 1e-3 : 1.0;
  }

  convex_options options_{};
  detail::mckp k_;
  detail::mckp_workspace ws_;
  detail::dual_ascent dual_;
  std::vector<std::uint32_t> sel_;
  std::vector<double> lambda_, dir_, scale_, use_, mu_, grad_;
  std::vector<bit_pair> bits_;
};

}  // namespace mpq
