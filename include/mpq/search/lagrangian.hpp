// The Lagrangian dual of the multiple-choice knapsack: L(λ) = Σ_g min_j (o_j + λ·c_j) − λ·B, its
// supergradient, and its maximization over λ >= 0 (the bound the ILP proves with, the relaxation
// `convex` rounds).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "mpq/search/mckp.hpp"

namespace mpq::detail {

// Why this bound: for any λ >= 0 and any allocation x that meets every budget,
//   Σ o(x) >= Σ o(x) + λ·(Σ c(x) − B) >= Σ_g min_j (o_j + λ·c_j) − λ·B = L(λ),
// so L(λ) is a lower bound; max_λ L(λ) equals the LP relaxation's optimum (the group constraints
// Σ_j x_j = 1 have the integrality property), i.e. the convex-hull relaxation of every group.
// L is concave and piecewise linear; g(λ) = Σ_g c_{j*(g)} − B is a supergradient.

/// L(λ) with the supergradient in g (m values); argmin[g] gets each group's minimizer when non-null.
/// Ties go to the first choice (lowest objective, as groups are sorted).
inline double lagrangian(const mckp_view& k, const double* lambda, double* g, std::uint32_t* argmin = nullptr) {
  const std::size_t m = k.m, G = k.groups();
  for (std::size_t r = 0; r < m; ++r) g[r] = -k.budget[r];
  double total = 0.0;
  for (std::size_t grp = 0; grp < G; ++grp) {
    const std::uint32_t b = k.group_begin[grp], e = k.group_begin[grp + 1];
    double best = std::numeric_limits<double>::infinity();
    std::uint32_t bj = b;
    for (std::uint32_t j = b; j < e; ++j) {
      const double* c = k.cost_of(j);
      double v = k.obj[j];
      for (std::size_t r = 0; r < m; ++r) v += lambda[r] * c[r];
      if (v < best) {
        best = v;
        bj = j;
      }
    }
    total += best;
    const double* c = k.cost_of(bj);
    for (std::size_t r = 0; r < m; ++r) g[r] += c[r];
    if (argmin) argmin[grp] = bj;
  }
  for (std::size_t r = 0; r < m; ++r) total -= lambda[r] * k.budget[r];
  return total;
}

/// True when the surrogate constraint Σ_r μ_r·cost_r <= Σ_r μ_r·B_r (μ >= 0, implied by the
/// budgets) fails even with each group's cheapest choice in μ-weighted cost: a proof that no
/// allocation meets every budget. μ = the direction an unbounded dual ascent runs to.
inline bool surrogate_infeasible(const mckp_view& k, const double* mu) {
  const std::size_t m = k.m;
  double need = 0.0, mag = 0.0, have = 0.0;
  for (std::size_t g = 0; g < k.groups(); ++g) {
    double best = std::numeric_limits<double>::infinity();
    for (std::uint32_t j = k.group_begin[g]; j < k.group_begin[g + 1]; ++j) {
      double v = 0.0;
      for (std::size_t r = 0; r < m; ++r) v += mu[r] * k.cost_of(j)[r];
      best = std::min(best, v);
    }
    need += best;
    mag += std::fabs(best);
  }
  for (std::size_t r = 0; r < m; ++r) {
    have += mu[r] * k.budget[r];
    mag += std::fabs(mu[r] * k.budget[r]);
  }
  return need > have + 1e-12 * mag;
}

/// For dual_ascent's row_orders: out[r·N + i] lists the choices of every group, each group's sorted
/// by cost in row r descending (N = choices of the view, counted from group_begin[0]).
inline void sort_rows(const mckp_view& k, std::vector<std::uint32_t>& out) {
  const std::size_t m = k.m, first = k.group_begin[0], n = k.group_begin[k.groups()] - first;
  out.resize(m * n);
  for (std::size_t r = 0; r < m; ++r) {
    std::uint32_t* o = out.data() + r * n;
    for (std::size_t i = 0; i < n; ++i) o[i] = static_cast<std::uint32_t>(first + i);
    for (std::size_t g = 0; g < k.groups(); ++g)
      std::sort(o + (k.group_begin[g] - first), o + (k.group_begin[g + 1] - first),
                [&](std::uint32_t a, std::uint32_t b) { return k.cost_of(a)[r] > k.cost_of(b)[r]; });
  }
}

/// Maximizes L over λ >= 0 by exact line maximizations: along each coordinate, then along the
/// last round's overall move (which follows the ridges coordinate steps stall on), until a round
/// gains nothing. Each line maximization is exact and costs one sort per group: along λ + t·d,
/// group g contributes the lower envelope of the lines o_j + λ·c_j + t·(d·c_j), so the maximum of
/// Σ_g envelope_g(t) − t·d·B sits at the breakpoint where its slope turns <= 0.
/// For one constraint this is the exact dual; for several it is a good λ (any λ gives a bound).
class dual_ascent {
 public:
  /// λ in/out (warm start; resized to m and clamped to [0, cap]). Returns L(λ).
  /// `row_orders` (optional, m pointers): for each row r, every choice index of the view's groups,
  /// group by group, each group's choices sorted by cost in row r descending; it saves the sort in
  /// coordinate steps (see sort_rows()).
  double maximize(const mckp_view& k, std::vector<double>& lambda, int max_rounds = 40,
                  const std::uint32_t* const* row_orders = nullptr) {
    orders_ = row_orders;
    const std::size_t m = k.m;
    lambda.resize(m, 0.0);
    g_.assign(m, 0.0);
    scales(k);
    for (std::size_t r = 0; r < m; ++r) lambda[r] = std::clamp(std::isfinite(lambda[r]) ? lambda[r] : 0.0, 0.0, cap_[r]);
    double f = lagrangian(k, lambda.data(), g_.data());
    if (m == 0 || f > obj_upper_) return f;
    prev_.resize(m);
    dir_.resize(m);
    for (int round = 0; round < max_rounds; ++round) {
      const double f_round = f;
      prev_ = lambda;
      for (std::size_t r = 0; r < m; ++r) {
        std::fill(dir_.begin(), dir_.end(), 0.0);
        dir_[r] = 1.0;
        f = line_max(k, lambda, f, orders_ ? orders_[r] : nullptr);
      }
      if (m > 1) {
        bool moved = false;
        for (std::size_t r = 0; r < m; ++r) {
          dir_[r] = lambda[r] - prev_[r];
          moved = moved || dir_[r] != 0.0;
        }
        if (moved) f = line_max(k, lambda, f, nullptr);
      }
      // Rounds stop once one gains less than 1e-9 of the objective scale: the bound is then as
      // good as the search needs (λ only has to be near-optimal for the bounds to be strong).
      if (m == 1 || !(f > f_round + round_tol_) || f > obj_upper_) break;
    }
    return f;
  }

  /// Supergradient at the λ maximize() returned.
  const std::vector<double>& supergradient() const noexcept { return g_; }
  /// Σ_g max_j o_j: no allocation's objective exceeds it, so L(λ) above it proves that no
  /// allocation meets every budget (the dual of an infeasible relaxation is unbounded).
  double objective_upper() const noexcept { return obj_upper_; }
  /// Objective scale used for tolerances: Σ_g max_j |o_j| (>= tiny).
  double objective_scale() const noexcept { return obj_scale_; }
  /// Per-row cap on λ (see scales()); a λ at its cap suggests an infeasible relaxation.
  const std::vector<double>& cap() const noexcept { return cap_; }
  /// Per-row natural multiplier scale: (Σ_g objective spread) / (Σ_g cost spread).
  const std::vector<double>& row_scale() const noexcept { return row_scale_; }

 private:
  void scales(const mckp_view& k) {
    const std::size_t m = k.m, G = k.groups();
    row_scale_.assign(m, 0.0);
    cost_spread_.assign(m, 0.0);
    double spread = 0.0;
    obj_scale_ = 0.0;
    obj_upper_ = 0.0;
    for (std::size_t grp = 0; grp < G; ++grp) {
      const std::uint32_t b = k.group_begin[grp], e = k.group_begin[grp + 1];
      double lo = k.obj[b], hi = k.obj[b];
      for (std::uint32_t j = b; j < e; ++j) {
        lo = std::min(lo, k.obj[j]);
        hi = std::max(hi, k.obj[j]);
      }
      spread += hi - lo;
      obj_upper_ += hi;
      obj_scale_ += std::max(std::fabs(lo), std::fabs(hi));
      for (std::size_t r = 0; r < m; ++r) {
        double clo = k.cost_of(b)[r], chi = clo;
        for (std::uint32_t j = b; j < e; ++j) {
          clo = std::min(clo, k.cost_of(j)[r]);
          chi = std::max(chi, k.cost_of(j)[r]);
        }
        cost_spread_[r] += chi - clo;
      }
    }
    obj_scale_ = std::max(obj_scale_, 1e-300);
    cap_.resize(m);
    for (std::size_t r = 0; r < m; ++r) {
      row_scale_[r] = cost_spread_[r] > 0.0 && spread > 0.0 ? spread / cost_spread_[r] : 1.0;
      // λ_r·B_r stays within 1e3 objective scales, so L(λ) is accurate to ~1e-13 of them.
      const double denom = std::max({std::fabs(k.budget[r]), cost_spread_[r], 1e-300});
      cap_[r] = 1e3 * obj_scale_ / denom;
    }
    round_tol_ = 1e-9 * obj_scale_;
  }

  // Maximize t -> L(λ + t·dir) over the t keeping λ + t·dir in [0, cap]; updates λ, g_ and
  // returns the new L. Lines of group g: intercept a_j = o_j + λ·c_j, slope s_j = dir·c_j.
  double line_max(const mckp_view& k, std::vector<double>& lambda, double f0, const std::uint32_t* order) {
    const std::size_t m = k.m, G = k.groups();
    double tmin = -std::numeric_limits<double>::infinity(), tmax = std::numeric_limits<double>::infinity();
    for (std::size_t r = 0; r < m; ++r) {
      if (dir_[r] > 0.0) {
        tmin = std::max(tmin, -lambda[r] / dir_[r]);
        tmax = std::min(tmax, (cap_[r] - lambda[r]) / dir_[r]);
      } else if (dir_[r] < 0.0) {
        tmin = std::max(tmin, (cap_[r] - lambda[r]) / dir_[r]);
        tmax = std::min(tmax, -lambda[r] / dir_[r]);
      }
    }
    if (!(tmin <= 0.0 && tmax >= 0.0) || tmin == tmax) return f0;
    double dB = 0.0;
    for (std::size_t r = 0; r < m; ++r) dB += dir_[r] * k.budget[r];
    // Per group: the envelope's line at tmin and its breakpoints inside (tmin, tmax).
    breaks_.clear();
    double slope = -dB;  // d/dt of the dual just right of tmin
    for (std::size_t grp = 0; grp < G; ++grp) {
      const std::uint32_t b = k.group_begin[grp], e = k.group_begin[grp + 1];
      lines_.clear();
      for (std::uint32_t i = b; i < e; ++i) {
        const std::uint32_t j = order ? order[i - k.group_begin[0]] : i;
        const double* c = k.cost_of(j);
        double a = k.obj[j], sl = 0.0;
        for (std::size_t r = 0; r < m; ++r) {
          a += lambda[r] * c[r];
          sl += dir_[r] * c[r];
        }
        lines_.push_back({sl, a});
      }
      // Lower envelope for increasing t: slopes descending (`order` gives that already).
      if (!order)
        std::sort(lines_.begin(), lines_.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
      hull_.clear();
      for (const auto& ln : lines_) {
        if (!hull_.empty() && hull_.back().first == ln.first) {  // same slope: keep the lower line
          if (ln.second >= hull_.back().second) continue;
          hull_.pop_back();
        }
        while (hull_.size() >= 2) {
          const auto& p1 = hull_[hull_.size() - 2];
          const auto& p2 = hull_.back();
          // p2 is useless if ln overtakes p1 no later than p2 does.
          const double x12 = (p2.second - p1.second) / (p1.first - p2.first);
          const double x13 = (ln.second - p1.second) / (p1.first - ln.first);
          if (x13 <= x12) hull_.pop_back();
          else break;
        }
        hull_.push_back(ln);
      }
      // The active line at tmin (start of the range), then the later breakpoints.
      std::size_t at = 0;
      if (tmin == -std::numeric_limits<double>::infinity()) {
        at = 0;
      } else {
        while (at + 1 < hull_.size()) {
          const double x = (hull_[at + 1].second - hull_[at].second) / (hull_[at].first - hull_[at + 1].first);
          if (x > tmin) break;
          ++at;
        }
      }
      slope += hull_[at].first;
      for (std::size_t i = at; i + 1 < hull_.size(); ++i) {
        const double x = (hull_[i + 1].second - hull_[i].second) / (hull_[i].first - hull_[i + 1].first);
        if (!(x < tmax)) break;
        breaks_.push_back({x, hull_[i].first - hull_[i + 1].first});
      }
    }
    double t = tmin;
    if (slope > 0.0) t = first_crossing(slope, tmax);
    if (!std::isfinite(t)) return f0;  // unbounded along dir: leave λ where it is
    trial_.resize(m);
    for (std::size_t r = 0; r < m; ++r) trial_[r] = std::clamp(lambda[r] + t * dir_[r], 0.0, cap_[r]);
    tg_.resize(m);
    const double f = lagrangian(k, trial_.data(), tg_.data());
    if (!(f > f0)) return f0;  // rounding: keep the point we had
    lambda = trial_;
    g_ = tg_;
    return f;
  }

  // The smallest breakpoint t at which the slope, lowered by the drops of every breakpoint <= t,
  // reaches <= 0 (tmax if none does): a weighted selection (quickselect on t, expected linear
  // time) instead of a full sort of the breakpoints.
  double first_crossing(double slope, double tmax) {
    const auto at = [&](std::size_t i) { return breaks_.begin() + static_cast<std::ptrdiff_t>(i); };
    const std::size_t n = breaks_.size();
    std::size_t lo = 0, hi = n;  // the crossing, if any, is the lo..hi-1-th smallest breakpoint
    while (hi - lo > 1) {
      const std::size_t mid = lo + (hi - lo) / 2;
      std::nth_element(at(lo), at(mid), at(hi));  // [lo, mid) <= [mid] <= (mid, hi)
      double drop = 0.0;
      for (std::size_t i = lo; i < mid; ++i) drop += breaks_[i].second;
      if (slope - drop <= 0.0) {
        hi = mid;
      } else {
        slope -= drop;
        lo = mid;
      }
    }
    if (lo < n && slope - breaks_[lo].second <= 0.0) return breaks_[lo].first;
    return tmax;
  }

  std::vector<double> g_, tg_, trial_, prev_, dir_, row_scale_, cost_spread_, cap_;
  const std::uint32_t* const* orders_ = nullptr;
  std::vector<std::pair<double, double>> lines_, hull_, breaks_;
  double obj_scale_ = 1.0, obj_upper_ = 0.0, round_tol_ = 0.0;
};

}  // namespace mpq::detail
