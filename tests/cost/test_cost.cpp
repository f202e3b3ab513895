// Cost models: conv/linear layer shapes, BitOps, weight size, the two average-bit definitions,
// activation memory (sum and peak), totals, and the latency table's lookups and checks.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "mpq/cost/activation_memory.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/bitops.hpp"
#include "mpq/cost/cost_concepts.hpp"
#include "mpq/cost/latency_table.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/cost/weight_size.hpp"

namespace {
mpq::conv2d_shape shape(std::int64_t cin, std::int64_t cout, std::int64_t side, std::int64_t k, std::int64_t stride,
                        std::int64_t groups = 1) {
  mpq::conv2d_shape s;
  s.in_channels = cin;
  s.out_channels = cout;
  s.in_height = s.in_width = side;
  s.kernel = k;
  s.stride = stride;
  s.padding = k / 2;
  s.groups = groups;
  return s;
}
}  // namespace

TEST_CASE("conv2d_layer and linear_layer: MACs, weights, activations and the GEMM view") {
  // ResNet's stem: 3 -> 64, 7x7, stride 2, padding 3, 224 -> 112.
  const mpq::layer_info stem = mpq::conv2d_layer("conv1", shape(3, 64, 224, 7, 2));
  CHECK(stem.kind == mpq::layer_kind::conv);
  CHECK(stem.weights == 64u * 3u * 49u);
  CHECK(stem.macs == 64u * 3u * 49u * 112u * 112u);
  CHECK(stem.activations == 3u * 224u * 224u);
  CHECK(stem.gemm_m == 64u);
  CHECK(stem.gemm_k == 147u);
  CHECK(stem.gemm_n == 112u * 112u);
  CHECK(stem.gemm_groups == 1u);
  // Depthwise 3x3 on 32 channels of 112x112, stride 1.
  const mpq::layer_info dw = mpq::conv2d_layer("dw", shape(32, 32, 112, 3, 1, 32));
  CHECK(dw.kind == mpq::layer_kind::depthwise_conv);
  CHECK(dw.weights == 32u * 9u);
  CHECK(dw.macs == 32u * 9u * 112u * 112u);
  CHECK(dw.gemm_groups == 32u);
  CHECK(dw.gemm_m == 1u);
  CHECK(dw.gemm_k == 9u);
  // Rectangular kernel, no padding: out = (10 - 3)/1 + 1 = 8 by (10 - 5) + 1 = 6.
  mpq::conv2d_shape r = shape(4, 8, 10, 3, 1);
  r.padding = 0;
  r.kernel_w = 5;
  const mpq::layer_info rect = mpq::conv2d_layer("rect", r);
  CHECK(rect.weights == 8u * 4u * 15u);
  CHECK(rect.macs == rect.weights * 8u * 6u);
  // A classifier head and a token-batched linear layer.
  const mpq::layer_info fc = mpq::linear_layer("fc", 512, 1000);
  CHECK(fc.macs == 512000u);
  CHECK(fc.activations == 512u);
  CHECK(fc.gemm_n == 1u);
  CHECK(mpq::linear_layer("proj", 64, 32, 10).macs == 64u * 32u * 10u);
}

TEST_CASE("layer builders reject bad shapes, naming the value and the rule") {
  auto bad = mpq::try_conv2d_layer("c", shape(6, 8, 10, 3, 1, 4));
  REQUIRE_FALSE(bad.has_value());
  CHECK(std::string(bad.error().message()).find("groups = 4 must divide") != std::string::npos);
  CHECK_FALSE(mpq::try_conv2d_layer("c", shape(0, 8, 10, 3, 1)).has_value());
  mpq::conv2d_shape big = shape(3, 8, 2, 7, 1);
  big.padding = 0;
  auto nofit = mpq::try_conv2d_layer("c", big);
  REQUIRE_FALSE(nofit.has_value());
  CHECK(std::string(nofit.error().message()).find("does not fit") != std::string::npos);
  CHECK(mpq::try_linear_layer("fc", 0, 10).error().code() == mpq::errc::invalid_argument);
  CHECK(mpq::try_linear_layer("fc", 1ll << 40, 1ll << 40).error().code() == mpq::errc::overflow);
  CHECK_THROWS_AS((mpq::linear_layer("fc", -1, 10)), mpq::error);
  CHECK(mpq::check_candidate_bits(32).ok());
  CHECK_FALSE(mpq::check_candidate_bits(12).ok());
  CHECK_FALSE(mpq::check_candidate_bits(0).ok());
}

static_assert(mpq::CostModel<mpq::bitops>);
static_assert(mpq::CostModel<mpq::weight_size>);
static_assert(mpq::CostModel<mpq::latency_table>);

TEST_CASE("every cost model's layer term and network total") {
  std::vector<mpq::layer_info> layers(3);
  const std::uint64_t macs[] = {100, 2000, 30}, n[] = {10, 500, 7}, act[] = {40, 3, 900};
  for (int i = 0; i < 3; ++i) {
    layers[i].name = std::string("l") + std::to_string(i);
    layers[i].macs = macs[i];
    layers[i].weights = n[i];
    layers[i].activations = act[i];
  }
  const std::vector<mpq::bit_pair> bits = {{8, 8}, {2, 4}, {32, 3}};
  CHECK(mpq::total_cost(mpq::bitops{}, layers, bits) == 100.0 * 64 + 2000.0 * 8 + 30.0 * 96);
  CHECK(mpq::total_cost(mpq::weight_size{}, layers, bits) == 80.0 + 1000.0 + 224.0);
  CHECK(mpq::total_cost(mpq::weight_size{mpq::memory_unit::bytes}, layers, bits) == (80.0 + 1000.0 + 224.0) / 8.0);
  // Parameter-weighted vs plain mean: different numbers for the same allocation.
  CHECK(mpq::total_cost(mpq::parameter_weighted_average_bits{}, layers, bits) ==
        doctest::Approx((80.0 + 1000.0 + 224.0) / 517.0));
  CHECK(mpq::total_cost(mpq::mean_layer_bits{}, layers, bits) == doctest::Approx((8.0 + 2.0 + 32.0) / 3.0));
  CHECK(mpq::total_cost(mpq::mean_layer_bits{mpq::operand::activations}, layers, bits) ==
        doctest::Approx((8.0 + 4.0 + 3.0) / 3.0));
  const mpq::activation_memory sum{}, peak{mpq::activation_memory::kind::peak, mpq::memory_unit::bytes};
  CHECK(mpq::total_cost(sum, layers, bits) == 320.0 + 12.0 + 2700.0);
  CHECK(peak.aggregation() == mpq::cost_aggregation::max);
  CHECK(mpq::total_cost(peak, layers, bits) == 2700.0 / 8.0);
  CHECK(std::string(sum.name()) == "activation_memory_sum_bits");
  CHECK(std::string(peak.name()) == "activation_memory_peak_bytes");
  // The FP reference: all-32 BitOps = 1024 MACs.
  const std::vector<mpq::bit_pair> fp(3, mpq::bit_pair{32, 32});
  CHECK(mpq::total_cost(mpq::bitops{}, layers, fp) == 1024.0 * (100 + 2000 + 30));
}

TEST_CASE("latency_table: entries by layer name, NaN where missing, checks that name the problem") {
  mpq::latency_table t;
  CHECK(t.try_set("conv1", {4, 8}, 1.5e-3).ok());
  t.set("conv1", {8, 8}, 2.5e-3);
  t.set("fc", {32, 32}, 1e-4);
  CHECK(t.lookup("conv1", {4, 8}) == 1.5e-3);
  CHECK(t.contains("fc", {32, 32}));
  CHECK(std::isnan(t.lookup("conv1", {2, 8})));
  CHECK(std::isnan(t.lookup("nope", {4, 8})));
  CHECK(t.layer_count() == 2u);
  // Bad values change nothing.
  CHECK(t.try_set("conv1", {4, 8}, -1.0).code() == mpq::errc::invalid_argument);
  CHECK(t.try_set("conv1", {4, 8}, NAN).code() == mpq::errc::invalid_argument);
  CHECK(t.try_set("conv1", {9, 8}, 1.0).code() == mpq::errc::invalid_argument);
  CHECK(t.try_set("new", {9, 8}, 1.0).code() == mpq::errc::invalid_argument);
  CHECK(t.lookup("conv1", {4, 8}) == 1.5e-3);
  CHECK(t.layer_count() == 2u);
  std::vector<mpq::layer_info> layers(2);
  layers[0].name = "conv1";
  layers[1].name = "fc";
  CHECK(mpq::cost_check(t, layers).ok());
  layers[1].name = "conv1";
  CHECK(std::string(mpq::cost_check(t, layers).message()).find("both named 'conv1'") != std::string::npos);
  layers[1].name = "";
  CHECK(std::string(mpq::cost_check(t, layers).message()).find("has no name") != std::string::npos);
  layers[1].name = "head";
  CHECK(std::string(mpq::cost_check(t, layers).message()).find("no row for layer 1 'head'") != std::string::npos);
  CHECK(mpq::total_cost(t, std::span<const mpq::layer_info>(layers).first(1),
                        std::vector<mpq::bit_pair>{{8, 8}}) == 2.5e-3);
}
