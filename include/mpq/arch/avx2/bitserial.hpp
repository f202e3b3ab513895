// AVX2 (and AVX-512 VPOPCNTDQ on ymm) bit-serial kernel: for every pair of bit-planes (weight plane
// i, activation plane j), popcount(w_i & a_j) over 256 codes per step for MR x NR rows at once.
// AVX2 counts bits per byte with two nibble lookups (vpshufb) and folds the byte counts into 64-bit
// lanes with vpsadbw every 31 steps (a byte holds at most 8 per step: 31 x 8 = 248 <= 255);
// VPOPCNTDQ counts each 64-bit lane in one instruction. On real AVX-512 with VPOPCNTDQ the kernel
// runs on zmm instead (512 codes per step, the plane pairs' place values applied per step so each
// output has one accumulator; zmm_bitserial_block).
#pragma once

#if defined(__AVX2__)

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "mpq/arch/avx512/instructions.hpp"
#include "mpq/arch/common/bitserial.hpp"
#include "mpq/arch/isa.hpp"
#include "mpq/config.hpp"
#include "mpq/kernel/microkernel_args.hpp"

namespace mpq::kernel {

namespace detail_avx2 {

#if defined(__AVX512VPOPCNTDQ__) && defined(__AVX512VL__)
inline constexpr bool vpopcntdq_compiled = true;
#else
inline constexpr bool vpopcntdq_compiled = false;
#endif

/// vpopcntq is used by avx512vnni_model (its model runs anywhere) and by avx512vnni when this
/// translation unit enables VPOPCNTDQ; avx2 (and avx512vnni without it) count bytes with vpshufb.
template <class Arch>
inline constexpr bool has_vpopcntdq = std::is_base_of_v<arch::avx512vnni_model, Arch> ||
                                      (std::is_base_of_v<arch::avx512vnni, Arch> && vpopcntdq_compiled);

/// Steps of 256 codes whose byte counts (<= 8 each per step) fit a byte.
inline constexpr std::size_t byte_count_steps = 31;

MPQ_ALWAYS_INLINE std::uint64_t hsum_epi64(__m256i v) noexcept {
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return static_cast<std::uint64_t>(_mm_cvtsi128_si64(s)) + static_cast<std::uint64_t>(_mm_extract_epi64(s, 1));
}

/// counts[n] += the sum of the 32 bytes of v[n], for n < NR (four at a time: vpsadbw, then the
/// lanes of four vectors added pairwise into one vector of four sums).
template <int NR>
MPQ_ALWAYS_INLINE void add_lane_sums(const __m256i (&v)[NR], std::uint64_t (&counts)[NR]) noexcept {
  const __m256i zero = _mm256_setzero_si256();
  int n = 0;
  for (; n + 4 <= NR; n += 4) {
    const __m256i s0 = _mm256_sad_epu8(v[n], zero), s1 = _mm256_sad_epu8(v[n + 1], zero);
    const __m256i s2 = _mm256_sad_epu8(v[n + 2], zero), s3 = _mm256_sad_epu8(v[n + 3], zero);
    const __m256i t01 = _mm256_add_epi64(_mm256_unpacklo_epi64(s0, s1), _mm256_unpackhi_epi64(s0, s1));
    const __m256i t23 = _mm256_add_epi64(_mm256_unpacklo_epi64(s2, s3), _mm256_unpackhi_epi64(s2, s3));
    const __m256i sums = _mm256_add_epi64(_mm256_permute2x128_si256(t01, t23, 0x20), _mm256_permute2x128_si256(t01, t23, 0x31));
    __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(counts + n));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(counts + n), _mm256_add_epi64(c, sums));
  }
  for (; n < NR; ++n) counts[n] += hsum_epi64(_mm256_sad_epu8(v[n], zero));
}

MPQ_ALWAYS_INLINE __m256i load_words(const void* p) noexcept {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

/// counts[m][n] = popcount(w_n & a_m) over `words` 64-bit words of one weight plane (w[n]) and one
/// activation plane (a[m]).
template <int MR, int NR, class Arch>
MPQ_ALWAYS_INLINE void plane_pair_counts(const std::uint8_t* const (&w)[NR], const std::uint64_t* const (&a)[MR],
                                         std::size_t words, std::uint64_t (&counts)[MR][NR]) noexcept {
  const std::size_t steps = words / 4;
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < NR; ++n) counts[m][n] = 0;
  if constexpr (has_vpopcntdq<Arch>) {
    __m256i acc[MR][NR];
    for (int m = 0; m < MR; ++m)
      for (int n = 0; n < NR; ++n) acc[m][n] = _mm256_setzero_si256();
    for (std::size_t t = 0; t < steps; ++t) {
      __m256i av[MR];
      for (int m = 0; m < MR; ++m) av[m] = load_words(a[m] + 4 * t);
      for (int n = 0; n < NR; ++n) {
        const __m256i wv = load_words(w[n] + 32 * t);
        for (int m = 0; m < MR; ++m)
          acc[m][n] = _mm256_add_epi64(acc[m][n], arch::popcnt_epi64(_mm256_and_si256(av[m], wv), Arch{}, Arch{}));
      }
    }
    for (int m = 0; m < MR; ++m)
      for (int n = 0; n < NR; ++n) counts[m][n] = hsum_epi64(acc[m][n]);
  } else {
    // popcount(a & w) per byte = T[(a & w) & 15] + T[(a & w) >> 4]; the masks and shifts are done
    // once per row and step (a: low nibbles a & 15, high (a >> 4) & 15; w: w and w >> 4 unmasked,
    // since one masked side suffices), leaving 2 vpand, 2 vpshufb and 2 vpaddb per row pair.
    const __m256i table = arch::avx512_model::nibble_popcounts();
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    for (std::size_t t0 = 0; t0 < steps; t0 += byte_count_steps) {
      const std::size_t t1 = std::min(steps, t0 + byte_count_steps);
      __m256i acc[MR][NR];
      for (int m = 0; m < MR; ++m)
        for (int n = 0; n < NR; ++n) acc[m][n] = _mm256_setzero_si256();
      for (std::size_t t = t0; t < t1; ++t) {
        __m256i a_lo[MR], a_hi[MR];
        for (int m = 0; m < MR; ++m) {
          const __m256i av = load_words(a[m] + 4 * t);
          a_lo[m] = _mm256_and_si256(av, nibble);
          a_hi[m] = _mm256_and_si256(_mm256_srli_epi16(av, 4), nibble);
        }
        for (int n = 0; n < NR; ++n) {
          const __m256i w_lo = load_words(w[n] + 32 * t);
          const __m256i w_hi = _mm256_srli_epi16(w_lo, 4);
          for (int m = 0; m < MR; ++m) {
            const __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(a_lo[m], w_lo));
            const __m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(a_hi[m], w_hi));
            acc[m][n] = _mm256_add_epi8(acc[m][n], _mm256_add_epi8(lo, hi));
          }
        }
      }
      for (int m = 0; m < MR; ++m) add_lane_sums<NR>(acc[m], counts[m]);
    }
  }
  // The last words % 4 words, one at a time.
  for (std::size_t k = 4 * steps; k < words; ++k)
    for (int n = 0; n < NR; ++n) {
      std::uint64_t wk;
      std::memcpy(&wk, w[n] + 8 * k, 8);  // bitplane rows are little-endian words (x86)
      for (int m = 0; m < MR; ++m) counts[m][n] += static_cast<std::uint64_t>(std::popcount(wk & a[m][k]));
    }
}

/// zmm with VPOPCNTDQ on real AVX-512 only.
template <class Arch>
inline constexpr bool zmm_bitserial =
#if defined(__AVX512VPOPCNTDQ__)
    arch::real_avx512<Arch>;
#else
    false;
#endif

#if defined(__AVX512F__) && defined(__AVX512VPOPCNTDQ__)
/// The 8 sums of the 64-bit lanes of v[0..7], in one vector (lane t = the sum of v[t]): pairs of
/// vectors fold into one by unpack (adjacent lanes), then twice by 128-bit lane shuffles.
MPQ_ALWAYS_INLINE __m512i lane_sums8(const __m512i (&v)[8]) noexcept {
  __m512i t[4];
  for (int p = 0; p < 4; ++p)  // lane l of t[p]: (sum of qwords 2l, 2l+1 of v[2p]; same of v[2p+1])
    t[p] = _mm512_add_epi64(_mm512_unpacklo_epi64(v[2 * p], v[2 * p + 1]), _mm512_unpackhi_epi64(v[2 * p], v[2 * p + 1]));
  // 0x88 picks 128-bit lanes (0, 2 | 0, 2) of the two operands, 0xDD lanes (1, 3 | 1, 3).
  const __m512i u0 = _mm512_add_epi64(_mm512_shuffle_i64x2(t[0], t[1], 0x88), _mm512_shuffle_i64x2(t[0], t[1], 0xDD));
  const __m512i u1 = _mm512_add_epi64(_mm512_shuffle_i64x2(t[2], t[3], 0x88), _mm512_shuffle_i64x2(t[2], t[3], 0xDD));
  return _mm512_add_epi64(_mm512_shuffle_i64x2(u0, u1, 0x88), _mm512_shuffle_i64x2(u0, u1, 0xDD));
}

/// The zmm kernel: every plane pair (i, j) adds popcount(w_i & a_j) << (i + j) (subtracts it for the
/// sign plane i = W - 1) into one accumulator per (activation row, weight row), 8 words per step, the
/// last step masked; the lanes are summed once per block.
template <int W, int A, int MR, int NR>
MPQ_ALWAYS_INLINE void zmm_bitserial_block(const bitserial_block_args& g) noexcept {
  const std::size_t plane_bytes = g.words * 8;
  __m512i acc[MR][NR];
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < NR; ++n) acc[m][n] = _mm512_setzero_si512();
  for (std::size_t t = 0; t < g.words; t += 8) {
    const __mmask8 mask = g.words - t >= 8 ? __mmask8(0xFF) : static_cast<__mmask8>((1u << (g.words - t)) - 1u);
    for (int j = 0; j < A; ++j) {
      __m512i av[MR];
      for (int m = 0; m < MR; ++m)
        av[m] = _mm512_maskz_loadu_epi64(mask, g.a + static_cast<std::size_t>(m) * g.a_stride + static_cast<std::size_t>(j) * g.words + t);
      for (int i = 0; i < W; ++i)
        for (int n = 0; n < NR; ++n) {
          const std::uint8_t* wp = g.w + static_cast<std::size_t>(n) * g.w_stride + static_cast<std::size_t>(i) * plane_bytes + 8 * t;
          // One activation row (GEMV, or a GEMM's last rows): the weights stream from memory, so
          // fetch the same line of the next block's rows (past the last row it touches only the
          // padding or the next allocation; a prefetch never faults).
          if constexpr (MR == 1) _mm_prefetch(reinterpret_cast<const char*>(wp + NR * g.w_stride), _MM_HINT_T0);
          const __m512i wv = _mm512_maskz_loadu_epi64(mask, wp);
          for (int m = 0; m < MR; ++m) {
            __m512i c = _mm512_popcnt_epi64(_mm512_and_si512(av[m], wv));
            if (i + j > 0) c = _mm512_slli_epi64(c, static_cast<unsigned>(i + j));
            acc[m][n] = i == W - 1 ? _mm512_sub_epi64(acc[m][n], c) : _mm512_add_epi64(acc[m][n], c);
          }
        }
    }
  }
  if constexpr (NR == 4 && MR % 2 == 0) {
    // Unrolled so that every acc index is a constant: otherwise GCC 12 keeps acc in memory as well
    // and stores all 16 accumulators on every step (GEMM W1A1 2.0 ms with, 1.4 ms without).
#pragma GCC unroll 8
    for (int m = 0; m < MR; m += 2) {
      const __m512i v[8] = {acc[m][0], acc[m][1], acc[m][2], acc[m][3], acc[m + 1][0], acc[m + 1][1], acc[m + 1][2], acc[m + 1][3]};
      const __m256i sums = _mm512_cvtepi64_epi32(lane_sums8(v));  // exact: |S| < 2^31 (overflow bound)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(g.s + static_cast<std::size_t>(m) * g.lds), _mm256_castsi256_si128(sums));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(g.s + static_cast<std::size_t>(m + 1) * g.lds), _mm256_extracti128_si256(sums, 1));
    }
  } else {
    for (int m = 0; m < MR; ++m)
      for (int n = 0; n < NR; ++n)
        g.s[static_cast<std::size_t>(m) * g.lds + static_cast<std::size_t>(n)] = static_cast<std::int32_t>(_mm512_reduce_add_epi64(acc[m][n]));
  }
}
#endif

}  // namespace detail_avx2

/// @brief Register block of the AVX2 bitserial kernel: 2 activation rows x 4 weight rows on ymm (8
/// byte counters, 2 activation and 1 weight register, the nibble table and mask: 13 of 16 ymm).
template <int W, int A, class Arch>
constexpr bitserial_traits bitserial_block_traits(Arch, arch::requires_arch<arch::avx2>) noexcept {
  // zmm (real AVX-512): 4 x 4 for one plane pair (16 accumulators, 4 activation rows, 1 weight: 21
  // of 32 zmm); 2 x 4 for more, where GCC spilled accumulators at 4 x 4 (W2A2 5.0 against 4.2 ms).
  if (detail_avx2::zmm_bitserial<Arch>) return {W * A == 1 ? 4 : 2, 4};
  return {2, 4};
}

/// @brief avx2_bitserial_w{W}a{A}: S for MR x NR (bitserial_block_args), every pair of planes.
template <int W, int A, int MR, int NR, class Arch>
void bitserial_block(const bitserial_block_args& g, Arch, arch::requires_arch<arch::avx2>) noexcept {
#if defined(__AVX512F__) && defined(__AVX512VPOPCNTDQ__)
  if constexpr (detail_avx2::zmm_bitserial<Arch>) {
    detail_avx2::zmm_bitserial_block<W, A, MR, NR>(g);
    return;
  }
#endif
  const std::size_t plane_bytes = g.words * 8;
  std::int64_t s[MR][NR] = {};
  for (int i = 0; i < W; ++i) {
    const std::uint8_t* w[NR];
    for (int n = 0; n < NR; ++n) w[n] = g.w + static_cast<std::size_t>(n) * g.w_stride + static_cast<std::size_t>(i) * plane_bytes;
    for (int j = 0; j < A; ++j) {
      const std::uint64_t* a[MR];
      for (int m = 0; m < MR; ++m) a[m] = g.a + static_cast<std::size_t>(m) * g.a_stride + static_cast<std::size_t>(j) * g.words;
      std::uint64_t counts[MR][NR];
      detail_avx2::plane_pair_counts<MR, NR, Arch>(w, a, g.words, counts);
      for (int m = 0; m < MR; ++m)
        for (int n = 0; n < NR; ++n) s[m][n] += detail_common::plane_pair_weight<W>(i, j) * static_cast<std::int64_t>(counts[m][n]);
    }
  }
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < NR; ++n) g.s[static_cast<std::size_t>(m) * g.lds + static_cast<std::size_t>(n)] = static_cast<std::int32_t>(s[m][n]);
}

}  // namespace mpq::kernel

#endif  // __AVX2__
