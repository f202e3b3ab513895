// The catalogue of quantizer policies: rounding ties, whether a clipping bound learns, granularity.
#pragma once

#include <concepts>
#include <cstddef>

namespace mpq {

// ---- Rounding ties ------------------------------------------------------------------------------
// Which neighbour an exact tie (k + 1/2) rounds to. The papers differ, so every quantizer takes the
// policy as a template parameter and defaults to its paper's choice (docs/quantizers.md lists them).

/// @brief Ties go to the even neighbour (IEEE default; PyTorch's torch.round: EdMIPS, LIMPQ, LSQ).
struct round_half_even {
  static constexpr const char* name = "half_even";
};
/// @brief Ties go away from zero (C's std::round; Sony's nnabla F.round in Uhlich et al.).
struct round_half_away {
  static constexpr const char* name = "half_away";
};

/// @brief One of the two rounding tags above (round_integral implements exactly these two).
template <class R>
concept RoundingPolicy = std::same_as<R, round_half_even> || std::same_as<R, round_half_away>;

// ---- Gradient of a clipping bound ----------------------------------------------------------------
// A saturated output equals the clipping bound, so under a straight-through estimator the bound (and
// whatever parameter it is made of) may receive that output's gradient, or be treated as a constant.
//   flows: Uhlich et al. (nnabla's clip_by_value routes sign(x) to q_max); LSQ (-Q_N or Q_P to s).
//   stops: EdMIPS's HWGQ clamp (its bound is a fixed constant).
// With `stops`, every gradient term that algorithms.md writes with an indicator 1_out is zero.

/// @brief Saturated outputs pass their gradient to the clipping bound's parameters.
struct bound_gradient_flows {
  static constexpr const char* name = "flows";
  static constexpr bool flows = true;
};
/// @brief Clipping bounds are constants: saturated outputs give no parameter gradient.
struct bound_gradient_stops {
  static constexpr const char* name = "stops";
  static constexpr bool flows = false;
};

/// @brief One of the two bound-gradient tags above.
template <class G>
concept BoundGradientPolicy = std::same_as<G, bound_gradient_flows> || std::same_as<G, bound_gradient_stops>;

// ---- Granularity ----------------------------------------------------------------------------------
// Per-tensor: one quantizer for every element. Per-channel: one quantizer per index along `axis` of
// a row-major tensor (any axis; see quant/per_channel.hpp). `per_channel` is the one policy that is
// not empty, because the axis is runtime data.

/// @brief One quantizer for the whole tensor.
struct per_tensor {};
/// @brief One quantizer per index along `axis` (0 = outermost) of a row-major tensor.
struct per_channel {
  std::size_t axis = 0;
};

}  // namespace mpq
