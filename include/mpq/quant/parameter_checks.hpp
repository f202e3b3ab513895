// Validation helpers shared by the runtime quantizers: a parameter must be finite, positive or
// inside [lo, hi], and the message names the quantizer, the parameter, its value and the rule.
#pragma once

#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"

namespace mpq::detail {

inline status check_finite_param(const char* who, const char* name, float v) noexcept {
  if (is_finite(v)) return {};
  return status::failure(errc::not_finite, "%s: %s = %g: must be finite", who, name, static_cast<double>(v));
}

inline status check_positive_param(const char* who, const char* name, float v) noexcept {
  MPQ_TRY(check_finite_param(who, name, v));
  if (v > 0.0f) return {};
  return status::failure(errc::invalid_argument, "%s: %s = %g: must be > 0", who, name, static_cast<double>(v));
}

inline status check_param_in(const char* who, const char* name, float v, float lo, float hi) noexcept {
  MPQ_TRY(check_finite_param(who, name, v));
  if (v >= lo && v <= hi) return {};
  return status::failure(errc::invalid_argument, "%s: %s = %g: must lie in [%g, %g]", who, name,
                         static_cast<double>(v), static_cast<double>(lo), static_cast<double>(hi));
}

/// 0 < lo <= hi, both finite: the bounds of a learnable parameter.
inline status check_bounds_pair(const char* who, const char* name, float lo, float hi) noexcept {
  if (is_finite(lo) && is_finite(hi) && lo > 0.0f && lo <= hi) return {};
  return status::failure(is_finite(lo) && is_finite(hi) ? errc::invalid_argument : errc::not_finite,
                         "%s: bounds of %s [%g, %g]: must be finite with 0 < min <= max", who, name,
                         static_cast<double>(lo), static_cast<double>(hi));
}

/// Bit-width bounds of a learned bit width: 1 <= lo <= hi <= 16, and lo >= min_bits.
inline status check_bits_bounds(const char* who, float lo, float hi, float min_bits, const char* why) noexcept {
  if (!(is_finite(lo) && is_finite(hi) && lo >= 1.0f && lo <= hi && hi <= 16.0f))
    return status::failure(errc::invalid_argument, "%s: bit-width bounds [%g, %g]: must satisfy 1 <= b_min <= b_max <= 16",
                           who, static_cast<double>(lo), static_cast<double>(hi));
  if (lo < min_bits)
    return status::failure(errc::invalid_argument, "%s: b_min = %g: must be >= %g because %s", who,
                           static_cast<double>(lo), static_cast<double>(min_bits), why);
  return {};
}

/// The value of v clipped to [lo, hi]; NaN passes through (so a later check reports it).
constexpr float clip_keep_nan(float v, float lo, float hi) noexcept { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace mpq::detail
