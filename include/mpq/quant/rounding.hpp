// constexpr round-to-integral for float under a rounding policy (the tags live in policies.hpp).
#pragma once

#include <cstdint>
#include <type_traits>

#include "mpq/quant/policies.hpp"

namespace mpq {

namespace detail {
// |x| >= 2^23 is already integral in float, and NaN/Inf are returned unchanged.
inline constexpr float float_integral_limit = 8388608.0f;
}  // namespace detail

/// @brief Round x to an integral float under policy R. constexpr; NaN and Inf come back unchanged.
template <RoundingPolicy R>
constexpr float round_integral(float x) noexcept {
  if (!(x < detail::float_integral_limit && x > -detail::float_integral_limit)) return x;
  const float t = static_cast<float>(static_cast<std::int32_t>(x));  // truncation, exact here
  const float frac = x - t;                                           // exact: |x| < 2^23
  if constexpr (std::is_same_v<R, round_half_away>) {
    if (frac >= 0.5f) return t + 1.0f;
    if (frac <= -0.5f) return t - 1.0f;
    return t;
  } else {
    if (frac > 0.5f) return t + 1.0f;
    if (frac < -0.5f) return t - 1.0f;
    if (frac == 0.5f || frac == -0.5f) {
      const bool t_even = (static_cast<std::int32_t>(t) & 1) == 0;
      return t_even ? t : t + (frac > 0 ? 1.0f : -1.0f);
    }
    return t;
  }
}

}  // namespace mpq
