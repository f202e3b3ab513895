// The kernels' epilogue: int32 accumulator -> corrected sum -> scale, bias -> float or requantized codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/quant/rounding.hpp"
#include "mpq/quant/uniform.hpp"

namespace mpq::kernel {

/// @brief How an output's exact integer sum becomes a real value (docs/kernels.md, "Epilogue").
///
/// Uniform quantizers give value = step * (code + code_offset). For weights W[n][k] (step s_w[n],
/// offset o_w) and activations a[k] (step s_a, offset o_a) the real dot product is
///
///     sum_k s_w[n] (W[n][k] + o_w) * s_a (a[k] + o_a) = scale[n] * r[n],
///     r[n] = acc[n] + o_a * sum_k W[n][k] + o_w * sum_k a[k] + K * o_w * o_a,
///
/// with acc[n] = sum_k W[n][k] a[k] the kernel's int32 accumulator and scale[n] = s_w[n] * s_a.
/// The offsets must be multiples of 1/2 (zero points are integers, mid-rise codes use +1/2), so 4 r[n]
/// is an integer, computed exactly in int64. The epilogue then evaluates, in float32, in this order
/// and with no fused multiply-add:
///
///     x = float(4 r) * 0.25f      (one rounding, in the int64 -> float conversion, to nearest even)
///     v = x * scale[n]            (rounded)
///     v = v + bias[n]             (rounded; skipped when there is no bias)
///
/// A fake-quant framework reproduces v bit for bit with the same float32 operations.
struct dequantization {
  /// @brief 1 value (per tensor) or one per output channel.
  std::span<const float> scale;
  /// @brief Empty (no bias), 1 value, or one per output channel.
  std::span<const float> bias{};
  /// @brief o_w: -zero_point of the weights, +0.5 for mid-rise weights (binary {-1,+1} codes), ...
  float weight_code_offset = 0.0f;
  /// @brief o_a: -zero_point of the activations, ...
  float activation_code_offset = 0.0f;
};

/// @brief Requantization of an output to the next layer's unsigned A-bit activation codes.
///
/// code = clamp(round_half_even(v * inverse_step) + zero_point, code_lo, code_hi), computed exactly as
/// uniform_quantizer<bits, unsigned_codes, round_half_even>::quantize(v) does (float32 product by the
/// stored reciprocal, ties to even, clamp in float before the integer conversion, NaN -> zero_point).
/// ReLU is folded in by raising code_lo to zero_point (the code of 0.0), which from() does by default.
struct requantization {
  int bits = 8;
  float inverse_step = 1.0f;
  std::int32_t zero_point = 0;
  std::int32_t code_lo = 0;
  std::int32_t code_hi = 255;

  /// @brief The requantization that reproduces q.quantize(); with relu, codes below q's code of 0.0
  /// are raised to it.
  template <int B>
  static constexpr requantization from(const uniform_quantizer<B, unsigned_codes, round_half_even>& q,
                                       bool relu = true) noexcept {
    static_assert(is_packable_bits(B), "mpq::kernel::requantization: the next layer's codes must be 1..8 bits");
    requantization r;
    r.bits = B;
    r.inverse_step = q.inverse_step();
    r.zero_point = q.zero_point();
    r.code_lo = relu && q.code_min() < q.zero_point() ? q.zero_point() : q.code_min();
    r.code_hi = q.code_max();
    return r;
  }
};

/// @brief ok, or why `d` cannot describe `n_out` output channels (sizes, non-finite values, offsets
/// that are not multiples of 1/2 or exceed 256 in magnitude).
inline status check_dequantization(const dequantization& d, std::size_t n_out) noexcept {
  if (d.scale.size() != 1 && d.scale.size() != n_out)
    return status::failure(errc::shape_mismatch,
                           "dequantization: scale has %zu values: it needs 1 (per tensor) or %zu (one per "
                           "output channel)",
                           d.scale.size(), n_out);
  if (!d.bias.empty() && d.bias.size() != 1 && d.bias.size() != n_out)
    return status::failure(errc::shape_mismatch,
                           "dequantization: bias has %zu values: it needs 0, 1 or %zu (one per output channel)",
                           d.bias.size(), n_out);
  for (std::size_t i = 0; i < d.scale.size(); ++i)
    if (!is_finite(d.scale[i]))
      return status::failure(errc::not_finite, "dequantization: scale[%zu] = %g: scales must be finite", i,
                             static_cast<double>(d.scale[i]));
  for (std::size_t i = 0; i < d.bias.size(); ++i)
    if (!is_finite(d.bias[i]))
      return status::failure(errc::not_finite, "dequantization: bias[%zu] = %g: biases must be finite", i,
                             static_cast<double>(d.bias[i]));
  const float offsets[2] = {d.weight_code_offset, d.activation_code_offset};
  const char* names[2] = {"weight_code_offset", "activation_code_offset"};
  for (int i = 0; i < 2; ++i) {
    const float twice = offsets[i] * 2.0f;
    if (!is_finite(offsets[i]) || twice != static_cast<float>(static_cast<std::int32_t>(twice)) ||
        offsets[i] > 256.0f || offsets[i] < -256.0f)
      return status::failure(errc::invalid_argument,
                             "dequantization: %s = %g: code offsets must be multiples of 1/2 in [-256, 256]",
                             names[i], static_cast<double>(offsets[i]));
  }
  return {};
}

/// @brief ok, or why `q` is not a valid requantization to unsigned q.bits-bit codes.
inline status check_requantization(const requantization& q) noexcept {
  MPQ_TRY(check_packable_bits(q.bits, "requantization bits"));
  if (!(q.inverse_step > 0.0f) || !is_finite(q.inverse_step))
    return status::failure(errc::invalid_argument,
                           "requantization: inverse_step = %g: it must be finite and > 0",
                           static_cast<double>(q.inverse_step));
  const std::int32_t hi = code_max(q.bits, unsigned_codes);
  if (q.code_lo < 0 || q.code_hi > hi || q.code_lo > q.code_hi)
    return status::failure(errc::invalid_argument,
                           "requantization: code range [%d, %d]: must satisfy 0 <= lo <= hi <= %d for %d-bit "
                           "unsigned codes",
                           static_cast<int>(q.code_lo), static_cast<int>(q.code_hi), static_cast<int>(hi),
                           static_cast<int>(q.bits));
  if (q.zero_point < 0 || q.zero_point > hi)
    return status::failure(errc::invalid_argument,
                           "requantization: zero_point = %d: must lie in [0, %d] for %d-bit unsigned codes",
                           static_cast<int>(q.zero_point), static_cast<int>(hi), static_cast<int>(q.bits));
  return {};
}

namespace detail {

/// Keeps the compiler from fusing the rounded product into the following add (GCC contracts a*b+c
/// into an FMA even in ISO mode), so every build rounds exactly where the epilogue says.
MPQ_ALWAYS_INLINE void fp_barrier(float& v) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || (defined(__i386__) && defined(__SSE__)))
  __asm__("" : "+x"(v));
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(v));
#elif defined(__GNUC__) && defined(__arm__) && defined(__ARM_FP)
  __asm__("" : "+t"(v));
#elif defined(__GNUC__)
  __asm__("" : "+m"(v));
#else
  volatile float keep = v;
  v = keep;
#endif
}

}  // namespace detail

/// @brief The offsets of a dequantization as integers 2*o (checked to be exact by check_dequantization).
struct doubled_offsets {
  std::int32_t weight = 0;
  std::int32_t activation = 0;
  constexpr bool none() const noexcept { return weight == 0 && activation == 0; }
};

inline doubled_offsets doubled(const dequantization& d) noexcept {
  return {static_cast<std::int32_t>(d.weight_code_offset * 2.0f),
          static_cast<std::int32_t>(d.activation_code_offset * 2.0f)};
}

/// @brief 4 r = 4 acc + 2 (2o_a) sum_w + 2 (2o_w) sum_a + K (2o_w)(2o_a), exactly.
constexpr std::int64_t corrected_sum_x4(std::int32_t acc, std::int64_t sum_w, std::int64_t sum_a, std::size_t k,
                                        doubled_offsets o) noexcept {
  return 4 * std::int64_t{acc} + 2 * std::int64_t{o.activation} * sum_w + 2 * std::int64_t{o.weight} * sum_a +
         static_cast<std::int64_t>(k) * o.weight * o.activation;
}

/// @brief The real output v for 4r (see dequantization): float(4r) / 4, times scale, plus bias.
MPQ_ALWAYS_INLINE float dequantize_output(std::int64_t r4, float scale, float bias, bool has_bias) noexcept {
  const float x = static_cast<float>(r4) * 0.25f;
  float v = x * scale;
  detail::fp_barrier(v);
  return has_bias ? v + bias : v;
}

/// @brief v of output channel n (per-tensor scale/bias broadcast) for the corrected sum 4r.
inline float dequantize_channel(const dequantization& d, std::size_t n, std::int64_t r4) noexcept {
  const float scale = d.scale[d.scale.size() == 1 ? 0 : n];
  if (d.bias.empty()) return dequantize_output(r4, scale, 0.0f, false);
  return dequantize_output(r4, scale, d.bias[d.bias.size() == 1 ? 0 : n], true);
}

/// @brief The code of v (see requantization); identical to uniform_quantizer::quantize.
constexpr std::int32_t requantize_output(float v, const requantization& q) noexcept {
  const float r = round_integral<round_half_even>(v * q.inverse_step);
  if (is_nan(r)) return q.zero_point < q.code_lo ? q.code_lo : (q.zero_point > q.code_hi ? q.code_hi : q.zero_point);
  if (r <= static_cast<float>(q.code_lo - q.zero_point)) return q.code_lo;
  if (r >= static_cast<float>(q.code_hi - q.zero_point)) return q.code_hi;
  return static_cast<std::int32_t>(r) + q.zero_point;
}

}  // namespace mpq::kernel
