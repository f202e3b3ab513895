// affine_form: the one normal form in which every uniform quantizer's arithmetic is evaluated
// (scalar, span and SIMD loops all run this, so they agree bit for bit).
#pragma once

#include <cstdint>

#include "mpq/core/math.hpp"
#include "mpq/quant/rounding.hpp"

namespace mpq {

/// @brief The arithmetic of a uniform quantizer, written once:
///
///   t     = divide ? x / scale : x * inv_scale          (NaN x is read as 0.0)
///   code  = clamp( R(t + pre_add) + code_add, lo, hi )  R = rounding policy
///   value = scale * (code + code_offset)
///
/// Every uniform quantizer in mpq returns its form from `affine()`: uniform_quantizer (reciprocal
/// multiply, code_add = zero point, code_offset = -zero point), Uhlich's step-size quantizers (a
/// power-of-two step, so multiply and divide agree), LSQ and HWGQ (divide, as their PyTorch code
/// does) and EdMIPS's mid-rise Gaussian quantizer (pre_add = 1/2, code_add = -1, code_offset = 1/2).
/// Clamping the rounded code is the same as clamping x first and rounding, because the bounds are
/// integers and rounding is monotone.
template <RoundingPolicy R>
struct affine_form {
  using rounding = R;

  float scale = 1.0f;
  float inv_scale = 1.0f;
  float pre_add = 0.0f;
  std::int32_t code_add = 0;
  std::int32_t lo = 0;
  std::int32_t hi = 0;
  float code_offset = 0.0f;
  bool divide = false;

  /// @brief t = x / scale or x * inv_scale, with NaN read as 0.
  constexpr float scaled(float x) const noexcept {
    if (is_nan(x)) x = 0.0f;
    return divide ? x / scale : x * inv_scale;
  }

  /// @brief The rounded code before adding code_add, clamped to [lo - code_add, hi - code_add].
  /// +-Inf and out-of-range values saturate; the result is an exact integer in float.
  constexpr float rounded(float x) const noexcept {
    const float r = round_integral<R>(scaled(x) + pre_add);
    const float lo_f = static_cast<float>(lo - code_add);
    const float hi_f = static_cast<float>(hi - code_add);
    return r <= lo_f ? lo_f : (r >= hi_f ? hi_f : r);
  }

  constexpr std::int32_t quantize(float x) const noexcept {
    return static_cast<std::int32_t>(rounded(x)) + code_add;
  }

  constexpr float dequantize(std::int32_t code) const noexcept {
    return scale * (static_cast<float>(code) + code_offset);
  }

  /// @brief dequantize(quantize(x)).
  constexpr float fake_quantize(float x) const noexcept { return dequantize(quantize(x)); }
};

namespace detail {
/// The Quantizer members every affine-form quantizer derives from its affine() (CRTP), written once.
template <class Derived>
class affine_ops {
 public:
  std::int32_t quantize(float x) const noexcept { return self().affine().quantize(x); }
  float dequantize(std::int32_t code) const noexcept { return self().affine().dequantize(code); }
  float fake_quantize(float x) const noexcept { return self().affine().fake_quantize(x); }
  float operator()(float x) const noexcept { return fake_quantize(x); }
  float min_value() const noexcept { return dequantize(self().code_min()); }
  float max_value() const noexcept { return dequantize(self().code_max()); }

 private:
  const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
};
}  // namespace detail

}  // namespace mpq
