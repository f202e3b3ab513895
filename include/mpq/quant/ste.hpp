// Straight-through-estimator (STE) primitives the learnable quantizers share: clipping with its
// pass-through mask, power-of-two projection with its factor p/v, and nnabla's sign convention.
#pragma once

#include <cmath>

namespace mpq {

/// @brief A projected value and its straight-through derivative d(value)/d(input).
struct ste_value {
  float value = 0.0f;
  float grad = 0.0f;
};

/// @brief ln 2, the factor every derivative of 2^b carries.
inline constexpr float ln2 = 0.693147180559945309f;

/// @brief clamp(v, lo, hi) with the straight-through mask of PyTorch's clamp and nnabla's
/// clip_by_value: 1 on [lo, hi] (bounds included), 0 outside.
constexpr ste_value clip_ste(float v, float lo, float hi) noexcept {
  if (v < lo) return {lo, 0.0f};
  if (v > hi) return {hi, 0.0f};
  return {v, 1.0f};
}

/// @brief The exponent e of the power of two nearest to v > 0 in the log domain, i.e.
/// round(log2 v). Computed exactly from v's binary exponent and mantissa: v = m·2^k with
/// m in [1/2, 1) rounds to 2^k when m >= 1/sqrt(2), else to 2^(k-1). The tie m = 1/sqrt(2) is
/// irrational, so no float is a tie and the rounding policy does not matter here. (Sony's code
/// computes round(log(v)/log(2)) in float32, which can differ within a rounding error of the tie.)
inline int nearest_pow2_exponent(float v) noexcept {
  int k = 0;
  const float m = std::frexp(v, &k);
  return static_cast<double>(m) >= 0.70710678118654752440 ? k : k - 1;
}

/// @brief 2^round(log2 v) for v > 0, with the straight-through factor p/v (the derivative of
/// 2^u at u = log2 v, chained through an identity round: d/dv 2^(log2 v) scaled to p).
inline ste_value pow2_ste(float v) noexcept {
  const float p = std::ldexp(1.0f, nearest_pow2_exponent(v));
  return {p, p / v};
}

/// @brief nnabla's F.sign (alpha = 1): -1 for x < 0, +1 otherwise (also for +-0 and NaN).
constexpr float sign_of(float x) noexcept { return x < 0.0f ? -1.0f : 1.0f; }

}  // namespace mpq
