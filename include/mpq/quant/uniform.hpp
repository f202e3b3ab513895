// uniform_quantizer<Bits, Signedness>: bits fixed at compile time, step and zero point at runtime,
// usable in constant evaluation (the embedded builds quantize and pack their weights at compile time).
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/quant/affine.hpp"
#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/rounding.hpp"

namespace mpq {

namespace detail {
// Not constexpr on purpose: reaching it during constant evaluation makes the bad argument a
// compile error whose note points here.
inline void invalid_quantizer_argument_in_constant_expression() {}
}  // namespace detail

/// @brief Affine uniform quantizer with `Bits`-bit codes (1..8 or 16), signed or unsigned.
///
///   code(x)  = clamp( R(x * (1/step)) + zero_point, lo, hi )        R = rounding policy
///   value(c) = step * (c - zero_point)
///
/// [lo, hi] is the full code range of Bits by default (two's complement when signed), or a narrower
/// range given at construction (e.g. the symmetric [-(2^(B-1)-1), 2^(B-1)-1]). x is multiplied by the
/// stored reciprocal of step, as PyTorch's fake_quantize does, so SIMD loops and LibTorch agree
/// bit for bit. NaN maps to the code of 0.0 (zero_point, clamped), +Inf to hi, -Inf to lo.
template <int Bits, signedness S = signed_codes, RoundingPolicy Rounding = round_half_even>
class uniform_quantizer {
  static_assert(is_quantizer_bits(Bits), "mpq::uniform_quantizer: Bits must be 1..8 or 16");

 public:
  using traits = code_traits<Bits, S>;
  using rounding = Rounding;
  static constexpr int bit_width = Bits;
  static constexpr signedness sign = S;

  /// @brief Step 1, zero point 0, full code range.
  constexpr uniform_quantizer() noexcept = default;

  /// @brief step > 0 and finite; zero_point and [lo, hi] inside the code range of Bits, lo <= hi.
  /// Invalid arguments: mpq::error (or the error handler without exceptions); in constant
  /// evaluation, a compile error.
  constexpr explicit uniform_quantizer(float step, std::int32_t zero_point = 0,
                                       std::int32_t lo = traits::min, std::int32_t hi = traits::max)
      : step_(step), inv_step_(1.0f / step), zero_point_(zero_point), lo_(lo), hi_(hi) {
    if (std::is_constant_evaluated()) {
      if (!valid(step, zero_point, lo, hi)) detail::invalid_quantizer_argument_in_constant_expression();
    } else {
      throw_if_error(check(step, zero_point, lo, hi));
    }
  }

  /// @brief Checked construction: the quantizer, or a status naming the bad value and its rule.
  static expected<uniform_quantizer> try_make(float step, std::int32_t zero_point = 0,
                                              std::int32_t lo = traits::min,
                                              std::int32_t hi = traits::max) noexcept {
    if (status s = check(step, zero_point, lo, hi); !s.ok()) return s;
    uniform_quantizer q;
    q.step_ = step;
    q.inv_step_ = 1.0f / step;
    q.zero_point_ = zero_point;
    q.lo_ = lo;
    q.hi_ = hi;
    return q;
  }

  /// @brief The quantizer whose full code range covers [lo, hi] (e.g. a calibrated range):
  /// signed codes: zero point 0 and the smallest step that represents both lo and hi without
  /// clipping, max(-lo / -code_min, hi / code_max) (max|x| / (2^(B-1)-1) for a symmetric range);
  /// unsigned codes: the range is widened to contain 0, step = (hi - lo) / (2^B - 1) and the zero
  /// point is the code of 0.0. Errors: non-finite bounds, lo > hi, or a range of width 0.
  static expected<uniform_quantizer> try_from_range(float lo, float hi) noexcept {
    if (!is_finite(lo) || !is_finite(hi) || lo > hi)
      return status::failure(is_finite(lo) && is_finite(hi) ? errc::invalid_argument : errc::not_finite,
                             "uniform_quantizer: range [%g, %g]: the bounds must be finite with lo <= hi",
                             static_cast<double>(lo), static_cast<double>(hi));
    double step = 0.0;
    std::int32_t zp = 0;
    if constexpr (traits::is_signed) {
      step = static_cast<double>(-lo) / -static_cast<double>(traits::min);
      if (traits::max > 0 && static_cast<double>(hi) / traits::max > step) step = static_cast<double>(hi) / traits::max;
    } else {
      const double l = lo < 0.0f ? lo : 0.0, h = hi > 0.0f ? hi : 0.0;
      step = (h - l) / static_cast<double>(traits::max);
      if (step > 0.0) zp = static_cast<std::int32_t>(round_integral<Rounding>(static_cast<float>(-l / step)));
      zp = zp > traits::max ? traits::max : zp;
    }
    const float step_f = static_cast<float>(step);
    if (!(step_f > 0.0f))
      return status::failure(errc::invalid_argument,
                             "uniform_quantizer: range [%g, %g]: gives step %g; the step must be > 0 (the range "
                             "must extend to the side the %s codes represent)",
                             static_cast<double>(lo), static_cast<double>(hi), step, to_string(S));
    return try_make(step_f, zp);
  }

  /// @brief Validation used by the constructor and try_make.
  static status check(float step, std::int32_t zero_point, std::int32_t lo, std::int32_t hi) noexcept {
    if (!(step > 0.0f) || !is_finite(step))
      return status::failure(errc::invalid_argument,
                             "uniform_quantizer: step = %g: the step must be finite and > 0",
                             static_cast<double>(step));
    if (lo < traits::min || hi > traits::max || lo > hi)
      return status::failure(errc::invalid_argument,
                             "uniform_quantizer: code range [%d, %d]: must satisfy %d <= lo <= hi <= %d "
                             "for %d-bit %s codes",
                             static_cast<int>(lo), static_cast<int>(hi), static_cast<int>(traits::min),
                             static_cast<int>(traits::max), Bits, to_string(S));
    if (zero_point < traits::min || zero_point > traits::max)
      return status::failure(errc::invalid_argument,
                             "uniform_quantizer: zero_point = %d: must lie in [%d, %d] for %d-bit %s codes",
                             static_cast<int>(zero_point), static_cast<int>(traits::min),
                             static_cast<int>(traits::max), Bits, to_string(S));
    return {};
  }

  static constexpr bool valid(float step, std::int32_t zero_point, std::int32_t lo, std::int32_t hi) noexcept {
    return step > 0.0f && is_finite(step) && lo >= traits::min && hi <= traits::max &&
           lo <= hi && zero_point >= traits::min && zero_point <= traits::max;
  }

  constexpr int bits() const noexcept { return Bits; }
  constexpr bool is_signed() const noexcept { return traits::is_signed; }
  constexpr std::int32_t code_min() const noexcept { return lo_; }
  constexpr std::int32_t code_max() const noexcept { return hi_; }
  constexpr float step() const noexcept { return step_; }
  constexpr float inverse_step() const noexcept { return inv_step_; }
  constexpr std::int32_t zero_point() const noexcept { return zero_point_; }
  /// @brief dequantize(c) == step() * (c + code_offset()).
  constexpr float code_offset() const noexcept { return -static_cast<float>(zero_point_); }
  constexpr float min_value() const noexcept { return dequantize(lo_); }
  constexpr float max_value() const noexcept { return dequantize(hi_); }

  /// @brief The arithmetic as an affine_form (reciprocal multiply; code_add = zero point).
  constexpr affine_form<Rounding> affine() const noexcept {
    return {step_, inv_step_, 0.0f, zero_point_, lo_, hi_, -static_cast<float>(zero_point_), false};
  }

  constexpr std::int32_t quantize(float x) const noexcept { return affine().quantize(x); }

  constexpr float dequantize(std::int32_t code) const noexcept { return affine().dequantize(code); }

  constexpr float fake_quantize(float x) const noexcept { return dequantize(quantize(x)); }
  constexpr float operator()(float x) const noexcept { return fake_quantize(x); }

  friend constexpr bool operator==(const uniform_quantizer&, const uniform_quantizer&) = default;

 private:
  float step_ = 1.0f;
  float inv_step_ = 1.0f;
  std::int32_t zero_point_ = 0;
  std::int32_t lo_ = traits::min;
  std::int32_t hi_ = traits::max;
};

}  // namespace mpq
