// The AVX-512 instructions of mpq's avx512vnni kernels, one helper each with the arch tag last
// (xsimd's requires_arch idiom): the avx512vnni tag executes the instruction, avx512vnni_model (more
// derived, so it wins overload resolution) its exact AVX2 model from models.hpp. Kernel code calls
// only these helpers, so the same kernel source is what runs on AVX-512 hardware and what the tests
// run on AVX2-only machines.
#pragma once

#if defined(__AVX2__)

#include <immintrin.h>

#include <type_traits>

#include "mpq/arch/avx512/models.hpp"
#include "mpq/arch/isa.hpp"
#include "mpq/config.hpp"

namespace mpq::arch {

namespace detail {
template <class>
inline constexpr bool dependent_false = false;
}  // namespace detail

/// @brief True when Arch runs real AVX-512 (the avx512vnni tag, not avx512vnni_model) in a translation
/// unit with AVX-512 F and BW: the condition of every zmm code path, which have no AVX2 model and so
/// stay on ymm under the model tag. Each kernel adds the feature macros its own instructions need.
template <class Arch>
inline constexpr bool real_avx512 =
#if defined(__AVX512F__) && defined(__AVX512BW__)
    std::is_base_of_v<avx512vnni, Arch> && !std::is_base_of_v<avx512vnni_model, Arch>;
#else
    false;
#endif

/// @brief vpdpbusd ymm: src + the four u8 x s8 products of each dword, wrapping (see
/// avx512_model::dpbusd_epi32 for the exact definition).
template <class Arch>
MPQ_ALWAYS_INLINE __m256i dpbusd_epi32(__m256i src, __m256i u8, __m256i s8, Arch,
                                       requires_arch<avx512vnni>) noexcept {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(src, u8, s8);
#else
  static_assert(detail::dependent_false<Arch>,
                "mpq: avx512vnni kernels need -mavx512vnni -mavx512vl in this translation unit "
                "(the avx512vnni_model tag runs the same code on AVX2)");
  (void)u8;
  (void)s8;
  return src;
#endif
}

template <class Arch>
MPQ_ALWAYS_INLINE __m256i dpbusd_epi32(__m256i src, __m256i u8, __m256i s8, Arch,
                                       requires_arch<avx512vnni_model>) noexcept {
  return avx512_model::dpbusd_epi32(src, u8, s8);
}

/// @brief vpopcntq ymm: the bits set in each 64-bit lane (see avx512_model::popcnt_epi64). Needs
/// VPOPCNTDQ besides the avx512vnni tag's VNNI; kernels call it only when
/// has_vpopcntdq<Arch> (arch/avx2/bitserial.hpp).
template <class Arch>
MPQ_ALWAYS_INLINE __m256i popcnt_epi64(__m256i v, Arch, requires_arch<avx512vnni>) noexcept {
#if defined(__AVX512VPOPCNTDQ__) && defined(__AVX512VL__)
  return _mm256_popcnt_epi64(v);
#else
  static_assert(detail::dependent_false<Arch>,
                "mpq: vpopcntq needs -mavx512vpopcntdq -mavx512vl in this translation unit "
                "(the avx512vnni_model tag runs the same code on AVX2)");
  return v;
#endif
}

template <class Arch>
MPQ_ALWAYS_INLINE __m256i popcnt_epi64(__m256i v, Arch, requires_arch<avx512vnni_model>) noexcept {
  return avx512_model::popcnt_epi64(v);
}

}  // namespace mpq::arch

#endif  // __AVX2__
