// The code shown in docs/search.md, compiled and checked here so the documentation stays runnable.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "mpq/cost/bitops.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/search/convex.hpp"
#include "mpq/search/greedy.hpp"
#include "mpq/search/ilp.hpp"
#include "mpq/search/networks.hpp"
#include "mpq/search/pareto.hpp"
#include "mpq/search/sensitivity_fisher.hpp"
#include "mpq/search/sensitivity_synthetic.hpp"

// [docs: custom models]
// A cost model: name, aggregation, one term per layer and (W, A) choice.
struct energy_pj {
  const char* name() const { return "energy_pj"; }
  mpq::cost_aggregation aggregation() const { return mpq::cost_aggregation::sum; }
  double layer_cost(const mpq::layer_info& l, std::size_t, mpq::bit_pair b) const {
    // A made-up energy model: a MAC costs ~ W·A/64 pJ at 8x8, plus 0.1 pJ per weight bit fetched.
    return static_cast<double>(l.macs) * b.w * b.a / 64.0 + 0.1 * static_cast<double>(l.weights) * b.w;
  }
};

// A sensitivity model: name and one value per layer and choice (smaller is better).
struct depth_weighted {
  const char* name() const { return "depth_weighted"; }
  double sensitivity(const mpq::layer_info& l, std::size_t index, mpq::bit_pair b) const {
    const double early = 1.0 / (1.0 + static_cast<double>(index));  // say early layers matter more
    const double w = b.w >= 16 ? 0.0 : std::ldexp(1.0, -2 * b.w), a = b.a >= 16 ? 0.0 : std::ldexp(1.0, -2 * b.a);
    return (1.0 + early) * static_cast<double>(l.weights) * (w + 0.1 * a);
  }
};
// [docs: custom models end]

TEST_CASE("docs/search.md: a small CNN, three strategies, the result") {
  // [docs: quick start]
  // Layers from their shapes, one call each (a Fashion-MNIST-sized CNN).
  const mpq::conv2d_shape c1{.in_channels = 1, .out_channels = 16, .in_height = 28, .in_width = 28, .kernel = 3,
                             .padding = 1};
  const mpq::conv2d_shape c2{.in_channels = 16, .out_channels = 32, .in_height = 28, .in_width = 28, .kernel = 3,
                             .stride = 2, .padding = 1};
  const int bits[] = {2, 3, 4, 6, 8};

  mpq::problem p;
  p.add_layer(mpq::conv2d_layer("conv1", c1), bits, bits);
  p.add_layer(mpq::conv2d_layer("conv2", c2), bits, bits);
  p.add_layer(mpq::linear_layer("fc", 32 * 14 * 14, 10), bits, bits);
  p.fix_layer(0, {8, 8});  // first and last layer at 8 bits
  p.fix_layer(2, {8, 8});
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));               // BitOps <= all-W4A4
  p.add_constraint(mpq::weight_size{mpq::memory_unit::bytes}, mpq::budget::between_low_high(0.5));
  p.set_objective(mpq::synthetic_sensitivity(1));

  mpq::ilp_search ilp;
  mpq::search_result r;
  if (mpq::status s = ilp.try_solve(p, r); !s.ok()) {
    std::puts(s.message());  // e.g. "ilp: no allocation meets every budget: 'bitops' needs >= ..."
    return;
  }
  // r.bits[l]: the (W, A) of layer l; r.constraints[c]: use, budget, slack, binding;
  // r.objective, r.lower_bound, r.proven_optimal.
  // [docs: quick start end]
  CHECK(r.proven_optimal);
  for (const mpq::constraint_report& c : r.constraints) CHECK(c.use <= c.budget);
  CHECK(r.bits[0] == mpq::bit_pair{8, 8});
  const mpq::search_result g = mpq::greedy_search{}.solve(p), cx = mpq::convex_search{}.solve(p);
  CHECK(g.objective >= r.objective);
  CHECK(cx.objective >= r.objective);
}

TEST_CASE("docs/search.md: custom models plug in like the built-in ones") {
  const int bits[] = {2, 4, 8};
  // [docs: custom use]
  mpq::problem p = mpq::make_problem(mpq::resnet18(), bits, bits);
  p.add_constraint(energy_pj{}, mpq::budget::between_low_high(0.3));
  p.set_objective(depth_weighted{});
  const mpq::search_result r = mpq::ilp_search{}.solve(p);
  // [docs: custom use end]
  CHECK(r.proven_optimal);
  CHECK(r.constraints[0].use <= r.constraints[0].budget);
  CHECK(std::string(r.constraints[0].name) == "energy_pj");
}

TEST_CASE("docs/search.md: re-solving inside a training loop") {
  const int bits[] = {2, 3, 4, 5, 6, 8};
  const mpq::network net = mpq::resnet18();
  std::vector<std::vector<float>> grads(net.layers.size(), std::vector<float>(64, 0.01f));
  // [docs: training loop]
  // Once: the problem, the sensitivity state, the strategy (they keep their buffers).
  mpq::problem p = mpq::make_problem(net, bits, bits);
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));
  mpq::fisher_sensitivity fisher(p.layer_count());
  for (std::size_t l = 0; l < p.layer_count(); ++l) fisher.set_range(l, 1.0);
  mpq::ilp_search solver;  // or mpq::convex_search
  mpq::search_result allocation;

  for (int step = 1; step <= 600; ++step) {
    // ... forward/backward of the host framework ...
    for (std::size_t l = 0; l < p.layer_count(); ++l) fisher.observe(l, grads[l]);  // O(n), no allocation
    if (step % 200 == 0) {                      // every T steps
      p.set_objective(fisher);                  // re-read the sensitivities (no allocation)
      if (solver.try_solve(p, allocation).ok()) {
        // apply allocation.bits to the quantizers
      }
    }
  }
  // [docs: training loop end]
  CHECK(allocation.proven_optimal);
  CHECK(allocation.constraints[0].use <= allocation.constraints[0].budget);
}

TEST_CASE("docs/search.md: the Pareto frontier of one budget") {
  const int bits[] = {2, 4, 8};
  mpq::problem p = mpq::make_problem(mpq::resnet18(), bits, bits);
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));
  p.set_objective(mpq::synthetic_sensitivity(2));
  // [docs: pareto]
  mpq::pareto_options o;
  o.max_points = 200;
  const mpq::pareto_result f = mpq::pareto_frontier(p, /*constraint*/ 0, o);
  for (const mpq::pareto_point& pt : f.points) {
    // pt.cost (BitOps), pt.objective, pt.bits: each the exact optimum at that cost
    (void)pt;
  }
  // [docs: pareto end]
  REQUIRE(!f.points.empty());
  for (std::size_t i = 1; i < f.points.size(); ++i) {
    CHECK(f.points[i].cost > f.points[i - 1].cost);
    CHECK(f.points[i].objective < f.points[i - 1].objective);
  }
}
