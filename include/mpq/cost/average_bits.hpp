// Average-bitwidth cost models, two different definitions with two different names (algorithms.md §1.3).
#pragma once

#include <cstddef>
#include <span>

#include "mpq/cost/cost_concepts.hpp"
#include "mpq/cost/layer.hpp"

namespace mpq {

/// @brief Parameter-weighted average weight bits, Σ_l n_l b_w,l / Σ_l n_l (what Uhlich et al.
/// print as "average bitwidth"). A budget of 4 on it equals a weight-size budget of 4 · Σ n_l bits.
struct parameter_weighted_average_bits {
  static constexpr const char* name() noexcept { return "parameter_weighted_average_bits"; }
  static constexpr cost_aggregation aggregation() noexcept { return cost_aggregation::sum; }
  static double layer_cost(const layer_info& l, std::size_t, bit_pair b) noexcept {
    return static_cast<double>(l.weights) * b.w;
  }
  static double normalizer(std::span<const layer_info> layers) noexcept {
    double n = 0.0;
    for (const layer_info& l : layers) n += static_cast<double>(l.weights);
    return n > 0.0 ? n : 1.0;
  }
};

/// @brief Which tensor's bits a per-layer statistic reads.
enum class operand : unsigned char { weights, activations };

/// @brief Plain mean over layers, (1/L) Σ_l b_l, of the weight or the activation bits (LIMPQ's
/// optional average-bit constraint). Every layer counts once, whatever its size.
class mean_layer_bits {
 public:
  constexpr explicit mean_layer_bits(operand which = operand::weights) noexcept : which_(which) {}
  constexpr const char* name() const noexcept {
    return which_ == operand::weights ? "mean_weight_bits" : "mean_activation_bits";
  }
  static constexpr cost_aggregation aggregation() noexcept { return cost_aggregation::sum; }
  double layer_cost(const layer_info&, std::size_t, bit_pair b) const noexcept {
    return which_ == operand::weights ? b.w : b.a;
  }
  static double normalizer(std::span<const layer_info> layers) noexcept {
    return layers.empty() ? 1.0 : static_cast<double>(layers.size());
  }

 private:
  operand which_;
};

}  // namespace mpq
