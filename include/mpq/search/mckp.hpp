// The multiple-choice knapsack form every strategy but `exhaustive` works on: tie groups merged,
// max-constraints and forbidden choices filtered, dominated choices removed; plus result filling.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"

namespace mpq::detail {

/// The compiled problem. Group g holds the choices [group_begin[g], group_begin[g+1]); a choice
/// picks one candidate (flat index into the problem's tables) for each layer of its group,
/// picks[pick_begin[choice] + k] for the group's k-th layer layers[layer_begin[g] + k]. Within a
/// group the choices are sorted by objective, ascending. Only sum constraints remain as rows
/// (cost[choice * m + r] <= budget[r] after summing); max constraints became filters.
struct mckp {
  std::size_t m = 0;
  std::vector<std::size_t> rows;            // problem constraint index of each row
  std::vector<double> budget;               // per row, in cost-table units
  std::vector<std::uint32_t> group_begin;   // G + 1
  std::vector<std::uint32_t> layer_begin;   // G + 1
  std::vector<std::uint32_t> layers;        // member layers of each group (ascending)
  std::vector<double> obj;                  // per choice
  std::vector<double> cost;                 // per choice × m
  std::vector<std::uint32_t> pick_begin;    // per choice + 1
  std::vector<std::uint32_t> picks;         // flat candidate indices
  std::vector<double> min_achievable;       // per problem constraint, that constraint alone

  std::size_t groups() const noexcept { return group_begin.size() - 1; }
  std::size_t choices() const noexcept { return obj.size(); }
  const double* cost_of(std::size_t choice) const noexcept { return cost.data() + choice * m; }
};

/// A read-only window on the groups and budgets of a compiled problem: all of it, or the groups
/// from some point on with other budgets (the bound of a partial allocation's completions).
struct mckp_view {
  std::size_t m = 0;
  std::size_t group_count = 0;
  const std::uint32_t* group_begin = nullptr;  // group_count + 1 offsets (absolute choice indices)
  const double* obj = nullptr;
  const double* cost = nullptr;                // choice × m
  const double* budget = nullptr;              // m

  std::size_t groups() const noexcept { return group_count; }
  const double* cost_of(std::size_t choice) const noexcept { return cost + choice * m; }
};

inline mckp_view view_of(const mckp& k) noexcept {
  return {k.m, k.groups(), k.group_begin.data(), k.obj.data(), k.cost.data(), k.budget.data()};
}

/// Calls f(M) with the row count M as a compile-time constant for the common counts (1 and 2
/// budgets), else as a runtime value: the hot per-choice loops `for r < M` then unroll.
template <class F>
decltype(auto) with_rows(std::size_t m, F&& f) {
  switch (m) {
    case 1: return f(std::integral_constant<std::size_t, 1>{});
    case 2: return f(std::integral_constant<std::size_t, 2>{});
    default: return f(m);
  }
}

/// Heap order for (key, index) pairs: the smallest key on top (std::push_heap / pop_heap).
inline bool key_after(const std::pair<double, std::uint32_t>& x, const std::pair<double, std::uint32_t>& y) noexcept {
  return x.first > y.first;
}

/// Reusable buffers of the compile step (a strategy keeps one, so repeated solves do not allocate).
struct mckp_workspace {
  std::vector<std::size_t> parent, members, order, kept, front, member_begin, member_list;
  std::vector<std::vector<std::size_t>> allowed;
  std::vector<std::size_t> digit;
  std::vector<std::pair<std::size_t, tie_kind>> tie_to;  // per (member, earlier member)
  std::vector<std::size_t> tie_begin;
  std::vector<double> obj_tmp, cost_tmp, minsum, combo_cost;
  std::vector<std::uint32_t> pick_tmp;
  std::vector<std::uint32_t> pick_begin_tmp;
  std::vector<const double*> tables;  // per constraint: its cost table
};

/// Largest number of tie-consistent combinations one tie group may have.
inline constexpr std::size_t max_group_combinations = std::size_t{1} << 20;

inline std::size_t uf_find(std::vector<std::size_t>& p, std::size_t x) {
  while (p[x] != x) x = p[x] = p[p[x]];
  return x;
}

inline double combine_cost(cost_aggregation a, double acc, double v) {
  return a == cost_aggregation::sum ? acc + v : (v > acc ? v : acc);
}

/// Compile `p` into `out`. Fails with errc::infeasible when some layer (or tie group) has no choice
/// left after the max-constraint filters and forbidden (+inf) objectives, with a message naming it.
/// prune_dominated = false keeps dominated choices (a strategy that walks bit widths step by step
/// needs every step).
inline status compile(const problem& p, mckp& out, mckp_workspace& ws, bool prune_dominated = true) {
  const std::size_t L = p.layer_count(), C = p.constraint_count();
  if (L == 0) return status::failure(errc::invalid_argument, "search: the problem has no layers");
  if (!p.has_objective())
    return status::failure(errc::invalid_argument, "search: the problem has no objective (call set_objective)");

  out.rows.clear();
  out.budget.clear();
  for (std::size_t c = 0; c < C; ++c)
    if (p.constraint(c).aggregation == cost_aggregation::sum) {
      out.rows.push_back(c);
      out.budget.push_back(p.raw_budget(c));
    }
  out.m = out.rows.size();
  out.group_begin.assign(1, 0);
  out.layer_begin.assign(1, 0);
  out.layers.clear();
  out.obj.clear();
  out.cost.clear();
  out.pick_begin.assign(1, 0);
  out.picks.clear();
  out.min_achievable.assign(C, 0.0);

  // Tie groups by union-find; each group is listed once, at its smallest layer.
  ws.parent.resize(L);
  for (std::size_t l = 0; l < L; ++l) ws.parent[l] = l;
  for (const layer_tie& t : p.ties()) {
    std::size_t a = uf_find(ws.parent, t.first), b = uf_find(ws.parent, t.second);
    if (a != b) ws.parent[std::max(a, b)] = std::min(a, b);
  }
  const auto objective = p.objective_table();
  const auto flat_bits = p.candidate_table();
  ws.allowed.resize(L);
  ws.minsum.resize(C);
  ws.combo_cost.resize(C);
  ws.tables.resize(C);
  for (std::size_t c = 0; c < C; ++c) ws.tables[c] = p.cost_table(c).data();
  out.obj.reserve(p.candidate_count());
  out.cost.reserve(p.candidate_count() * out.m);
  out.picks.reserve(p.candidate_count());
  out.pick_begin.reserve(p.candidate_count() + 1);
  // Append the combination pick(0..K-1) (flat candidate indices) as a choice unless it is
  // forbidden (+inf objective) or outside a max budget; every combination counts for minsum.
  // A combination whose constraint-c cost is v: counts for minsum; false when v is over a max budget.
  auto note_cost = [&](std::size_t c, double v) {
    ws.minsum[c] = std::min(ws.minsum[c], v);
    return p.constraint(c).aggregation != cost_aggregation::max || p.within_budget(c, v / p.constraint(c).normalizer);
  };
  auto add_choice = [&](auto pick, std::size_t K) {
    double o = 0.0;
    for (std::size_t q = 0; q < K; ++q) o += objective[pick(q)];
    bool allowed = o != std::numeric_limits<double>::infinity();
    for (std::size_t c = 0; c < C; ++c) {
      const cost_aggregation agg = p.constraint(c).aggregation;
      const double* table = ws.tables[c];
      double v = 0.0;
      for (std::size_t q = 0; q < K; ++q) v = combine_cost(agg, v, table[pick(q)]);
      ws.combo_cost[c] = v;
      if (!note_cost(c, v)) allowed = false;
    }
    if (!allowed) return;
    out.obj.push_back(o);
    for (std::size_t r = 0; r < out.m; ++r) out.cost.push_back(ws.combo_cost[out.rows[r]]);
    for (std::size_t q = 0; q < K; ++q) out.picks.push_back(static_cast<std::uint32_t>(pick(q)));
    out.pick_begin.push_back(static_cast<std::uint32_t>(out.picks.size()));
  };

  // Members of each root, ascending (a counting sort by root).
  ws.member_begin.assign(L + 1, 0);
  for (std::size_t l = 0; l < L; ++l) {
    ws.parent[l] = uf_find(ws.parent, l);  // from here on parent[l] is l's root
    ++ws.member_begin[ws.parent[l] + 1];
  }
  for (std::size_t l = 0; l < L; ++l) ws.member_begin[l + 1] += ws.member_begin[l];
  ws.member_list.resize(L);
  ws.order.assign(ws.member_begin.begin(), ws.member_begin.end() - 1);  // next free slot per root
  for (std::size_t l = 0; l < L; ++l) ws.member_list[ws.order[ws.parent[l]]++] = l;

  for (std::size_t root = 0; root < L; ++root) {
    if (ws.parent[root] != root) continue;
    ws.members.assign(ws.member_list.begin() + static_cast<std::ptrdiff_t>(ws.member_begin[root]),
                      ws.member_list.begin() + static_cast<std::ptrdiff_t>(ws.member_begin[root + 1]));
    const std::size_t K = ws.members.size();

    for (std::size_t c = 0; c < C; ++c) ws.minsum[c] = std::numeric_limits<double>::infinity();
    const std::size_t first_choice = out.obj.size();
    bool any_consistent = false;
    if (K == 1) {  // an untied layer: its allowed candidates are the choices, written in place
      const std::size_t off = p.candidate_offset(root), n = p.candidates(root).size(), m = out.m;
      const std::size_t first_pick = out.picks.size();
      out.obj.resize(first_choice + n);
      out.cost.resize((first_choice + n) * m);
      out.picks.resize(first_pick + n);
      out.pick_begin.resize(first_choice + n + 1);
      std::size_t w = first_choice;
      for (std::size_t idx = off; idx < off + n; ++idx) {
        bool allowed = objective[idx] != std::numeric_limits<double>::infinity();
        for (std::size_t c = 0; c < C; ++c)
          if (!note_cost(c, ws.tables[c][idx])) allowed = false;
        if (!allowed) continue;
        out.obj[w] = objective[idx];
        for (std::size_t r = 0; r < m; ++r) out.cost[w * m + r] = ws.tables[out.rows[r]][idx];
        out.picks[first_pick + (w - first_choice)] = static_cast<std::uint32_t>(idx);
        ++w;
        out.pick_begin[w] = static_cast<std::uint32_t>(first_pick + (w - first_choice));
      }
      out.obj.resize(w);
      out.cost.resize(w * m);
      out.picks.resize(first_pick + (w - first_choice));
      out.pick_begin.resize(w + 1);
      any_consistent = n > 0;
    } else {
      // Ties of member k to earlier members (positions < k).
      ws.tie_begin.assign(K + 1, 0);
      ws.tie_to.clear();
      for (std::size_t k = 0; k < K; ++k) {
        for (const layer_tie& t : p.ties()) {
          std::size_t other = L;
          if (t.first == ws.members[k]) other = t.second;
          else if (t.second == ws.members[k]) other = t.first;
          if (other == L) continue;
          for (std::size_t q = 0; q < k; ++q)
            if (ws.members[q] == other) ws.tie_to.push_back({q, t.kind});
        }
        ws.tie_begin[k + 1] = static_cast<std::size_t>(ws.tie_to.size());
      }

      // Enumerate tie-consistent combinations. Every combination counts for min_achievable; only
      // allowed ones (finite objective, inside every max budget) become choices.
      std::size_t combos = 0;
      auto too_many = [&] {
        return status::failure(errc::unsupported,
                               "search: the tie group of layer %zu '%s' has more than %zu consistent combinations",
                               root, p.layer(root).name.c_str(), max_group_combinations);
      };
      if (K == 2) {  // the common case (a layer tied to one other): every pair, checked directly
        const std::size_t o0 = p.candidate_offset(ws.members[0]), e0 = o0 + p.candidates(ws.members[0]).size();
        const std::size_t o1 = p.candidate_offset(ws.members[1]), e1 = o1 + p.candidates(ws.members[1]).size();
        // However many ties join the two layers, together they ask for equal W, equal A, or both.
        bool same_w = false, same_a = false;
        for (std::size_t t = ws.tie_begin[1]; t < ws.tie_begin[2]; ++t) {
          same_w = same_w || ws.tie_to[t].second != tie_kind::activations;
          same_a = same_a || ws.tie_to[t].second != tie_kind::weights;
        }
        for (std::size_t i = o0; i < e0; ++i)
          for (std::size_t j = o1; j < e1; ++j) {
            const bit_pair bi = flat_bits[i], bj = flat_bits[j];
            if ((same_w && bi.w != bj.w) || (same_a && bi.a != bj.a)) continue;
            any_consistent = true;
            if (++combos > max_group_combinations) return too_many();
            add_choice([&](std::size_t q) { return q == 0 ? i : j; }, 2);
          }
      } else {
        // Odometer over the members.
        for (std::size_t q = 0; q < K; ++q) {
          const std::size_t l = ws.members[q];
          ws.allowed[q].clear();
          for (std::size_t j = 0; j < p.candidates(l).size(); ++j) ws.allowed[q].push_back(p.candidate_offset(l) + j);
        }
        ws.digit.assign(K, 0);
        // Depth-first: position k tries its candidates in order; consistency checked against earlier.
        std::size_t k = 0;
        while (true) {
          if (ws.digit[k] == ws.allowed[k].size()) {
            if (k == 0) break;
            ws.digit[k] = 0;
            --k;
            ++ws.digit[k];
            continue;
          }
          const bit_pair bk = flat_bits[ws.allowed[k][ws.digit[k]]];
          bool ok = true;
          for (std::size_t t = ws.tie_begin[k]; t < ws.tie_begin[k + 1] && ok; ++t) {
            const std::size_t q = ws.tie_to[t].first;
            ok = problem::tie_holds(ws.tie_to[t].second, flat_bits[ws.allowed[q][ws.digit[q]]], bk);
          }
          if (!ok) {
            ++ws.digit[k];
            continue;
          }
          if (k + 1 < K) {
            ++k;
            continue;
          }
          // A full, consistent combination.
          any_consistent = true;
          if (++combos > max_group_combinations) return too_many();
          add_choice([&](std::size_t q) { return ws.allowed[q][ws.digit[q]]; }, K);
          ++ws.digit[k];
        }
      }
    }
    if (!any_consistent)
      return status::failure(errc::infeasible,
                             "search: the ties of layer %zu '%s' admit no common candidate (tied layers share no "
                             "bits)",
                             root, p.layer(root).name.c_str());
    for (std::size_t c = 0; c < C; ++c)
      out.min_achievable[c] = combine_cost(p.constraint(c).aggregation, out.min_achievable[c], ws.minsum[c]);
    if (out.obj.size() == first_choice) {
      // Name the reason: a max budget below every choice, or every choice forbidden.
      for (std::size_t c = 0; c < C; ++c)
        if (p.constraint(c).aggregation == cost_aggregation::max &&
            !p.within_budget(c, ws.minsum[c] / p.constraint(c).normalizer))
          return status::failure(errc::infeasible,
                                 "search: layer %zu '%s' exceeds the '%s' budget %g at every candidate (its "
                                 "smallest is %g)",
                                 root, p.layer(root).name.c_str(), p.constraint(c).name.c_str(),
                                 p.constraint(c).budget_value, ws.minsum[c] / p.constraint(c).normalizer);
      return status::failure(errc::infeasible, "search: every candidate of layer %zu '%s' is forbidden (+inf objective)",
                             root, p.layer(root).name.c_str());
    }

    // Dominance: drop a choice when another has objective <= and every row cost <=. Sort by
    // objective (ties: more bits first, so free bits are kept), then keep the undominated.
    const std::size_t n = out.obj.size() - first_choice, m = out.m;
    ws.order.resize(n);
    for (std::size_t i = 0; i < n; ++i) ws.order[i] = first_choice + i;
    auto bits_of = [&](std::size_t ch) {
      std::size_t s = 0;
      for (std::uint32_t x = out.pick_begin[ch]; x < out.pick_begin[ch + 1]; ++x)
        s += static_cast<std::size_t>(flat_bits[out.picks[x]].w + flat_bits[out.picks[x]].a);
      return s;
    };
    std::sort(ws.order.begin(), ws.order.end(), [&](std::size_t x, std::size_t y) {
      if (out.obj[x] != out.obj[y]) return out.obj[x] < out.obj[y];
      const std::size_t bx = bits_of(x), by = bits_of(y);  // rare: equal objectives
      if (bx != by) return bx > by;
      return x < y;
    });
    // `front`: the kept choices no later kept one matches or beats in every cost (a choice that
    // one of them dominates is dominated by it too, as it comes later in objective order).
    ws.kept.clear();
    ws.front.clear();
    auto costs_le = [&](std::size_t x, std::size_t y) {  // every cost of x <= that of y
      const double *cx = out.cost.data() + x * m, *cy = out.cost.data() + y * m;
      if (m == 2) return cx[0] <= cy[0] && cx[1] <= cy[1];
      bool le = true;
      for (std::size_t r = 0; r < m; ++r) le &= cx[r] <= cy[r];
      return le;
    };
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t ch = ws.order[i];
      bool dominated = false;
      for (std::size_t t = 0; t < ws.front.size() && prune_dominated && !dominated; ++t)
        dominated = costs_le(ws.front[t], ch);
      if (dominated) continue;
      ws.kept.push_back(ch);
      std::erase_if(ws.front, [&](std::size_t f) { return costs_le(ch, f); });
      ws.front.push_back(ch);
    }
    // Rewrite the group's choices in kept order (a choice has K picks).
    const std::size_t nk = ws.kept.size();
    ws.obj_tmp.resize(nk);
    ws.cost_tmp.resize(nk * m);
    ws.pick_tmp.resize(nk * K);
    for (std::size_t i = 0; i < nk; ++i) {
      const std::size_t ch = ws.kept[i];
      ws.obj_tmp[i] = out.obj[ch];
      for (std::size_t r = 0; r < m; ++r) ws.cost_tmp[i * m + r] = out.cost[ch * m + r];
      for (std::size_t q = 0; q < K; ++q) ws.pick_tmp[i * K + q] = out.picks[out.pick_begin[ch] + q];
    }
    const std::size_t first_pick = out.pick_begin[first_choice];
    out.obj.resize(first_choice + nk);
    out.cost.resize((first_choice + nk) * m);
    out.picks.resize(first_pick + nk * K);
    out.pick_begin.resize(first_choice + nk + 1);
    std::copy_n(ws.obj_tmp.data(), nk, out.obj.data() + first_choice);
    std::copy_n(ws.cost_tmp.data(), nk * m, out.cost.data() + first_choice * m);
    std::copy_n(ws.pick_tmp.data(), nk * K, out.picks.data() + first_pick);
    for (std::size_t i = 0; i <= nk; ++i)
      out.pick_begin[first_choice + i] = static_cast<std::uint32_t>(first_pick + i * K);
    out.group_begin.push_back(static_cast<std::uint32_t>(out.obj.size()));
    for (std::size_t q = 0; q < K; ++q) out.layers.push_back(static_cast<std::uint32_t>(ws.members[q]));
    out.layer_begin.push_back(static_cast<std::uint32_t>(out.layers.size()));
  }
  for (std::size_t c = 0; c < C; ++c) out.min_achievable[c] /= p.constraint(c).normalizer;
  return {};
}

/// "no allocation meets every budget: ..." naming, for each constraint, its smallest achievable
/// cost alone against its budget.
inline status infeasible_status(const problem& p, const mckp& k, const char* what) {
  char buf[status::message_capacity];
  int pos = std::snprintf(buf, sizeof buf, "%s: no allocation meets every budget:", what);
  bool any_exceeded = false;
  for (std::size_t c = 0; c < p.constraint_count() && pos > 0 && pos < static_cast<int>(sizeof buf); ++c) {
    const bool alone = p.within_budget(c, k.min_achievable[c]);
    any_exceeded = any_exceeded || !alone;
    pos += std::snprintf(buf + pos, sizeof buf - static_cast<std::size_t>(pos), " '%s' needs >= %.6g (budget %.6g)%s;",
                         p.constraint(c).name.c_str(), k.min_achievable[c], p.constraint(c).budget_value,
                         alone ? "" : " EXCEEDED ALONE");
  }
  if (!any_exceeded && pos > 0 && pos < static_cast<int>(sizeof buf))
    std::snprintf(buf + pos, sizeof buf - static_cast<std::size_t>(pos), " each alone fits, not all together");
  return status::failure(errc::infeasible, "%s", buf);
}

/// The bits the q-th layer of group g takes in choice `choice`.
inline bit_pair choice_bits(const problem& p, const mckp& k, std::size_t g, std::uint32_t choice, std::size_t q) {
  const std::size_t l = k.layers[k.layer_begin[g] + q];
  return p.candidates(l)[k.picks[k.pick_begin[choice] + q] - p.candidate_offset(l)];
}

/// Write the per-layer bits of a selection (`sel[g]` = global choice index of group g).
inline void selection_bits(const problem& p, const mckp& k, std::span<const std::uint32_t> sel,
                           std::vector<bit_pair>& bits) {
  bits.resize(p.layer_count());
  for (std::size_t g = 0; g < k.groups(); ++g) {
    const std::uint32_t ch = sel[g];
    for (std::uint32_t q = 0, x = k.pick_begin[ch]; x < k.pick_begin[ch + 1]; ++x, ++q) {
      const std::size_t l = k.layers[k.layer_begin[g] + q];
      bits[l] = p.candidates(l)[k.picks[x] - p.candidate_offset(l)];
    }
  }
}

/// True when the selection meets every budget as the problem itself measures it (layer order).
/// Strategies call this before accepting an allocation: their own running sums may differ in the
/// last bits.
inline bool meets_budgets(const problem& p, const mckp& k, std::span<const std::uint32_t> sel,
                          std::vector<bit_pair>& bits) {
  selection_bits(p, k, sel, bits);
  for (std::size_t c = 0; c < p.constraint_count(); ++c)
    if (!p.within_budget(c, p.cost(c, bits))) return false;
  return true;
}

/// Fill `r` around the allocation already in r.bits (which must meet every budget): each
/// constraint's use/budget/slack and whether it binds, and the objective (layer order).
/// Strategy-specific fields are left to the caller.
inline void fill_result(const problem& p, const mckp& k, search_result& r) {
  const std::size_t L = p.layer_count(), C = p.constraint_count();
  MPQ_ASSERT(r.bits.size() == L);
  r.constraints.resize(C);
  for (std::size_t c = 0; c < C; ++c) {
    constraint_report& cr = r.constraints[c];
    const constraint_info& ci = p.constraint(c);
    cr.name.assign(ci.name);
    cr.aggregation = ci.aggregation;
    cr.use = p.cost(c, r.bits);
    cr.budget = ci.budget_value;
    cr.slack = cr.budget - cr.use;
    cr.min_achievable = k.min_achievable[c];
    cr.binding = false;
    MPQ_ASSERT(p.within_budget(c, cr.use));
  }
  r.objective = p.objective(r.bits);

  // Binding: a single group move that lowers the objective but breaks this budget (sum rows), or
  // a layer candidate with a lower objective that the max budget filtered out.
  const auto objective = p.objective_table();
  auto current = [&](std::size_t l) {
    const std::size_t b = p.candidate_offset(l);
    std::size_t j = 0;
    while (!(p.candidates(l)[j] == r.bits[l])) ++j;
    return b + j;
  };
  for (std::size_t g = 0; g < k.groups(); ++g) {
    double cur_obj = 0.0;
    for (std::uint32_t q = k.layer_begin[g]; q < k.layer_begin[g + 1]; ++q) cur_obj += objective[current(k.layers[q])];
    for (std::size_t row = 0; row < k.m; ++row) {
      const std::size_t c = k.rows[row];
      const auto table = p.cost_table(c);
      double cur_cost = 0.0;
      for (std::uint32_t q = k.layer_begin[g]; q < k.layer_begin[g + 1]; ++q) cur_cost += table[current(k.layers[q])];
      const double norm = p.constraint(c).normalizer;
      for (std::uint32_t j = k.group_begin[g]; j < k.group_begin[g + 1] && !r.constraints[c].binding; ++j)
        if (k.obj[j] < cur_obj &&
            !p.within_budget(c, (r.constraints[c].use * norm - cur_cost + k.cost[j * k.m + row]) / norm))
          r.constraints[c].binding = true;
    }
  }
  for (std::size_t c = 0; c < C; ++c) {
    if (p.constraint(c).aggregation != cost_aggregation::max) continue;
    const auto table = p.cost_table(c);
    const double norm = p.constraint(c).normalizer;
    for (std::size_t l = 0; l < L && !r.constraints[c].binding; ++l) {
      const std::size_t cur = current(l);
      for (std::size_t j = p.candidate_offset(l); j < p.candidate_offset(l) + p.candidates(l).size(); ++j)
        if (objective[j] < objective[cur] && !p.within_budget(c, table[j] / norm)) r.constraints[c].binding = true;
    }
  }
  r.binding_constraint = search_result::npos;
  double least = std::numeric_limits<double>::infinity();
  for (std::size_t c = 0; c < C; ++c) {
    if (!r.constraints[c].binding) continue;
    const double rel = r.constraints[c].slack / std::max(std::fabs(r.constraints[c].budget), 1e-300);
    if (rel < least) {
      least = rel;
      r.binding_constraint = c;
    }
  }
}

}  // namespace mpq::detail
