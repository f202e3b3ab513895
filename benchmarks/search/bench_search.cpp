// mpq_bench_search: time to a proven optimum of ilp_search on the built-in ResNet-18/50 layer tables
// and on 1000 synthetic layers, and GLPK's branch and cut on the identical 0/1 ILP in this binary.
//
// Instances (docs/search.md, "Benchmarks", says the same):
// - resnet18 / resnet50: mpq::resnet18() / resnet50() at 224×224; every conv and the classifier a
//   layer, candidates W, A ∈ {2,3,4,5,6} (25 pairs), first conv and classifier fixed at W8A8,
//   shortcut convs tied to the conv beside them; objective mpq::synthetic_sensitivity(seed 7)
//   (c_l·4^-b shaped, per-layer lognormal factors); budgets BitOps <= uniform W4A4 and weight size
//   <= 3.5 bits per weight on average (3.5·Σ n_l bits). Both budgets bind at the optimum.
// - synthetic1000: 1000 conv layers with seeded random shapes (C_in, C_out ∈ 16..512, maps
//   7..56, 1×1 or 3×3), candidates W, A ∈ {2,3,4,5,6,8} (36 pairs), synthetic_sensitivity(seed 3),
//   budgets BitOps <= uniform W4A4 and weight size <= uniform W3 (both bind). A 10 s limit keeps the
//   run bounded (the proof took ~4 s before probing and the folded per-state LP, ~70 ms since); the
//   counter `proven` says whether the proof finished, `rel_gap` what is left;
//   synthetic1000_at_100ms stops at the 100 ms target instead.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <mpq/cost/bitops.hpp>
#include <mpq/cost/weight_size.hpp>
#include <mpq/search/ilp.hpp>
#include <mpq/search/networks.hpp>
#include <mpq/search/sensitivity_synthetic.hpp>

#if MPQ_BENCH_HAVE_GLPK
#include <glpk.h>
#endif

namespace {

mpq::problem resnet_instance(const mpq::network& net) {
  const int bits[] = {2, 3, 4, 5, 6};
  mpq::problem p = mpq::make_problem(net, bits, bits);
  double weights = 0.0;
  for (const mpq::layer_info& l : net.layers) weights += static_cast<double>(l.weights);
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));
  p.add_constraint(mpq::weight_size{}, mpq::budget::absolute(3.5 * weights));
  p.set_objective(mpq::synthetic_sensitivity(7));
  return p;
}

mpq::problem synthetic_instance(std::size_t layers) {
  const int bits[] = {2, 3, 4, 5, 6, 8};
  mpq::network_options free_layers;  // no fixed first/last layer, no ties
  free_layers.fix_first = free_layers.fix_last = free_layers.tie_shortcuts = false;
  mpq::problem p = mpq::make_problem(mpq::synthetic_convs(layers, 42), bits, bits, free_layers);
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));
  p.add_constraint(mpq::weight_size{}, mpq::budget::uniform(3, 8));
  p.set_objective(mpq::synthetic_sensitivity(3));
  return p;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A fresh solve each time: the workspace is reused (that is how it is meant to be used), but no
// warm start: neither the last multipliers nor the last allocation.
mpq::ilp_options cold() {
  mpq::ilp_options o;
  o.warm_start = false;
  return o;
}

void report(benchmark::State& state, const mpq::problem& p, const mpq::search_result& r) {
  state.counters["proven"] = r.proven_optimal ? 1.0 : 0.0;
  state.counters["rel_gap"] = r.relative_gap();
  state.counters["objective"] = r.objective;
  state.counters["nodes"] = static_cast<double>(r.nodes);
  state.counters["layers"] = static_cast<double>(p.layer_count());
  for (std::size_t c = 0; c < p.constraint_count(); ++c)
    state.counters["binding_" + r.constraints[c].name] = r.constraints[c].binding ? 1.0 : 0.0;
}

void BM_ilp(benchmark::State& state, const mpq::problem* p, double max_seconds) {
  mpq::ilp_options o = cold();
  o.max_seconds = max_seconds;
  mpq::ilp_search ilp(o);
  mpq::search_result r;
  for (auto _ : state) {
    const mpq::status s = ilp.try_solve(*p, r);
    benchmark::DoNotOptimize(r.bits.data());  // (not the double itself: its "+r" asm form clobbers it on GCC)
    if (!s.ok()) {
      state.SkipWithError(s.message());
      return;
    }
  }
  report(state, *p, r);
}

#if MPQ_BENCH_HAVE_GLPK
// The identical 0/1 ILP for GLPK: a binary per (layer, candidate), one-hot rows per layer, one row
// per constraint (scaled by 1/budget, which changes no solution), and per tie an equality row per
// shared value. Max constraints (none here) would be column bounds. Returns GLPK's optimum.
bool glpk_solve(const mpq::problem& p, double& objective) {
  glp_prob* lp = glp_create_prob();
  glp_set_obj_dir(lp, GLP_MIN);
  const int n = static_cast<int>(p.candidate_count());
  glp_add_cols(lp, n);
  const auto obj = p.objective_table();
  for (int j = 0; j < n; ++j) {
    glp_set_col_kind(lp, j + 1, GLP_BV);
    glp_set_obj_coef(lp, j + 1, obj[static_cast<std::size_t>(j)]);
  }
  std::vector<int> ia{0}, ja{0};
  std::vector<double> ar{0.0};
  auto add_row = [&](int type, double lo, double hi) {
    const int row = glp_add_rows(lp, 1);
    glp_set_row_bnds(lp, row, type, lo, hi);
    return row;
  };
  for (std::size_t l = 0; l < p.layer_count(); ++l) {
    const int row = add_row(GLP_FX, 1.0, 1.0);
    for (std::size_t j = 0; j < p.candidates(l).size(); ++j) {
      ia.push_back(row);
      ja.push_back(static_cast<int>(p.candidate_offset(l) + j) + 1);
      ar.push_back(1.0);
    }
  }
  for (std::size_t c = 0; c < p.constraint_count(); ++c) {
    const double budget = p.raw_budget(c);
    const auto cost = p.cost_table(c);
    const int row = add_row(GLP_UP, 0.0, 1.0);
    for (int j = 0; j < n; ++j) {
      ia.push_back(row);
      ja.push_back(j + 1);
      ar.push_back(cost[static_cast<std::size_t>(j)] / budget);
    }
  }
  for (const mpq::layer_tie& t : p.ties()) {
    // For every value v of the tied quantity (the pair, W or A): Σ x(first, v) == Σ x(second, v).
    auto key = [&](mpq::bit_pair b) { return mpq::problem::tie_key(t.kind, b); };
    std::vector<int> keys;
    for (std::size_t side : {t.first, t.second})
      for (mpq::bit_pair b : p.candidates(side))
        if (std::find(keys.begin(), keys.end(), key(b)) == keys.end()) keys.push_back(key(b));
    for (int v : keys) {
      const int row = add_row(GLP_FX, 0.0, 0.0);
      for (std::size_t side : {t.first, t.second})
        for (std::size_t j = 0; j < p.candidates(side).size(); ++j)
          if (key(p.candidates(side)[j]) == v) {
            ia.push_back(row);
            ja.push_back(static_cast<int>(p.candidate_offset(side) + j) + 1);
            ar.push_back(side == t.first ? 1.0 : -1.0);
          }
    }
  }
  glp_load_matrix(lp, static_cast<int>(ia.size()) - 1, ia.data(), ja.data(), ar.data());
  glp_iocp parm;
  glp_init_iocp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.presolve = GLP_ON;
  parm.tm_lim = 600000;
  const int rc = glp_intopt(lp, &parm);
  const bool ok = rc == 0 && glp_mip_status(lp) == GLP_OPT;
  objective = glp_mip_obj_val(lp);
  glp_delete_prob(lp);
  return ok;
}

// GLPK's time per solve is the benchmark's; the counters put ours (median of the same instance,
// cold, measured in this run) beside it.
void BM_ilp_vs_glpk(benchmark::State& state, const mpq::problem* p) {
  mpq::ilp_search ilp(cold());
  mpq::search_result r;
  std::vector<double> ours;
  for (int i = 0; i < 201; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!ilp.try_solve(*p, r).ok()) {
      state.SkipWithError("ilp failed");
      return;
    }
    ours.push_back(seconds_since(t0));
  }
  std::vector<double> theirs;
  double glpk_objective = 0.0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!glpk_solve(*p, glpk_objective)) {
      state.SkipWithError("glpk did not prove an optimum");
      return;
    }
    theirs.push_back(seconds_since(t0));
  }
  const double t_ours = median(ours), t_glpk = median(theirs);
  state.counters["ilp_ms"] = 1e3 * t_ours;
  state.counters["glpk_ms"] = 1e3 * t_glpk;
  state.counters["speedup_vs_glpk"] = t_glpk / t_ours;
  state.counters["same_optimum"] =
      std::fabs(glpk_objective - r.objective) <= 1e-6 * std::max(std::fabs(r.objective), 1e-12) ? 1.0 : 0.0;
  state.counters["ilp_objective"] = r.objective;
  state.counters["glpk_objective"] = glpk_objective;
  state.counters["proven"] = r.proven_optimal ? 1.0 : 0.0;
}
#endif

const mpq::problem resnet18_problem = resnet_instance(mpq::resnet18());
const mpq::problem resnet50_problem = resnet_instance(mpq::resnet50());
const mpq::problem synthetic1000_problem = synthetic_instance(1000);

const double no_limit = 1e30;
BENCHMARK_CAPTURE(BM_ilp, resnet18, &resnet18_problem, no_limit)->Unit(benchmark::kMicrosecond)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK_CAPTURE(BM_ilp, resnet50, &resnet50_problem, no_limit)->Unit(benchmark::kMicrosecond)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK_CAPTURE(BM_ilp, synthetic1000, &synthetic1000_problem, 10.0)->Unit(benchmark::kMillisecond)->Iterations(1);
// The same instance stopped at the 100 ms target: how far from a proof it is then.
BENCHMARK_CAPTURE(BM_ilp, synthetic1000_at_100ms, &synthetic1000_problem, 0.1)->Unit(benchmark::kMillisecond)->Iterations(1);
#if MPQ_BENCH_HAVE_GLPK
BENCHMARK_CAPTURE(BM_ilp_vs_glpk, resnet50, &resnet50_problem)->Unit(benchmark::kMillisecond)->Iterations(3);
#endif

}  // namespace

BENCHMARK_MAIN();
