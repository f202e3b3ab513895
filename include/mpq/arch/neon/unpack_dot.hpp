// Arm NEON dot-product (FEAT_DotProd, -march=armv8.2-a+dotprod) unpack-to-int8 kernels: split_planes
// weights become 16-byte halves of offset-binary bytes with one shift and mask per part, then udot
// against uint8 activations.
#pragma once

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "mpq/arch/isa.hpp"
#include "mpq/config.hpp"
#include "mpq/kernel/microkernel_args.hpp"
#include "mpq/kernel/split_planes.hpp"

namespace mpq::kernel {

namespace detail_neon {

// Why udot for every pair: UDOT (vector) adds, to each 32-bit lane, the four products of the
// lane's unsigned bytes, in 32-bit arithmetic with no intermediate saturation (Arm ARM, "UDOT
// (vector)"). Activations a_u reach 255 at A = 8, so the signed sdot (s8 x s8) could not hold them,
// and the mixed-sign usdot needs FEAT_I8MM; offset-binary weights u = w + 2^(W-1) are in [0, 255]
// for every W, so u8 x u8 covers all 64 pairs with one form. Each lane's sum is at most the row's
// sum of u * a_u <= K (2^W - 1)(2^A - 1) <= 2^31 - 1 (the exact-K bound every entry point checks),
// so the uint32 lanes and their horizontal sum are exact as int32.

/// Byte offset of part q inside a block of split_planes::col_block(W) codes.
template <int W>
constexpr std::size_t part_region(int q) noexcept {
  const field_split fs = field_split::of(W);
  std::size_t off = 0;
  for (int i = 0; i < q; ++i) off += split_planes::col_block(W) * static_cast<std::size_t>(fs.width[i]) / 8;
  return off;
}

/// A byte shifted right by `right` bits (left when negative), truncated to 8 bits, as ushr / shl do
/// on each byte lane.
constexpr int shift_byte(int v, int right) noexcept { return (right >= 0 ? v >> right : v << -right) & 0xFF; }

/// Part Q of codes 32 S + 16 H .. 32 S + 16 H + 15 of a block, moved to its place in the field.
/// NEON shifts bytes directly (ushr / shl on .16b), so unlike AVX2 no bits cross into the
/// neighbouring byte; the mask is kept only when other sub-fields of the byte survive the shift.
template <int W, int Q, int S, int H>
MPQ_ALWAYS_INLINE uint8x16_t extract_part(const std::uint8_t* block) noexcept {
  constexpr field_split fs = field_split::of(W);
  constexpr int p = fs.width[Q], sh = fs.shift[Q];
  constexpr int per_chunk = 8 / p;
  constexpr int chunk = S / per_chunk, t = S % per_chunk;
  uint8x16_t v = vld1q_u8(block + part_region<W>(Q) + chunk * 32 + H * 16);
  if constexpr (p == 8) {
    return v;
  } else {
    constexpr int right = t * p - sh;
    constexpr int field = ((1 << p) - 1) << sh;
    constexpr int others = shift_byte(0xFF & ~(((1 << p) - 1) << (t * p)), right);
    if constexpr (right > 0) v = vshrq_n_u8(v, right);
    if constexpr (right < 0) v = vshlq_n_u8(v, -right);
    if constexpr (others != 0) v = vandq_u8(v, vdupq_n_u8(static_cast<std::uint8_t>(field)));
    return v;
  }
}

/// The 16 weights of codes 32 S + 16 H .. 32 S + 16 H + 15 of a block in offset binary, u = w +
/// 2^(W-1): flipping the top bit of a W-bit two's complement field adds 2^(W-1) modulo 2^W.
template <int W, int S, int H>
MPQ_ALWAYS_INLINE uint8x16_t unpack_half(const std::uint8_t* block) noexcept {
  constexpr field_split fs = field_split::of(W);
  uint8x16_t v = extract_part<W, 0, S, H>(block);
  if constexpr (fs.count > 1) v = vorrq_u8(v, extract_part<W, 1, S, H>(block));
  if constexpr (fs.count > 2) v = vorrq_u8(v, extract_part<W, 2, S, H>(block));
  return veorq_u8(v, vdupq_n_u8(static_cast<std::uint8_t>(1u << (W - 1))));
}

}  // namespace detail_neon

/// @brief unpack_dot traits on NEON with the dot product: offset-binary weights (u = w + 2^(W-1))
/// against uint8 activations for every pair (see detail_neon).
template <int W, int A, class Arch>
constexpr unpack_traits unpack_dot_traits(Arch, arch::requires_arch<arch::neon64_dotprod>) noexcept {
  unpack_traits t;
  t.weight_offset = 1 << (W - 1);
  t.mr = 2;
  t.nr = 4;
  return t;
}

/// @brief neon64_dotprod_unpack_dot_w{W}a{A}: S for MR activation rows x NR weight rows
/// (unpack_block_args), udot into uint32 lanes.
template <int W, int A, int MR, int NR, class Arch>
void unpack_dot_block(const unpack_block_args& g, Arch, arch::requires_arch<arch::neon64_dotprod>) noexcept {
  using namespace detail_neon;
  constexpr std::size_t block = split_planes::col_block(W);
  constexpr std::size_t block_bytes = split_planes::row_bytes(W, block);
  constexpr int steps = static_cast<int>(block / 32);

  uint32x4_t acc[MR][NR];
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < NR; ++n) acc[m][n] = vdupq_n_u32(0);

  for (std::size_t b = 0; b < g.padded_cols; b += block) {
    const std::uint8_t* wb = g.w + b / block * block_bytes;
    const std::uint8_t* ab = g.a + b;
    // One split_planes chunk step is 32 codes: two q registers of weights against two of activations.
    [&]<int... S>(std::integer_sequence<int, S...>) {
      (([&] {
         uint8x16_t av[MR][2];
         for (int m = 0; m < MR; ++m)
           for (int h = 0; h < 2; ++h) av[m][h] = vld1q_u8(ab + m * g.a_stride + S * 32 + h * 16);
         for (int n = 0; n < NR; ++n) {
           const uint8x16_t w0 = unpack_half<W, S, 0>(wb + n * g.w_stride);
           const uint8x16_t w1 = unpack_half<W, S, 1>(wb + n * g.w_stride);
           for (int m = 0; m < MR; ++m) acc[m][n] = vdotq_u32(vdotq_u32(acc[m][n], av[m][0], w0), av[m][1], w1);
         }
       }()),
       ...);
    }(std::make_integer_sequence<int, steps>{});
  }
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < NR; ++n) g.s[m * g.lds + n] = static_cast<std::int32_t>(vaddvq_u32(acc[m][n]));
}

}  // namespace mpq::kernel

#endif  // __aarch64__ && __ARM_FEATURE_DOTPROD
