// The SensitivityModel concept: how much a layer's quantization at a (W,A) choice is expected to
// raise the loss; the search minimizes the sum over layers.
#pragma once

#include <concepts>
#include <cstddef>

#include "mpq/cost/layer.hpp"

namespace mpq {

/// @brief The objective term Ω_l(W,A) of layer `index` at a (W,A) choice: smaller is better, and
/// the search minimizes Σ_l Ω_l. Values must be finite, or +infinity to forbid a choice (NaN is
/// rejected with an error naming the layer and the pair).
/// Satisfied by weight_quantization_error, hawq_sensitivity, limpq_indicators, fisher_sensitivity,
/// sensitivity_table and combined_sensitivity.
template <class S>
concept SensitivityModel = requires(const S& s, const layer_info& layer, std::size_t index, bit_pair bits) {
  { s.name() } -> std::convertible_to<const char*>;
  { s.sensitivity(layer, index, bits) } -> std::convertible_to<double>;
};

}  // namespace mpq
