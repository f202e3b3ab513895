// BitOps cost model: MACs x weight bits x activation bits per layer, summed (algorithms.md §1.1).
#pragma once

#include <cstddef>

#include "mpq/cost/cost_concepts.hpp"
#include "mpq/cost/layer.hpp"

namespace mpq {

/// @brief BOPs_l = MAC_l · b_w · b_a; the network's BitOps are the sum (LIMPQ, EdMIPS, HAWQ-V3).
/// A float layer counts at its 16 or 32 bits, so all-32 gives the usual FP reference 1024 · MACs.
struct bitops {
  static constexpr const char* name() noexcept { return "bitops"; }
  static constexpr cost_aggregation aggregation() noexcept { return cost_aggregation::sum; }
  static double layer_cost(const layer_info& l, std::size_t, bit_pair b) noexcept {
    return static_cast<double>(l.macs) * b.w * b.a;
  }
};

}  // namespace mpq
