// Seeded random bitwidth-search problems for the property tests: mixed constraints (sum and max,
// every budget kind), fixed layers, ties, integer-valued and real-valued tables.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "mpq/cost/activation_memory.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/bitops.hpp"
#include "mpq/cost/latency_table.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/search/problem.hpp"

namespace mpq_test {

struct random_spec {
  int max_layers = 6;
  std::size_t max_allocations = 40000;  // keeps the oracle fast
  bool integer_objective = false;       // small integers: many exact ties
  double subset_p = 0.4;                // chance of each width in a layer's W and A lists
  int max_explicit = 7;                 // most explicit pairs of one layer
  bool shaped = true;                   // objective like c·4^-b (else uniform noise: harder)
  int min_constraints = 0, max_constraints = 3;
};

// A user objective given as a flat table (the problem's own layout).
inline std::vector<double> random_objective(const mpq::problem& p, std::mt19937_64& rng, bool integer,
                                            bool shaped = true) {
  std::vector<double> v(p.candidate_count());
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (std::size_t l = 0; l < p.layer_count(); ++l) {
    // Shaped like c_l · (4^-w + β 4^-a) plus noise, so bits matter but not uniformly.
    const double c = std::exp(6.0 * u(rng) - 3.0), beta = u(rng);
    const auto cand = p.candidates(l);
    for (std::size_t j = 0; j < cand.size(); ++j) {
      const double shape = c * (std::pow(4.0, -0.5 * cand[j].w) + beta * std::pow(4.0, -0.5 * cand[j].a));
      double x = shaped ? shape * (0.7 + 0.6 * u(rng)) : c * u(rng);
      if (integer) x = std::floor(x * 20.0);
      v[p.candidate_offset(l) + j] = x;
    }
  }
  return v;
}

// Builds a random problem; returns false when the draw is too big for the oracle (caller redraws).
inline bool random_problem(mpq::problem& p, std::mt19937_64& rng, const random_spec& spec = {}) {
  p = mpq::problem{};
  std::uniform_int_distribution<int> nl(1, spec.max_layers);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const int L = nl(rng);
  const int pool[] = {1, 2, 3, 4, 5, 6, 8, 16, 32};
  std::size_t total = 1;
  for (int l = 0; l < L; ++l) {
    mpq::layer_info info;
    info.name = "layer" + std::to_string(l);
    info.macs = 1 + static_cast<std::uint64_t>(std::exp(u(rng) * 12.0));
    info.weights = 1 + static_cast<std::uint64_t>(std::exp(u(rng) * 10.0));
    info.activations = 1 + static_cast<std::uint64_t>(std::exp(u(rng) * 10.0));
    const double kind = u(rng);
    if (kind < 0.15) {
      // a layer with a single candidate (fixed)
      p.add_layer(info, {mpq::bit_pair{8, u(rng) < 0.5 ? 8 : 32}});
    } else if (kind < 0.45) {
      // explicit pairs
      std::vector<mpq::bit_pair> pairs;
      const int n = 2 + static_cast<int>(u(rng) * (spec.max_explicit - 1));
      while (static_cast<int>(pairs.size()) < n) {
        const mpq::bit_pair b{pool[static_cast<int>(u(rng) * 7)], pool[static_cast<int>(u(rng) * 9)]};
        if (std::find(pairs.begin(), pairs.end(), b) == pairs.end()) pairs.push_back(b);
      }
      total *= pairs.size();
      p.add_layer(info, pairs);
    } else {
      std::vector<int> w, a;
      for (int b : pool)
        if (u(rng) < spec.subset_p) w.push_back(b);
      for (int b : pool)
        if (u(rng) < spec.subset_p) a.push_back(b);
      if (w.empty()) w.push_back(4);
      if (a.empty()) a.push_back(8);
      total *= w.size() * a.size();
      p.add_layer(info, w, a);
    }
  }
  if (total > spec.max_allocations) return false;
  // Fix a layer now and then (first/last at 8 bits).
  if (L > 2 && u(rng) < 0.3) p.fix_layer(0, {8, 8});
  // Ties (of every kind), possibly chained.
  const int nt = L > 1 ? static_cast<int>(u(rng) * 3) : 0;
  for (int t = 0; t < nt; ++t) {
    const auto a = static_cast<std::size_t>(u(rng) * L), b = static_cast<std::size_t>(u(rng) * L);
    if (a == b) continue;
    const double k = u(rng);
    const auto kind = k < 0.5 ? mpq::tie_kind::both : (k < 0.75 ? mpq::tie_kind::weights : mpq::tie_kind::activations);
    // Mostly ties that can hold; now and then one that cannot (an infeasible structure).
    bool can_hold = false;
    for (mpq::bit_pair x : p.candidates(a))
      for (mpq::bit_pair y : p.candidates(b)) can_hold = can_hold || mpq::problem::tie_holds(kind, x, y);
    if (can_hold || u(rng) < 0.05) p.tie(a, b, kind);
  }
  // Budgets: each kind, some tight, some loose, some impossible.
  auto any_budget = [&](bool allow_uniform) {
    const double k = u(rng);
    if (k < 0.5) return mpq::budget::between_low_high(u(rng) < 0.05 ? 0.0 : std::sqrt(u(rng)));
    if (k < 0.75 && allow_uniform) return mpq::budget::uniform(2 + static_cast<int>(u(rng) * 5), 2 + static_cast<int>(u(rng) * 5));
    return mpq::budget::between_low_high(std::min(1.0, 0.8 * u(rng)));
  };
  const int nc = spec.min_constraints +
                 static_cast<int>(u(rng) * (spec.max_constraints - spec.min_constraints + 1));
  for (int c = 0; c < nc; ++c) {
    const double which = u(rng);
    if (which < 0.3)
      p.add_constraint(mpq::bitops{}, any_budget(true));
    else if (which < 0.55)
      p.add_constraint(mpq::weight_size{mpq::memory_unit::bytes}, any_budget(true));
    else if (which < 0.65)
      p.add_constraint(mpq::activation_memory{mpq::activation_memory::kind::peak}, any_budget(true));
    else if (which < 0.75)
      p.add_constraint(mpq::mean_layer_bits{mpq::operand::activations}, any_budget(true));
    else if (which < 0.85)
      p.add_constraint(mpq::parameter_weighted_average_bits{}, any_budget(true));
    else {
      // A random (non-monotone) latency table.
      mpq::latency_table t;
      for (std::size_t l = 0; l < p.layer_count(); ++l)
        for (mpq::bit_pair b : p.candidates(l)) t.set(p.layer(l).name, b, 1e-6 * (1.0 + 10.0 * u(rng)));
      p.add_constraint(t, any_budget(false));
    }
  }
  const auto obj = random_objective(p, rng, spec.integer_objective, spec.shaped);
  p.try_set_objective_values(obj);
  return true;
}

}  // namespace mpq_test
