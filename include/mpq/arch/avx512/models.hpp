// Exact software models of the AVX-512 instructions mpq's kernels use, written with AVX2 intrinsics:
// what the avx512vnni_model tag's kernels execute, so the avx512vnni code paths run (and are tested
// bit for bit) on CPUs without AVX-512. Each model is checked against a scalar transcription of the
// instruction's definition in tests/kernel/test_isa_models.cpp.
#pragma once

#if defined(__AVX2__)

#include <immintrin.h>

#include "mpq/config.hpp"

namespace mpq::arch::avx512_model {

/// @brief vpdpbusd on ymm (AVX512_VNNI + AVX512VL, `_mm256_dpbusd_epi32`). Intel SDM, VPDPBUSD: for
/// each 32-bit lane i,
///
///     dst[i] = src[i] + sum_{j < 4} zero_extend(u8[4i + j]) * sign_extend(s8[4i + j])
///
/// in wrapping 32-bit arithmetic, without saturation (that is vpdpbusds).
///
/// Model: byte 2k and byte 2k + 1 of each 16-bit lane k, widened to int16 (u8 zero-extended, s8
/// sign-extended), then vpmaddwd adds the products of lanes 2i and 2i + 1 into dword i: the even
/// bytes give u8[4i] s8[4i] + u8[4i+2] s8[4i+2], the odd bytes the other two. Exact: each product is
/// within [-32640, 32385], and vpmaddwd saturates only when both pairs are (-2^15) x (-2^15); the
/// 32-bit adds wrap like the instruction's.
MPQ_ALWAYS_INLINE __m256i dpbusd_epi32(__m256i src, __m256i u8, __m256i s8) noexcept {
  const __m256i u_even = _mm256_and_si256(u8, _mm256_set1_epi16(0x00FF));
  const __m256i u_odd = _mm256_srli_epi16(u8, 8);
  const __m256i s_even = _mm256_srai_epi16(_mm256_slli_epi16(s8, 8), 8);
  const __m256i s_odd = _mm256_srai_epi16(s8, 8);
  return _mm256_add_epi32(src, _mm256_add_epi32(_mm256_madd_epi16(u_even, s_even), _mm256_madd_epi16(u_odd, s_odd)));
}

/// @brief The vpshufb table of nibble popcounts: byte x of each 128-bit half is popcount(x), x < 16.
/// Shared by the vpopcntq model and the avx2 bitserial kernel.
MPQ_ALWAYS_INLINE __m256i nibble_popcounts() noexcept {
  return _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                          0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
}

/// @brief Bits set in each byte of v (0..8 per byte): the count of each nibble from a 16-entry
/// table (vpshufb), low plus high.
MPQ_ALWAYS_INLINE __m256i popcount_bytes(__m256i v) noexcept {
  const __m256i table = nibble_popcounts();
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(v, nibble));
  const __m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
  return _mm256_add_epi8(lo, hi);
}

/// @brief vpopcntq on ymm (AVX512_VPOPCNTDQ + AVX512VL, `_mm256_popcnt_epi64`). Intel SDM, VPOPCNTQ:
/// dst[i] = the number of bits set in the 64-bit lane i of v (0..64).
///
/// Model: per-byte counts (popcount_bytes), then vpsadbw against zero adds the 8 bytes of each
/// 64-bit lane into that lane. Exact: each byte count is <= 8, a lane's sum <= 64.
MPQ_ALWAYS_INLINE __m256i popcnt_epi64(__m256i v) noexcept {
  return _mm256_sad_epu8(popcount_bytes(v), _mm256_setzero_si256());
}

}  // namespace mpq::arch::avx512_model

#endif  // __AVX2__
