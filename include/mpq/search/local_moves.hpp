// Single-group moves on a compiled problem, shared by strategies: running row sums, a repair that
// walks back inside every budget, and a fill that spends the remaining slack where it helps most.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "mpq/search/mckp.hpp"

namespace mpq::detail {

/// Row sums Σ_g cost(sel[g]) into use (m values); returns Σ_g obj(sel[g]).
inline double selection_totals(const mckp& k, std::span<const std::uint32_t> sel, std::vector<double>& use) {
  use.assign(k.m, 0.0);
  double o = 0.0;
  for (std::size_t g = 0; g < k.groups(); ++g) {
    o += k.obj[sel[g]];
    for (std::size_t r = 0; r < k.m; ++r) use[r] += k.cost_of(sel[g])[r];
  }
  return o;
}

/// Σ_r max(0, use_r − B_r) / scale_r: how far outside the budgets a selection is.
inline double violation(const mckp& k, std::span<const double> use, std::span<const double> scale) {
  double v = 0.0;
  for (std::size_t r = 0; r < k.m; ++r)
    if (use[r] > k.budget[r]) v += (use[r] - k.budget[r]) / scale[r];
  return v;
}

/// Per-row scale for comparing costs of different units: the budget, or 1 when it is 0.
inline void row_scales(const mckp& k, std::vector<double>& scale) {
  scale.resize(k.m);
  for (std::size_t r = 0; r < k.m; ++r) scale[r] = std::fabs(k.budget[r]) > 0.0 ? std::fabs(k.budget[r]) : 1.0;
}

/// Repair: while some budget is exceeded, make the move with the smallest objective increase per
/// unit of violation removed. Returns false when no move reduces the violation.
inline bool repair_selection(const mckp& k, std::span<std::uint32_t> sel, std::vector<double>& use,
                             std::span<const double> scale) {
  const std::size_t m = k.m;
  for (;;) {
    const double v0 = violation(k, use, scale);
    if (v0 <= 0.0) return true;
    double best = std::numeric_limits<double>::infinity();
    std::size_t bg = 0;
    std::uint32_t bj = 0;
    for (std::size_t g = 0; g < k.groups(); ++g) {
      const std::uint32_t cur = sel[g];
      const double* cc = k.cost_of(cur);
      for (std::uint32_t j = k.group_begin[g]; j < k.group_begin[g + 1]; ++j) {
        if (j == cur) continue;
        const double* cj = k.cost_of(j);
        double v = 0.0;
        for (std::size_t r = 0; r < m; ++r) {
          const double u = use[r] - cc[r] + cj[r];
          if (u > k.budget[r]) v += (u - k.budget[r]) / scale[r];
        }
        const double reduced = v0 - v;
        if (!(reduced > 0.0)) continue;
        const double ratio = (k.obj[j] - k.obj[cur]) / reduced;
        if (ratio < best) {
          best = ratio;
          bg = g;
          bj = j;
        }
      }
    }
    if (best == std::numeric_limits<double>::infinity()) return false;
    for (std::size_t r = 0; r < m; ++r) use[r] += k.cost_of(bj)[r] - k.cost_of(sel[bg])[r];
    sel[bg] = bj;
  }
}

/// Fill: while some move lowers the objective and keeps every budget, make the one with the best
/// objective decrease per unit of (budget-relative) cost added; moves that add no cost come first.
inline void fill_selection(const mckp& k, std::span<std::uint32_t> sel, std::vector<double>& use,
                           std::span<const double> scale) {
  const std::size_t m = k.m;
  for (;;) {
    double best = 0.0;
    std::size_t bg = 0;
    std::uint32_t bj = 0;
    bool found = false;
    for (std::size_t g = 0; g < k.groups(); ++g) {
      const std::uint32_t cur = sel[g];
      const double* cc = k.cost_of(cur);
      // Groups are sorted by objective: only choices before `cur` lower it.
      for (std::uint32_t j = k.group_begin[g]; j < cur; ++j) {
        const double gain = k.obj[cur] - k.obj[j];
        if (!(gain > 0.0)) continue;
        const double* cj = k.cost_of(j);
        double added = 0.0;
        bool fits = true;
        for (std::size_t r = 0; r < m && fits; ++r) {
          fits = use[r] - cc[r] + cj[r] <= k.budget[r];
          added += std::max(0.0, cj[r] - cc[r]) / scale[r];
        }
        if (!fits) continue;
        const double score = added > 0.0 ? gain / added : std::numeric_limits<double>::infinity();
        if (!found || score > best) {
          found = true;
          best = score;
          bg = g;
          bj = j;
        }
      }
    }
    if (!found) return;
    for (std::size_t r = 0; r < m; ++r) use[r] += k.cost_of(bj)[r] - k.cost_of(sel[bg])[r];
    sel[bg] = bj;
  }
}

}  // namespace mpq::detail
