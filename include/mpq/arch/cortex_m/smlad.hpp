// Cortex-M4/M7 (Armv7E-M DSP extension) integer dot products: signed W-bit weights read straight
// from interleaved rows, activations staged as int16 pairs, two multiply-accumulates per SMLAD.
// Compiles to nothing unless __ARM_FEATURE_DSP (or MPQ_CORTEX_M_EMULATE_DSP, which runs the same
// code on a host with portable stand-ins for the three instructions, for tests).
#pragma once

#if defined(__ARM_FEATURE_DSP) || defined(MPQ_CORTEX_M_EMULATE_DSP)

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "mpq/config.hpp"
#include "mpq/packed/byte_order.hpp"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

namespace mpq::arch::cortex_m {

// ---- the three instructions ----------------------------------------------------------------------------

/// @brief SXTB16: bytes 0 and 2 of x, sign-extended, as the low and high halfword.
MPQ_ALWAYS_INLINE std::uint32_t sxtb16(std::uint32_t x) noexcept {
#if defined(__ARM_FEATURE_DSP)
  return static_cast<std::uint32_t>(__sxtb16(static_cast<std::int32_t>(x)));
#else
  const auto lo = static_cast<std::uint16_t>(static_cast<std::int16_t>(static_cast<std::int8_t>(x & 0xFFu)));
  const auto hi = static_cast<std::uint16_t>(static_cast<std::int16_t>(static_cast<std::int8_t>((x >> 16) & 0xFFu)));
  return static_cast<std::uint32_t>(lo) | (static_cast<std::uint32_t>(hi) << 16);
#endif
}

/// @brief SXTB16 with ROR #8: bytes 1 and 3 of x, sign-extended (one instruction on the M4).
MPQ_ALWAYS_INLINE std::uint32_t sxtb16_ror8(std::uint32_t x) noexcept {
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
  std::uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
#else
  return sxtb16(x >> 8);
#endif
}

/// @brief SMLAD: acc + x.lo * y.lo + x.hi * y.hi (signed halfwords; the sum wraps like int32).
MPQ_ALWAYS_INLINE std::int32_t smlad(std::uint32_t x, std::uint32_t y, std::int32_t acc) noexcept {
#if defined(__ARM_FEATURE_DSP)
  return __smlad(static_cast<std::int32_t>(x), static_cast<std::int32_t>(y), acc);
#else
  const std::int32_t lo = std::int32_t{static_cast<std::int16_t>(x & 0xFFFFu)} * static_cast<std::int16_t>(y & 0xFFFFu);
  const std::int32_t hi = std::int32_t{static_cast<std::int16_t>(x >> 16)} * static_cast<std::int16_t>(y >> 16);
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(acc) + static_cast<std::uint32_t>(lo) +
                                   static_cast<std::uint32_t>(hi));
#endif
}

MPQ_ALWAYS_INLINE std::uint32_t load32(const void* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);  // one LDR (unaligned access is allowed on Armv7-M)
  return v;
}

// ---- the format ---------------------------------------------------------------------------------------

/// @brief How a W-bit weight row is read and how activations must be staged to match it.
///
/// A weight field is moved to the top of its byte, so the byte read as int8 is 2^(8-W) * code, and
/// SXTB16 / SXTB16 ROR 8 turn a word of four such bytes into two int16 pairs: bytes (0, 2) and
/// (1, 3). The sum is 2^(8-W) times the dot product and is shifted back at the end (exact).
/// - W = 1, 2, 4: a 32-bit word of an interleaved row holds P = 8/W codes per byte; code b*P + t
///   of the word's group of 4P codes is byte b, field t. Field t of all four bytes is isolated
///   with one shift and one mask.
/// - W = 8: a word is four codes.
/// - W = 3, 5, 6, 7: eight codes are exactly W bytes; mpq::detail::expand8 spreads them to one
///   per byte (then as W = 8, two words).
/// Activations of a group are staged in pair order: for field t, codes (b0, b2) then (b1, b3),
/// i.e. staged position 4t + {0, 2, 1, 3}[b]. Worked example, W = 4 (P = 2), codes c0..c7 of a
/// word (c0 = low nibble of byte 0, c1 = its high nibble, ...): staged a0 a4 a2 a6 a1 a5 a3 a7;
/// SMLADs pair (16c0, 16c4) with (a0, a4), (16c2, 16c6) with (a2, a6), then the high nibbles.
/// Bound: |2^(8-W) code| <= 128, so with A-bit activations each product is at most
/// 128 * (2^A - 1) in magnitude: K * 128 * (2^A - 1) <= 2^31 - 1 keeps every partial sum exact.
template <int W>
struct smlad_format {
  static_assert(W >= 1 && W <= 8, "mpq::arch::cortex_m::smlad_format: W must be 1..8");
  static constexpr bool fields_in_bytes = W == 1 || W == 2 || W == 4;
  static constexpr int per_byte = fields_in_bytes ? 8 / W : 1;
  /// Codes per staging group (a 32-bit word of weights for W in {1, 2, 4, 8}).
  static constexpr std::size_t group = 4 * static_cast<std::size_t>(per_byte);
  static constexpr int shift = 8 - W;

  /// @brief Staged position of code k of a row.
  static constexpr std::size_t position(std::size_t k) noexcept {
    const std::size_t g = k % group, b = g / per_byte, t = g % per_byte;
    constexpr std::size_t pair_order[4] = {0, 2, 1, 3};
    return k - g + 4 * t + pair_order[b];
  }

  /// @brief The largest K whose sums are exact for A-bit unsigned activations.
  static constexpr std::size_t max_k(int a_bits) noexcept {
    return static_cast<std::size_t>(0x7fffffffu / (128u * ((1u << a_bits) - 1u)));
  }
};

namespace detail {

template <int W>
constexpr std::uint32_t top_bits_mask() noexcept {
  const std::uint32_t b = (0xFFu << (8 - W)) & 0xFFu;
  return b * 0x01010101u;
}

// One word of four bytes (scaled int8 codes) against R staged rows at a, a + stride, ...
template <std::size_t R>
MPQ_ALWAYS_INLINE void word_step(std::uint32_t bytes, const std::int16_t* a, std::size_t stride,
                                 std::int32_t* acc) noexcept {
  const std::uint32_t even = sxtb16(bytes), odd = sxtb16_ror8(bytes);
  for (std::size_t r = 0; r < R; ++r) {
    acc[r] = smlad(even, load32(a + r * stride), acc[r]);
    acc[r] = smlad(odd, load32(a + r * stride + 2), acc[r]);
  }
}

}  // namespace detail

/// @brief acc[r] = sum_k W[k] * a_r[k] for R staged rows (a_r = a + r * stride int16 values, in
/// smlad_format<W> order), W one interleaved row of signed W-bit codes, padded_k codes (a multiple
/// of 64, the interleaved row padding; padding codes are zero). Exact while K is within
/// smlad_format<W>::max_k(A). The weights are unpacked once for all R rows.
template <int W, std::size_t R>
MPQ_ALWAYS_INLINE void smlad_dot_rows(const std::uint8_t* w, const std::int16_t* a, std::size_t stride,
                                      std::size_t padded_k, std::int32_t* out) noexcept {
  using format = smlad_format<W>;
  std::int32_t acc[R] = {};
  if constexpr (W == 8) {
    for (std::size_t k = 0; k < padded_k; k += 4, w += 4, a += 4) detail::word_step<R>(load32(w), a, stride, acc);
  } else if constexpr (format::fields_in_bytes) {
    constexpr std::uint32_t mask = detail::top_bits_mask<W>();
    for (std::size_t k = 0; k < padded_k; k += format::group, w += 4, a += format::group) {
      const std::uint32_t x = load32(w);
      [&]<int... T>(std::integer_sequence<int, T...>) {
        (detail::word_step<R>((x << (8 - W * (T + 1))) & mask, a + 4 * T, stride, acc), ...);
      }(std::make_integer_sequence<int, format::per_byte>{});
    }
  } else {
    for (std::size_t k = 0; k < padded_k; k += 8, w += W, a += 8) {
      const std::uint64_t v = mpq::detail::expand8<W>(mpq::detail::load_le(w, W)) << (8 - W);
      detail::word_step<R>(static_cast<std::uint32_t>(v), a, stride, acc);
      detail::word_step<R>(static_cast<std::uint32_t>(v >> 32), a + 4, stride, acc);
    }
  }
  for (std::size_t r = 0; r < R; ++r) out[r] = acc[r] >> format::shift;  // exact: a multiple of 2^shift
}

}  // namespace mpq::arch::cortex_m

#endif  // __ARM_FEATURE_DSP || MPQ_CORTEX_M_EMULATE_DSP
