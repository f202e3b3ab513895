// The end-to-end Fashion-MNIST network as mpq sees it (no LibTorch): its five quantized layers, their
// shapes for the cost models, the candidate bits, and the search problems at the pipeline's budgets.
// Shared by the training pipeline (fmnist_pipeline.cpp) and the deployment (fmnist_deploy.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "mpq/cost/bitops.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/search/problem.hpp"

namespace fmnist_e2e {

// conv1 1->16, conv2 16->32, conv3 32->64 (3x3, padding 1, each followed by ReLU and 2x2 max
// pooling: 28 -> 14 -> 7 -> 3), fc1 576->128 (ReLU), fc2 128->10 (the logits).
inline constexpr int c1 = 16, c2 = 32, c3 = 64, hidden = 128, classes = 10;
inline constexpr int side1 = 28, side2 = 14, side3 = 7, side_out = 3;  // input sides of conv1..3, conv3's pooled side
inline constexpr int fc1_in = c3 * side_out * side_out;             // 576
inline constexpr std::size_t layer_count = 5;
inline constexpr std::array<const char*, layer_count> layer_names = {"conv1", "conv2", "conv3", "fc1", "fc2"};

/// The layers as the cost models see them (per image).
inline std::vector<mpq::layer_info> layers() {
  return {mpq::conv2d_layer("conv1", {1, c1, side1, side1, 3, 1, 1}),
          mpq::conv2d_layer("conv2", {c1, c2, side2, side2, 3, 1, 1}),
          mpq::conv2d_layer("conv3", {c2, c3, side3, side3, 3, 1, 1}), mpq::linear_layer("fc1", fc1_in, hidden),
          mpq::linear_layer("fc2", hidden, classes)};
}

/// Candidate bits: weights 2..8 (LSQ's signed codes need a sign bit), activations 2..8. conv1's
/// input is the raw 8-bit image (pixel codes 0..255, exact), so its activation bits are fixed at 8.
inline constexpr std::array<int, 7> weight_bits = {2, 3, 4, 5, 6, 7, 8};
inline constexpr std::array<int, 7> activation_bits = {2, 3, 4, 5, 6, 7, 8};
inline constexpr int input_bits = 8;

/// @brief A budget of the pipeline: BitOps of uniform WbAb (conv1's input stays 8-bit), or the
/// weight size of uniform Wb with 8-bit activations everywhere (the weight-size budget).
struct budget_spec {
  enum class kind { bitops, size } what = kind::bitops;
  int bits = 4;
  std::string name() const {
    char s[32];
    std::snprintf(s, sizeof s, what == kind::bitops ? "W%dA%d BitOps" : "W%d size", bits, bits);
    return s;
  }
  /// Short tag for file names: "bops2", "size3".
  std::string tag() const { return (what == kind::bitops ? "bops" : "size") + std::to_string(bits); }
  /// The uniform allocation whose cost is the budget.
  std::vector<mpq::bit_pair> uniform() const {
    std::vector<mpq::bit_pair> u(layer_count, mpq::bit_pair{bits, what == kind::bitops ? bits : 8});
    u[0].a = input_bits;
    return u;
  }
};

inline const std::vector<budget_spec>& budgets() {
  static const std::vector<budget_spec> b = {{budget_spec::kind::bitops, 2},
                                             {budget_spec::kind::bitops, 3},
                                             {budget_spec::kind::bitops, 4},
                                             {budget_spec::kind::size, 3}};
  return b;
}

/// Activation candidates of layer l under budget b: {8} for conv1; under a weight-size budget
/// activations do not cost anything, so every layer keeps 8-bit inputs.
inline std::vector<int> activation_candidates(std::size_t l, const budget_spec& b) {
  if (l == 0 || b.what == budget_spec::kind::size) return {input_bits};
  return {activation_bits.begin(), activation_bits.end()};
}

/// @brief The search problem at budget b: every layer searched over its candidates, one
/// constraint (BitOps or weight size) whose budget is the uniform allocation's cost. With
/// `fixed_activations` every layer's activation bits are fixed at the budget's uniform value (for
/// weight-only methods such as Guo et al.'s).
inline mpq::problem make_problem(const budget_spec& b, bool fixed_activations = false) {
  mpq::problem p;
  const auto ls = layers();
  const auto u = b.uniform();
  const std::vector<int> wb(weight_bits.begin(), weight_bits.end());
  for (std::size_t l = 0; l < layer_count; ++l) {
    const std::vector<int> ab = fixed_activations ? std::vector<int>{u[l].a} : activation_candidates(l, b);
    p.add_layer(ls[l], wb, ab);
  }
  // The budget is the uniform allocation's own cost (so uniform WbAb is feasible, exactly at it),
  // counted in a problem whose only candidates are the uniform pairs: W1A1 is no candidate here.
  mpq::problem uniform_only;
  for (std::size_t l = 0; l < layer_count; ++l) uniform_only.add_layer(ls[l], {u[l]});
  for (mpq::problem* q : {&p, &uniform_only}) {
    if (b.what == budget_spec::kind::bitops)
      q->add_constraint(mpq::bitops{}, mpq::budget::between_low_high(1.0));
    else
      q->add_constraint(mpq::weight_size{}, mpq::budget::between_low_high(1.0));
  }
  p.set_budget(0, mpq::budget::absolute(uniform_only.cost(0, u)));
  return p;
}

}  // namespace fmnist_e2e

namespace fmnist_e2e {

namespace detail {
/// The pairs of an allocation, each printed with `pair_format` (two %d: w, a), joined by `separator`.
inline std::string join_bits(const std::vector<mpq::bit_pair>& bits, const char* pair_format, const char* separator) {
  std::string s;
  char pair[16];
  for (const auto& b : bits) {
    if (!s.empty()) s += separator;
    std::snprintf(pair, sizeof pair, pair_format, b.w, b.a);
    s += pair;
  }
  return s;
}
}  // namespace detail

/// "W2A8 W4A3 W4A4 W6A4 W8A4" (for tables and files).
inline std::string format_bits(const std::vector<mpq::bit_pair>& bits) { return detail::join_bits(bits, "W%dA%d", " "); }

/// "2.8-4.3-4.4-6.4-8.4": an allocation as a file-name key.
inline std::string bits_key(const std::vector<mpq::bit_pair>& bits) { return detail::join_bits(bits, "%d.%d", "-"); }

/// Parses format_bits' or bits_key's form; throws std::runtime_error naming the text and the rule.
inline std::vector<mpq::bit_pair> parse_bits(const std::string& text) {
  std::vector<mpq::bit_pair> out;
  int w = 0, a = 0, used = 0;
  const char* p = text.c_str();
  while (*p != '\0') {
    if (*p == ' ' || *p == '-') {
      ++p;
      continue;
    }
    if (std::sscanf(p, "W%dA%d%n", &w, &a, &used) == 2 || std::sscanf(p, "%d.%d%n", &w, &a, &used) == 2) {
      out.push_back({w, a});
      p += used;
    } else {
      throw std::runtime_error("allocation '" + text + "': expected " + std::to_string(layer_count) +
                               " pairs such as 'W4A4 W3A2 ...' or '4.4-3.2-...'");
    }
  }
  if (out.size() != layer_count)
    throw std::runtime_error("allocation '" + text + "': " + std::to_string(out.size()) + " layers, the network has " +
                             std::to_string(layer_count));
  for (std::size_t l = 0; l < layer_count; ++l)
    if (out[l].w < 2 || out[l].w > 8 || out[l].a < 2 || out[l].a > 8 || (l == 0 && out[l].a != input_bits))
      throw std::runtime_error("allocation '" + text + "': layer " + layer_names[l] + " at W" + std::to_string(out[l].w) +
                               "A" + std::to_string(out[l].a) + ": weights and activations take 2..8 bits, conv1's input 8");
  return out;
}

/// BitOps and weight size (bits) of an allocation, as the cost models count them (per image).
inline double bitops_of(const std::vector<mpq::bit_pair>& bits) {
  const auto ls = layers();
  double s = 0.0;
  for (std::size_t l = 0; l < layer_count; ++l) s += mpq::bitops::layer_cost(ls[l], l, bits[l]);
  return s;
}
inline double size_bits_of(const std::vector<mpq::bit_pair>& bits) {
  const auto ls = layers();
  double s = 0.0;
  for (std::size_t l = 0; l < layer_count; ++l) s += mpq::weight_size{}.layer_cost(ls[l], l, bits[l]);
  return s;
}

}  // namespace fmnist_e2e
