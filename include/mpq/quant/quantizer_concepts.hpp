// Concepts for quantizers: Quantizer (float <-> integer code) and UniformQuantizer (affine codes).
#pragma once

#include <concepts>
#include <cstdint>

namespace mpq {

/// @brief Maps a float to an integer code and a code back to the float it stands for; knows its
/// bit width, its smallest level spacing (step) and the range of values it can represent.
/// Satisfied by uniform_quantizer, step_range, lsq, pow2, gaussian and hwgq quantizers.
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
/// Satisfied by uniform_quantizer, step_range (U1-U3), lsq, gaussian, hwgq.
template <class Q>
concept UniformQuantizer = Quantizer<Q> && requires(const Q& q) {
  { q.code_offset() } -> std::convertible_to<float>;
};

}  // namespace mpq
