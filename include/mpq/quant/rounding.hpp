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
/// Independent of the floating-point rounding mode. The steps are written as selects on bools (no
/// data-dependent branches), so scalar loops over random data do not pay for mispredictions.
template <RoundingPolicy R>
constexpr float round_integral(float x) noexcept {
  if (!(x < detail::float_integral_limit && x > -detail::float_integral_limit)) return x;
  const auto ti = static_cast<std::int32_t>(x);  // truncation, exact here
  const auto t = static_cast<float>(ti);
  const float frac = x - t;  // exact: |x| < 2^23
  bool up = false, down = false;
  if constexpr (std::is_same_v<R, round_half_away>) {
    up = frac >= 0.5f;
    down = frac <= -0.5f;
  } else {
    const bool odd = (ti & 1) != 0;  // a tie moves t only when t is odd
    up = (frac > 0.5f) | ((frac == 0.5f) & odd);
    down = (frac < -0.5f) | ((frac == -0.5f) & odd);
  }
  return t + static_cast<float>(up) - static_cast<float>(down);
}

}  // namespace mpq
