// Activation-memory cost models: A_l x activation bits, summed (total) or maximised (peak) (§1.4).
#pragma once

#include <cstddef>

#include "mpq/cost/cost_concepts.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/cost/memory_units.hpp"

namespace mpq {

/// @brief Mem_l = A_l · b_a (A_l: elements of the layer's quantized input activation).
/// `sum` (Uhlich et al. 8b): Σ_l Mem_l; `peak` (8c): max_l Mem_l, the memory needed when one
/// activation tensor is live at a time. A budget on the peak is a limit on every layer's own term.
class activation_memory {
 public:
  enum class kind : unsigned char { sum, peak };

  constexpr explicit activation_memory(kind k = kind::sum, memory_unit unit = memory_unit::bits) noexcept
      : kind_(k), unit_(unit) {}
  constexpr const char* name() const noexcept {
    if (kind_ == kind::sum) return unit_ == memory_unit::bits ? "activation_memory_sum_bits"
                                                              : "activation_memory_sum_bytes";
    return unit_ == memory_unit::bits ? "activation_memory_peak_bits" : "activation_memory_peak_bytes";
  }
  constexpr cost_aggregation aggregation() const noexcept {
    return kind_ == kind::sum ? cost_aggregation::sum : cost_aggregation::max;
  }
  double layer_cost(const layer_info& l, std::size_t, bit_pair b) const noexcept {
    return static_cast<double>(l.activations) * b.a / bits_per(unit_);
  }

 private:
  kind kind_;
  memory_unit unit_;
};

}  // namespace mpq
