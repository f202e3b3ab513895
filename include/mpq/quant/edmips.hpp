// EdMIPS's quantizers (Cai & Vasconcelos, CVPR 2020): the Gaussian mid-rise weight quantizer with
// step c_b·std(W) and identity STE, and HWGQ, the half-wave Gaussian activation quantizer.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/quant/affine.hpp"
#include "mpq/quant/calibration.hpp"
#include "mpq/quant/parameter_checks.hpp"
#include "mpq/quant/policies.hpp"
#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/rounding.hpp"
#include "mpq/quant/span.hpp"

namespace mpq {

/// @brief EdMIPS's `gaussian_steps`: the Gaussian-optimal step of a b-bit mid-rise quantizer in
/// units of the standard deviation, for b = 1..4 (index b - 1). [CODE: models/quant_module.py]
inline constexpr std::array<double, 4> edmips_gaussian_step_factors{1.596, 0.996, 0.586, 0.336};
/// @brief EdMIPS's `hwgq_steps`: HWGQ's fixed step for b = 1..4 (inputs are batch-normalised).
inline constexpr std::array<double, 4> edmips_hwgq_steps{0.799, 0.538, 0.3217, 0.185};

namespace detail {
// The members of a quantizer with no learnable parameter (N = 0): it still gives ∂Q/∂x.
template <class Derived>
class parameter_free_ops : public differentiable_ops<Derived> {
 public:
  static constexpr std::size_t parameter_count = 0;
  static constexpr std::array<const char*, 0> parameter_names{};
  std::array<float, 0> parameters() const noexcept { return {}; }
  status try_set_parameters(const std::array<float, 0>&) noexcept { return {}; }
  std::array<float, 0> gradient_scale(std::size_t) const noexcept { return {}; }
};

// The table entry of a validated width 1..4. (The mask is a no-op then; it spares GCC 12's
// -Warray-bounds, which cannot see the earlier check through the inlined status return.)
inline double table_entry(const std::array<double, 4>& table, int bits) noexcept {
  return table[static_cast<std::size_t>(bits - 1) & 3u];
}

inline status check_table_bits(const char* who, int bits) noexcept {
  if (bits >= 1 && bits <= 4) return {};
  return status::failure(errc::invalid_argument,
                         "%s: bits = %d: EdMIPS tabulates the step for 1..4 bits only; give the step yourself "
                         "(try_with_step) for other widths",
                         who, bits);
}
}  // namespace detail

/// @brief EdMIPS's Gaussian weight quantizer: mid-rise (no zero level), 2^b levels ±Δ/2, ±3Δ/2, ...,
/// Δ = c_b·σ with σ the weights' (unbiased) standard deviation:
///
///   Q(w) = clamp((R(w/Δ + 1/2) - 1/2)·Δ, -(2^(b-1) - 1/2)Δ, (2^(b-1) - 1/2)Δ)
///
/// Codes are signed two's complement c = clamp(R(w/Δ + 1/2) - 1, -2^(b-1), 2^(b-1) - 1) with
/// value Δ·(c + 1/2) (code_offset 1/2). Δ = float(c_b·σ) computed in double, as Python does;
/// w/Δ divides (PyTorch). Ties half to even (torch.round), so w = 0 gives -Δ/2 (R(0.5) = 0).
/// Backward: identity STE, ∂Q/∂w = 1 everywhere (no saturation mask) [CODE]. No learnable parameter:
/// σ is recomputed from the weights every forward and treated as a constant, so rebuild the
/// quantizer with try_fit() when the weights change. NaN quantizes as 0 does; its ∂Q/∂w is 1 too.
template <RoundingPolicy R = round_half_even>
class gaussian_quantizer : public detail::parameter_free_ops<gaussian_quantizer<R>>,
                           public detail::affine_ops<gaussian_quantizer<R>> {
 public:
  using rounding = R;
  static constexpr const char* name = "gaussian_quantizer";

  /// @brief bits 1..4 and the weights' standard deviation (finite, > 0): Δ = c_b·stddev.
  gaussian_quantizer(int bits, float stddev) { *this = try_make(bits, stddev).value(); }

  static expected<gaussian_quantizer> try_make(int bits, float stddev) noexcept {
    MPQ_TRY(detail::check_table_bits(name, bits));
    MPQ_TRY(detail::check_positive_param(name, "stddev", stddev));
    return try_with_step(bits, static_cast<float>(detail::table_entry(edmips_gaussian_step_factors, bits) * stddev));
  }

  /// @brief Any width 1..8 or 16 with an explicit step Δ (finite, > 0).
  static expected<gaussian_quantizer> try_with_step(int bits, float step) noexcept {
    MPQ_TRY(check_quantizer_bits(bits, "gaussian_quantizer: bits"));
    MPQ_TRY(detail::check_positive_param(name, "step", step));
    gaussian_quantizer q;
    q.bits_ = bits;
    q.step_ = step;
    return q;
  }

  /// @brief The quantizer EdMIPS uses for weights w at `bits` bits: σ = std(w) (unbiased).
  static expected<gaussian_quantizer> try_fit(int bits, std::span<const float> w) noexcept {
    auto m = try_moments(w);
    if (!m) return m.error();
    return try_make(bits, static_cast<float>(m->stddev));
  }

  int bits() const noexcept { return bits_; }
  bool is_signed() const noexcept { return true; }
  std::int32_t code_min() const noexcept { return mpq::code_min(bits_, signed_codes); }
  std::int32_t code_max() const noexcept { return mpq::code_max(bits_, signed_codes); }
  float step() const noexcept { return step_; }
  float code_offset() const noexcept { return 0.5f; }

  affine_form<R> affine() const noexcept {
    return {step_, 1.0f / step_, 0.5f, -1, code_min(), code_max(), 0.5f, true};
  }

  quant_gradient<0> gradient(float x) const noexcept { return {this->fake_quantize(x), 1.0f, {}}; }

 private:
  gaussian_quantizer() = default;
  int bits_ = 2;
  float step_ = 1.0f;
};

/// @brief EdMIPS's HWGQ activation quantizer (also the ReLU): unsigned, fixed step Δ_b,
///
///   Q(x) = Δ·R(clamp(x, 0, (2^b - 1)Δ) / Δ),   codes [0, 2^b - 1]
///
/// Backward: ∂Q/∂x = 1 on [0, (2^b - 1)Δ] (the clamp's mask; bounds included), 0 outside; Δ is a
/// constant (no parameter, no bound gradient: the bound_gradient_stops case). x/Δ divides; ties
/// half to even (torch.round). The clip threshold is float((2^b - 1)·Δ) computed in double, as
/// Python does. NaN quantizes as 0 and gets ∂Q/∂x = 0; +-Inf saturate.
template <RoundingPolicy R = round_half_even>
class hwgq_quantizer : public detail::parameter_free_ops<hwgq_quantizer<R>>, public detail::affine_ops<hwgq_quantizer<R>> {
 public:
  using rounding = R;
  static constexpr const char* name = "hwgq_quantizer";

  /// @brief bits 1..4 with EdMIPS's step.
  explicit hwgq_quantizer(int bits) { *this = try_make(bits).value(); }

  static expected<hwgq_quantizer> try_make(int bits) noexcept {
    MPQ_TRY(detail::check_table_bits(name, bits));
    return try_with_step(bits, static_cast<float>(detail::table_entry(edmips_hwgq_steps, bits)));
  }

  /// @brief Any width 1..8 or 16 with an explicit step (finite, > 0).
  static expected<hwgq_quantizer> try_with_step(int bits, float step) noexcept {
    MPQ_TRY(check_quantizer_bits(bits, "hwgq_quantizer: bits"));
    MPQ_TRY(detail::check_positive_param(name, "step", step));
    hwgq_quantizer q;
    q.bits_ = bits;
    q.step_ = step;
    q.clip_ = static_cast<float>(static_cast<double>(step) * mpq::code_max(bits, unsigned_codes));
    return q;
  }

  int bits() const noexcept { return bits_; }
  bool is_signed() const noexcept { return false; }
  std::int32_t code_min() const noexcept { return 0; }
  std::int32_t code_max() const noexcept { return mpq::code_max(bits_, unsigned_codes); }
  float step() const noexcept { return step_; }
  float code_offset() const noexcept { return 0.0f; }
  /// @brief The clamp's upper bound, float((2^b - 1)·Δ).
  float clip_threshold() const noexcept { return clip_; }

  affine_form<R> affine() const noexcept { return {step_, 1.0f / step_, 0.0f, 0, 0, code_max(), 0.0f, true}; }

  quant_gradient<0> gradient(float x) const noexcept {
    return {this->fake_quantize(x), (x >= 0.0f && x <= clip_) ? 1.0f : 0.0f, {}};
  }

 private:
  hwgq_quantizer() = default;
  int bits_ = 2;
  float step_ = 1.0f;
  float clip_ = 3.0f;
};

}  // namespace mpq
