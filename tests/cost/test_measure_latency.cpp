// measure_latency_table: times mpq's own kernels per layer shape and pair, and the table drives an
// exact search as a latency budget.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "mpq/cost/measure_latency_simd.hpp"
#include "mpq/search/ilp.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/sensitivity_synthetic.hpp"

TEST_CASE("measure_latency_table: an entry for every integer pair, none for float pairs") {
  mpq::conv2d_shape s;
  s.in_channels = 16;
  s.out_channels = 32;
  s.in_height = s.in_width = 8;
  s.kernel = 3;
  s.padding = 1;
  const std::vector<mpq::layer_info> layers = {mpq::conv2d_layer("conv", s), mpq::linear_layer("fc", 512, 10)};
  const std::vector<mpq::bit_pair> pairs = {{2, 8}, {4, 4}, {8, 8}, {32, 32}};
  mpq::latency_options o;
  o.repetitions = 3;
  o.min_seconds = 1e-5;
  const mpq::latency_table t = mpq::measure_latency_table(layers, pairs, o);
  for (const mpq::layer_info& l : layers)
    for (mpq::bit_pair b : pairs) {
      CAPTURE(l.name);
      CAPTURE(b.w);
      const double v = t.lookup(l.name, b);
      if (b.w == 32) {
        CHECK(std::isnan(v));
      } else {
        CHECK(std::isfinite(v));
        CHECK(v > 0.0);
        CHECK(v < 1.0);  // a 64x144x32 GEMM takes far less than a second
      }
    }
  // The table is a cost model: a latency budget for an exact search.
  mpq::problem p;
  for (const mpq::layer_info& l : layers) p.add_layer(l, std::vector<mpq::bit_pair>(pairs.begin(), pairs.end() - 1));
  p.add_constraint(t, mpq::budget::between_low_high(0.5));
  p.set_objective(mpq::synthetic_sensitivity(1));
  const mpq::search_result r = mpq::ilp_search{}.solve(p);
  CHECK(r.proven_optimal);
  CHECK(r.constraints[0].use <= r.constraints[0].budget);
}

TEST_CASE("measure_latency_table: bad inputs are named") {
  std::vector<mpq::layer_info> layers(1);
  layers[0].name = std::string("x");  // (not = "x": GCC 12 -Wrestrict false positive, PR 105651)
  const std::vector<mpq::bit_pair> pairs = {{4, 8}};
  auto r = mpq::try_measure_latency_table(layers, pairs);
  REQUIRE_FALSE(r.has_value());
  CHECK(std::string(r.error().message()).find("has no GEMM view") != std::string::npos);
  layers[0] = mpq::linear_layer("", 8, 8);
  CHECK(std::string(mpq::try_measure_latency_table(layers, pairs).error().message()).find("has no name") !=
        std::string::npos);
  layers[0] = mpq::linear_layer("fc", 8, 8);
  const std::vector<mpq::bit_pair> bad = {{9, 8}};
  CHECK(mpq::try_measure_latency_table(layers, bad).error().code() == mpq::errc::invalid_argument);
  mpq::latency_options o;
  o.repetitions = 0;
  CHECK(mpq::try_measure_latency_table(layers, pairs, o).error().code() == mpq::errc::invalid_argument);
}
