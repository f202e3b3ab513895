// Weight-size cost model: n_l x weight bits per layer, summed, in bits or bytes (algorithms.md §1.2).
#pragma once

#include <cstddef>

#include "mpq/cost/cost_concepts.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/cost/memory_units.hpp"

namespace mpq {

/// @brief Size_l = n_l · b_w (bits, or / 8 for bytes). Every layer of the problem counts, fixed
/// layers at their fixed bits and float layers at 16/32, so the total is the stored model's size.
/// Compression ratio against fp32 = 32 · Σ n_l / (size in bits).
class weight_size {
 public:
  constexpr explicit weight_size(memory_unit unit = memory_unit::bits) noexcept : unit_(unit) {}
  constexpr const char* name() const noexcept {
    return unit_ == memory_unit::bits ? "weight_size_bits" : "weight_size_bytes";
  }
  static constexpr cost_aggregation aggregation() noexcept { return cost_aggregation::sum; }
  double layer_cost(const layer_info& l, std::size_t, bit_pair b) const noexcept {
    return static_cast<double>(l.weights) * b.w / bits_per(unit_);
  }
  constexpr memory_unit unit() const noexcept { return unit_; }

 private:
  memory_unit unit_;
};

}  // namespace mpq
