// Concepts for quantizers: Quantizer (float <-> integer code), UniformQuantizer (affine codes),
// DifferentiableQuantizer (straight-through gradients for training) and LearnedBitsQuantizer.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "mpq/core/error.hpp"
#include "mpq/quant/affine.hpp"

namespace mpq {

/// @brief Maps a float to an integer code and a code back to the float it stands for; knows its
/// bit width, its smallest level spacing (step) and the range of values it can represent.
/// Satisfied by uniform_quantizer, step_range_quantizer (U1-U3), pow2_quantizer (P1-P3),
/// lsq_quantizer, gaussian_quantizer and hwgq_quantizer.
template <class Q>
concept Quantizer = requires(const Q& q, float x, std::int32_t code) {
  { q.bits() } -> std::convertible_to<int>;
  { q.is_signed() } -> std::convertible_to<bool>;
  { q.code_min() } -> std::same_as<std::int32_t>;
  { q.code_max() } -> std::same_as<std::int32_t>;
  { q.quantize(x) } -> std::same_as<std::int32_t>;
  { q.dequantize(code) } -> std::same_as<float>;
  { q.fake_quantize(x) } -> std::same_as<float>;
  { q.step() } -> std::convertible_to<float>;
  { q.min_value() } -> std::convertible_to<float>;
  { q.max_value() } -> std::convertible_to<float>;
};

/// @brief A Quantizer whose levels are evenly spaced: dequantize(c) == step() * (c + code_offset()).
/// code_offset() is -zero_point for affine codes and +1/2 for mid-rise codes (EdMIPS). Integer
/// kernels need exactly this form to fold dequantization into their epilogue.
/// Satisfied by uniform_quantizer, step_range_quantizer (U1-U3), lsq, gaussian, hwgq; not by pow2.
template <class Q>
concept UniformQuantizer = Quantizer<Q> && requires(const Q& q) {
  { q.code_offset() } -> std::convertible_to<float>;
};

/// @brief A Quantizer whose arithmetic is an affine_form (quant/affine.hpp); span and SIMD loops
/// evaluate the form instead of calling quantize() per element, with bit-identical results.
/// Satisfied by the same types as UniformQuantizer.
template <class Q>
concept AffineFormQuantizer = UniformQuantizer<Q> && requires(const Q& q) {
  { q.affine() } -> std::same_as<affine_form<typename Q::rounding>>;
};

// ---- Differentiable quantizers -------------------------------------------------------------------
//
// The training-time contract. A differentiable quantizer holds N = Q::parameter_count learnable
// scalars θ (the RAW values an optimizer updates, e.g. Uhlich's d before its power-of-two
// projection) and gives, for every input x, the straight-through estimate of
//
//     Q(x),  ∂Q/∂x,  ∂Q/∂θ_k   (k < N)
//
// with every projection's STE factor (power of two, integer bits, clipping to bounds) already
// chained in, so ∂Q/∂θ_k is the gradient w.r.t. the raw parameter. Parameter gradients come back
// unscaled from gradient(); gradient_scale(n) gives the factor a span of n elements applies (LSQ's
// g = 1/sqrt(Q_P·n); 1 elsewhere). The span-level backward does all of it for a tensor:
//
//     grad_x[i]       = grad_out[i] * ∂Q/∂x(x[i])                  (skipped when grad_x is empty)
//     grad_params[k] += gradient_scale(n)[k] * Σ_i grad_out[i] * ∂Q/∂θ_k(x[i])     (accumulates)
//
// grad_x may alias grad_out. Parameter gradients ACCUMULATE (+=) so several backward calls (LIMPQ's
// per-bit passes, per-channel loops, micro-batches) add up; zero them before a step.
// A training loop: q.try_set_parameters(θ) -> forward with fake_quantize -> backward -> optimizer
// step on θ -> (Uhlich, pow2) θ = q.project(θ) -> repeat. Parameter values are validated by
// try_set_parameters; a failure changes nothing.

/// @brief The straight-through derivatives of a quantizer at one input x.
template <std::size_t N>
struct quant_gradient {
  float value = 0.0f;               ///< Q(x), equal to fake_quantize(x)
  float dx = 0.0f;                  ///< ∂Q/∂x
  std::array<float, N> dparams{};   ///< ∂Q/∂θ_k w.r.t. the raw parameters, before gradient_scale
};

namespace detail {
// A static data member of type const std::size_t (a non-static member would make the constant
// expression below a hard error instead of a false concept).
template <class Q>
concept static_size_member_parameter_count = requires {
  { &Q::parameter_count } -> std::same_as<const std::size_t*>;
};
}  // namespace detail

/// @brief Q declares how many learnable parameters it has: a static constexpr std::size_t
/// Q::parameter_count.
template <class Q>
concept HasParameterCount = detail::static_size_member_parameter_count<Q> && requires {
  typename std::integral_constant<std::size_t, Q::parameter_count>;
};

/// @brief Q exposes its learnable parameters by name, reads them and sets them (checked).
template <class Q>
concept HasLearnableParameters = HasParameterCount<Q> &&
    requires(const Q& q, Q& m, const std::array<float, Q::parameter_count>& theta) {
      { Q::parameter_names } -> std::convertible_to<std::array<const char*, Q::parameter_count>>;
      { q.parameters() } -> std::same_as<std::array<float, Q::parameter_count>>;
      { m.try_set_parameters(theta) } -> std::same_as<status>;
    };

/// @brief Q gives ∂Q/∂x and ∂Q/∂θ per element, and the gradient scale a span of n elements uses.
template <class Q>
concept ElementwiseDifferentiable = HasParameterCount<Q> && requires(const Q& q, float x, std::size_t n) {
  { q.gradient(x) } -> std::same_as<quant_gradient<Q::parameter_count>>;
  { q.gradient_scale(n) } -> std::same_as<std::array<float, Q::parameter_count>>;
};

/// @brief Q runs the span-level backward described above (checked and throwing forms).
template <class Q>
concept SpanDifferentiable = requires(const Q& q, std::span<const float> x, std::span<const float> grad_out,
                                      std::span<float> grad_x, std::span<float> grad_params) {
  { q.try_backward(x, grad_out, grad_x, grad_params) } -> std::same_as<status>;
  q.backward(x, grad_out, grad_x, grad_params);
};

/// @brief A Quantizer that gives straight-through gradients w.r.t. its input and its parameters.
/// Satisfied by step_range_quantizer (U1-U3), pow2_quantizer (P1-P3), lsq_quantizer, and the
/// parameter-free gaussian_quantizer and hwgq_quantizer (N = 0: they give ∂Q/∂x only).
/// Not by uniform_quantizer (no backward: it is the deployment-time quantizer).
template <class Q>
concept DifferentiableQuantizer =
    Quantizer<Q> && HasLearnableParameters<Q> && ElementwiseDifferentiable<Q> && SpanDifferentiable<Q>;

/// @brief A DifferentiableQuantizer whose bit width follows from its parameters (Uhlich et al.),
/// so a memory penalty can differentiate it: real_bits() is the smooth surrogate of bits() and
/// bits_gradient() is ∂bits/∂θ w.r.t. the raw parameters (algorithms.md §2b).
/// Satisfied by step_range_quantizer (U1-U3) and pow2_quantizer (P1-P3).
template <class Q>
concept LearnedBitsQuantizer = DifferentiableQuantizer<Q> && requires(const Q& q) {
  { q.real_bits() } -> std::same_as<float>;
  { q.bits_gradient() } -> std::same_as<std::array<float, Q::parameter_count>>;
};

}  // namespace mpq
