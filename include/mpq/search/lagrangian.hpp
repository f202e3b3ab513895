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
  return with_rows(k.m, [&](auto m) {
    const std::size_t G = k.groups();
    for (std::size_t r = 0; r < m; ++r) g[r] = -k.budget[r];
    double total = 0.0;
    for (std::size_t grp = 0; grp < G; ++grp) {
      const std::uint32_t b = k.group_begin[grp], e = k.group_begin[grp + 1];
      double best = std::numeric_limits<double>::infinity();
      std::uint32_t bj = b;
      for (std::uint32_t j = b; j < e; ++j) {
        const double* c = k.cost + static_cast<std::size_t>(j) * m;
        double v = k.obj[j];
        for (std::size_t r = 0; r < m; ++r) v += lambda[r] * c[r];
        if (v < best) {
          best = v;
          bj = j;
        }
      }
      total += best;
      const double* c = k.cost + static_cast<std::size_t>(bj) * m;
      for (std::size_t r = 0; r < m; ++r) g[r] += c[r];
      if (argmin) argmin[grp] = bj;
    }
    for (std::size_t r = 0; r < m; ++r) total -= lambda[r] * k.budget[r];
    return total;
  });
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

/// Maximizes L over λ >= 0 by exact line maximizations: along each coordinate, then along the
/// last round's overall move (which follows the ridges coordinate steps stall on), until a round
/// gains nothing. Along λ + t·d group g contributes the lower envelope of the lines
/// o_j + λ·c_j + t·(d·c_j), so the maximum of Σ_g envelope_g(t) − t·d·B sits at the breakpoint
/// where its slope turns <= 0. Each line maximization walks the breakpoints in order from t = 0
/// (a heap holding each group's next one) until the slope turns: one pass over the choices plus a
/// pass over one group per breakpoint crossed, and near the optimum few are crossed.
/// For one constraint this is the exact dual; for several it is a good λ (any λ gives a bound).
class dual_ascent {
 public:
  /// λ in/out (warm start; resized to m and clamped to [0, cap]). Returns L(λ).
  /// With keep_scales, the caps and tolerances of the last adopt_scales() (or maximize()) call are
  /// used instead of being recomputed from k: for many small solves over parts of one problem
  /// (the search's per-state bounds), where that pass would be a tenth of the work. Any λ gives a
  /// valid bound, so borrowed scales change only how far the ascent may move, never the validity.
  double maximize(const mckp_view& k, std::vector<double>& lambda, int max_rounds = 40, bool keep_scales = false) {
    const std::size_t m = k.m;
    lambda.resize(m, 0.0);
    g_.assign(m, 0.0);
    if (!keep_scales || cap_.size() != m) scales(k);
    for (std::size_t r = 0; r < m; ++r) lambda[r] = std::clamp(std::isfinite(lambda[r]) ? lambda[r] : 0.0, floor_[r], cap_[r]);
    // A cold start (λ = 0) begins at half the natural multiplier scale, split over the budgets:
    // from 0 the first line searches cross nearly every breakpoint (on ResNet-18 this start saves
    // ~8% of a whole solve). Any start reaches the same maximum; the ascent moves both ways.
    if (std::all_of(lambda.begin(), lambda.end(), [](double v) { return v == 0.0; }))
      for (std::size_t r = 0; r < m; ++r) lambda[r] = std::min(cap_[r], 0.5 * row_scale_[r] / static_cast<double>(m));
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
        f = line_max(k, lambda, f);
      }
      if (m > 1) {
        bool moved = false;
        for (std::size_t r = 0; r < m; ++r) {
          dir_[r] = lambda[r] - prev_[r];
          moved = moved || dir_[r] != 0.0;
        }
        if (moved) f = line_max(k, lambda, f);
      }
      // Rounds stop once one gains less than 1e-9 of the objective scale: the bound is then as
      // good as the search needs (λ only has to be near-optimal for the bounds to be strong).
      if (m == 1 || !(f > f_round + round_tol_) || f > obj_upper_) break;
    }
    return f;
  }

  /// Computes the caps, scales and tolerances of k (what maximize() does first) for later
  /// maximize(..., keep_scales = true) calls.
  void adopt_scales(const mckp_view& k) { scales(k); }

  /// After adopt_scales(): keeps λ inside the box [lo, hi] (per row, within [0, cap]) in the
  /// maximize(..., keep_scales = true) calls that follow, e.g. a box within which a caller has
  /// replaced some groups by their fixed minimizers. The next adopt_scales() lifts it.
  void restrict_to(const double* lo, const double* hi) {
    for (std::size_t r = 0; r < cap_.size(); ++r) {
      cap_[r] = std::min(cap_[r], hi[r]);
      floor_[r] = std::clamp(lo[r], 0.0, cap_[r]);
    }
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
    floor_.assign(m, 0.0);
    for (std::size_t r = 0; r < m; ++r) {
      row_scale_[r] = cost_spread_[r] > 0.0 && spread > 0.0 ? spread / cost_spread_[r] : 1.0;
      // λ_r·B_r stays within 1e3 objective scales, so L(λ) is accurate to ~1e-13 of them.
      const double denom = std::max({std::fabs(k.budget[r]), cost_spread_[r], 1e-300});
      cap_[r] = 1e3 * obj_scale_ / denom;
    }
    round_tol_ = 1e-9 * obj_scale_;
  }

  // Maximize t -> L(λ + t·dir) over the t keeping λ + t·dir in [0, cap]; updates λ, g_ and
  // returns the new L. Lines of choice j: intercept a_j = o_j + λ·c_j, slope s_j = dir·c_j.
  double line_max(const mckp_view& k, std::vector<double>& lambda, double f0) {
    const std::size_t m = k.m, G = k.groups(), first = k.group_begin[0];
    double tmin = -std::numeric_limits<double>::infinity(), tmax = std::numeric_limits<double>::infinity();
    for (std::size_t r = 0; r < m; ++r) {
      if (dir_[r] > 0.0) {
        tmin = std::max(tmin, (floor_[r] - lambda[r]) / dir_[r]);
        tmax = std::min(tmax, (cap_[r] - lambda[r]) / dir_[r]);
      } else if (dir_[r] < 0.0) {
        tmin = std::max(tmin, (cap_[r] - lambda[r]) / dir_[r]);
        tmax = std::min(tmax, (floor_[r] - lambda[r]) / dir_[r]);
      }
    }
    if (!(tmin <= 0.0 && tmax >= 0.0) || tmin == tmax) return f0;
    double dB = 0.0;
    for (std::size_t r = 0; r < m; ++r) dB += dir_[r] * k.budget[r];
    // Every line, and the slopes of L just right and just left of t = 0: each group's minimizers
    // at t = 0 (exact ties) contribute their smallest slope to the right, their largest to the left.
    const std::size_t n = k.group_begin[G] - first;
    a_.resize(n);
    s_.resize(n);
    double right = -dB, left = -dB;
    with_rows(m, [&](auto mm) {
      const double* lam = lambda.data();
      act_lo_.resize(G);
      act_hi_.resize(G);
      for (std::size_t grp = 0; grp < G; ++grp) {
        double best = std::numeric_limits<double>::infinity(), lo = 0.0, hi = 0.0;
        std::uint32_t jlo = k.group_begin[grp], jhi = jlo;
        for (std::uint32_t j = k.group_begin[grp]; j < k.group_begin[grp + 1]; ++j) {
          const double* c = k.cost + static_cast<std::size_t>(j) * mm;
          double a = k.obj[j], sl = 0.0;
          for (std::size_t r = 0; r < mm; ++r) {
            a += lam[r] * c[r];
            sl += dir_[r] * c[r];
          }
          a_[j - first] = a;
          s_[j - first] = sl;
          if (a < best) {
            best = a;
            lo = hi = sl;
            jlo = jhi = j;
          } else if (a == best) {
            if (sl < lo) {
              lo = sl;
              jlo = j;
            }
            if (sl > hi) {
              hi = sl;
              jhi = j;
            }
          }
        }
        right += lo;
        left += hi;
        act_lo_[grp] = jlo;
        act_hi_[grp] = jhi;
      }
    });
    double t = 0.0;
    if (right > 0.0) {
      t = walk(k, +1.0, right, tmax);
    } else if (left < 0.0) {
      t = -walk(k, -1.0, -left, -tmin);  // the same walk along −dir
    } else {
      return f0;  // 0 is in the superdifferential along dir: no gain on this line
    }
    if (!std::isfinite(t)) return f0;  // unbounded along dir: leave λ where it is
    trial_.resize(m);
    for (std::size_t r = 0; r < m; ++r) trial_[r] = std::clamp(lambda[r] + t * dir_[r], floor_[r], cap_[r]);
    tg_.resize(m);
    const double f = lagrangian(k, trial_.data(), tg_.data());
    if (!(f > f0)) return f0;  // rounding: keep the point we had
    lambda = trial_;
    g_ = tg_;
    return f;
  }

  // From t = 0 along sign·dir, with slope > 0 just right of 0: the first breakpoint at which the
  // slope turns <= 0, or t_end if none does before it. Lines are (a_, sign·s_).
  double walk(const mckp_view& k, double sign, double slope, double t_end) {
    const std::size_t G = k.groups(), first = k.group_begin[0];
    heap_.clear();
    // The active line of a group at t (the minimizer just right of t, the smallest slope among
    // ties), and when it is overtaken next: min over flatter lines of (a_i − a_j) / (s_j − s_i).
    auto next_break = [&](std::size_t grp, std::uint32_t j, double t) {
      const double aj = a_[j - first], sj = sign * s_[j - first];
      double tb = std::numeric_limits<double>::infinity(), snext = 0.0;
      std::uint32_t nj = j;
      for (std::uint32_t i = k.group_begin[grp]; i < k.group_begin[grp + 1]; ++i) {
        const double si = sign * s_[i - first];
        if (!(si < sj)) continue;
        const double x = std::max(t, (a_[i - first] - aj) / (sj - si));
        if (x < tb || (x == tb && si < snext)) {
          tb = x;
          snext = si;
          nj = i;
        }
      }
      if (nj != j) {
        heap_.push_back({tb, static_cast<std::uint32_t>(grp)});
        std::push_heap(heap_.begin(), heap_.end(), key_after);
      }
      next_[grp] = nj;
    };
    next_.resize(G);
    // The active lines just right of 0 (line_max found them: the least sign·slope among ties).
    active_ = sign > 0.0 ? act_lo_ : act_hi_;
    for (std::size_t grp = 0; grp < G; ++grp) next_break(grp, active_[grp], 0.0);
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), key_after);
      const auto [tb, grp] = heap_.back();
      heap_.pop_back();
      if (!(tb < t_end)) break;
      const std::uint32_t old = active_[grp], now = next_[grp];
      slope += sign * (s_[now - first] - s_[old - first]);
      if (slope <= 0.0) return tb;
      active_[grp] = now;
      next_break(grp, now, tb);
    }
    return t_end;
  }

  std::vector<double> g_, tg_, trial_, prev_, dir_, row_scale_, cost_spread_, cap_, floor_, a_, s_;
  std::vector<std::uint32_t> active_, next_, act_lo_, act_hi_;
  std::vector<std::pair<double, std::uint32_t>> heap_;
  double obj_scale_ = 1.0, obj_upper_ = 0.0, round_tol_ = 0.0;
};

}  // namespace mpq::detail
