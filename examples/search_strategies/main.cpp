// Every search strategy on ResNet-18 (ImageNet shapes) at a BitOps budget of uniform W4A4, side by
// side: strategy, objective, BitOps, weight size, time, proven optimal?
//
// Sensitivities: HAWQ-V3's (Tr(H)/n)·||Q_b(W) − W||² on He-initialized Gaussian weights with
// per-layer average traces drawn from a fixed seed (a stand-in for a trained network), plus an
// activation term A_l·4^-a per layer.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <mpq/cost/bitops.hpp>
#include <mpq/cost/weight_size.hpp>
#include <mpq/search/convex.hpp>
#include <mpq/search/exhaustive.hpp>
#include <mpq/search/greedy.hpp>
#include <mpq/search/ilp.hpp>
#include <mpq/search/networks.hpp>
#include <mpq/search/pareto.hpp>
#include <mpq/search/sensitivity_mse.hpp>
#include <mpq/search/sensitivity_tables.hpp>

namespace {

struct row {
  std::string strategy;
  bool ok = false;
  std::string why;  // when not ok
  mpq::search_result r;
  double ms = 0.0;
};

template <class S>
row run(const char* label, S& strategy, const mpq::problem& p) {
  row out;
  out.strategy = label;
  const auto t0 = std::chrono::steady_clock::now();
  const mpq::status s = strategy.try_solve(p, out.r);
  out.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  out.ok = s.ok();
  if (!out.ok) out.why = s.message();
  return out;
}

}  // namespace

int main() {
  const mpq::network net = mpq::resnet18();
  const int bits[] = {2, 3, 4, 5, 6, 8};
  mpq::problem p = mpq::make_problem(net, bits, bits);  // first conv and classifier at W8A8, ties
  const std::size_t bitops = p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));

  // HAWQ-V3 sensitivities on synthetic weights (one Gaussian tensor per layer, He init).
  std::mt19937 rng(7);
  std::vector<std::vector<float>> weights;
  std::vector<double> traces;
  std::lognormal_distribution<double> trace(0.0, 1.0);
  for (const mpq::layer_info& l : net.layers) {
    std::normal_distribution<float> w(0.0f, std::sqrt(2.0f / static_cast<float>(l.gemm_k)));
    std::vector<float> t(static_cast<std::size_t>(l.weights));
    for (float& x : t) x = w(rng);
    weights.push_back(std::move(t));
    traces.push_back(trace(rng));
  }
  const std::vector<std::span<const float>> views(weights.begin(), weights.end());
  const mpq::hawq_sensitivity hawq(traces, mpq::weight_quantization_error(views));
  mpq::per_bit_sensitivity activations(mpq::operand::activations);
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    for (int a = 1; a <= 8; ++a)
      activations.set(l, a, 1e-3 * static_cast<double>(net.layers[l].activations) * std::ldexp(1.0, -2 * a));
  p.set_objective(mpq::combined_sensitivity(hawq, activations, 1.0));

  mpq::ilp_search ilp;
  mpq::greedy_search greedy;
  mpq::greedy_search haq(mpq::greedy_options{mpq::greedy_rule::haq_last_to_first});
  mpq::convex_search convex;
  mpq::exhaustive_search exhaustive;
  const row rows[] = {run("ilp", ilp, p), run("greedy", greedy, p), run("greedy (HAQ walk)", haq, p),
                      run("convex", convex, p), run("exhaustive", exhaustive, p)};

  std::printf("ResNet-18, %zu layers, W,A in {2,3,4,5,6,8}, BitOps <= uniform W4A4 = %.2f GBOPs\n\n",
              p.layer_count(), p.constraint(bitops).budget_value / 1e9);
  std::printf("%-18s %12s %10s %10s %10s %8s\n", "strategy", "objective", "GBOPs", "size MB", "time ms", "proven");
  bool ok = true;
  const row& exact = rows[0];
  for (const row& r : rows) {
    if (!r.ok) {
      std::printf("%-18s %s\n", r.strategy.c_str(), r.why.c_str());
      continue;
    }
    const double mb = mpq::total_cost(mpq::weight_size{mpq::memory_unit::bytes}, p.layers(), r.r.bits) / (1 << 20);
    std::printf("%-18s %12.6g %10.3f %10.3f %10.3f %8s\n", r.strategy.c_str(), r.r.objective,
                r.r.constraints[bitops].use / 1e9, mb, r.ms, r.r.proven_optimal ? "yes" : "no");
    for (const mpq::constraint_report& c : r.r.constraints) ok = ok && c.use <= c.budget;  // every budget met
    ok = ok && exact.ok && r.r.objective >= exact.r.objective * (1 - 1e-9);          // nobody beats ilp
  }
  ok = ok && exact.ok && exact.r.proven_optimal && rows[1].ok && rows[3].ok;

  std::printf("\nilp's allocation (W/A per layer):\n");
  for (std::size_t l = 0; l < p.layer_count(); ++l)
    std::printf("  %-22s W%d A%d\n", p.layer(l).name.c_str(), exact.r.bits[l].w, exact.r.bits[l].a);

  // The whole BitOps/objective trade-off in one call (each point an exact optimum).
  mpq::pareto_options po;
  po.max_points = 40;
  const auto front = mpq::try_pareto_frontier(p, bitops, po);
  ok = ok && front.has_value();
  if (front) {
    std::printf("\nPareto frontier of BitOps vs objective (%zu corners%s):\n", front->points.size(),
                front->complete ? "" : ", the ones nearest the budget; it continues below");
    for (const mpq::pareto_point& pt : front->points) std::printf("  %10.4f GBOPs  objective %.6g\n", pt.cost / 1e9, pt.objective);
    for (std::size_t i = 1; i < front->points.size(); ++i)
      ok = ok && front->points[i].cost > front->points[i - 1].cost && front->points[i].objective < front->points[i - 1].objective;
    ok = ok && std::fabs(front->points.back().objective - exact.r.objective) <= 1e-9 * exact.r.objective;
  }
  std::printf("\nsearch_strategies: %s\n", ok ? "ok" : "CHECK FAILED");
  return ok ? 0 : 1;
}
