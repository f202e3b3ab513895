// The CostModel concept (the cost of one layer at one (W,A) choice) and how a whole allocation's
// cost is formed from the layer terms: a sum or a maximum, optionally divided by a normalizer.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/error.hpp"
#include "mpq/cost/layer.hpp"

namespace mpq {

/// @brief How a model's per-layer terms make the network's cost: their sum (BitOps, size, latency)
/// or their maximum (peak activation memory). A budget on a max-cost is a per-layer limit.
enum class cost_aggregation : std::uint8_t { sum, max };

constexpr const char* to_string(cost_aggregation a) noexcept {
  return a == cost_aggregation::sum ? "sum" : "max";
}

/// @brief The cost of a layer at a (W,A) choice, and how layer costs combine into the network's.
///
///   network cost = aggregate_l layer_cost(layer_l, l, bits_l) / normalizer(layers)
///
/// `layer_cost` must be finite and >= 0 for every choice it is asked about (the problem model
/// rejects a NaN, negative or infinite cost with an error naming the layer and the pair).
/// Optional members, detected when present: `double normalizer(std::span<const layer_info>) const`
/// (default 1; the averages divide by a total) and `status check(std::span<const layer_info>) const`
/// (validation before a constraint is built, e.g. a latency table missing a layer).
/// Satisfied by bitops, weight_size, parameter_weighted_average_bits, mean_layer_bits,
/// activation_memory, latency_table.
template <class M>
concept CostModel = requires(const M& m, const layer_info& layer, std::size_t index, bit_pair bits) {
  { m.name() } -> std::convertible_to<const char*>;
  { m.aggregation() } -> std::same_as<cost_aggregation>;
  { m.layer_cost(layer, index, bits) } -> std::convertible_to<double>;
};

/// @brief The normalizer of a cost model over `layers` (1 unless the model defines one).
template <CostModel M>
double cost_normalizer(const M& m, std::span<const layer_info> layers) {
  if constexpr (requires { { m.normalizer(layers) } -> std::convertible_to<double>; })
    return static_cast<double>(m.normalizer(layers));
  else
    return 1.0;
}

/// @brief The model's own validation over `layers` (ok unless the model defines check()).
template <CostModel M>
status cost_check(const M& m, std::span<const layer_info> layers) {
  if constexpr (requires { { m.check(layers) } -> std::same_as<status>; })
    return m.check(layers);
  else
    return {};
}

/// @brief The network cost of one allocation (bits[l] for layers[l]), in layer order.
/// Precondition (asserted): bits.size() == layers.size().
template <CostModel M>
double total_cost(const M& m, std::span<const layer_info> layers, std::span<const bit_pair> bits) {
  MPQ_ASSERT(bits.size() == layers.size());
  double acc = 0.0;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const double c = static_cast<double>(m.layer_cost(layers[l], l, bits[l]));
    acc = m.aggregation() == cost_aggregation::sum ? acc + c : (c > acc ? c : acc);
  }
  return acc / cost_normalizer(m, layers);
}

}  // namespace mpq
