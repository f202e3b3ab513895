// Validation helpers shared by the runtime quantizers: a parameter must be finite, positive or
// inside [lo, hi], and the message names the quantizer, the parameter, its value and the rule.
#pragma once

#include <array>

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

// Sony's projection after an optimizer step (train_resnet.py clip_quant_vals, algorithms.md §2b):
// a parameter is clipped to [min + 1e-5, max - 1e-5] of its bounds.
inline constexpr float sony_margin = 1e-5f;
constexpr float sony_clip(float v, float lo, float hi) noexcept {
  return clip_keep_nan(v, lo + sony_margin, hi - sony_margin);
}

// The same for an ordered pair (small, large) such as (d, q_max) or (q_min, q_max): first
// small <- min(small, large - 1e-5) and large <- max(small + 1e-5, large), then each is clipped to
// its bounds; if the bounds overlap so that large < small, large is raised to small. NaN stays.
inline std::array<float, 2> sony_project_ordered(std::array<float, 2> t, float small_lo, float small_hi,
                                                 float large_lo, float large_hi) noexcept {
  if (is_nan(t[0]) || is_nan(t[1])) return t;
  const float small = t[0] < t[1] - sony_margin ? t[0] : t[1] - sony_margin;
  const float large = t[0] + sony_margin > t[1] ? t[0] + sony_margin : t[1];
  t[0] = sony_clip(small, small_lo, small_hi);
  t[1] = sony_clip(large, large_lo, large_hi);
  if (t[1] < t[0]) t[1] = t[0];
  return t;
}

// Sony's gradient clipping under an active memory constraint: every gradient to [-m, m].
inline std::array<float, 2> clip_each(std::array<float, 2> g, float m) noexcept {
  for (float& v : g) v = clip_keep_nan(v, -m, m);
  return g;
}

}  // namespace mpq::detail
