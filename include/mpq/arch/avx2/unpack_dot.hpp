// AVX2 (and AVX-512 VNNI on ymm) unpack-to-int8 kernels: split_planes weights become 32 int8 lanes
// with one shift and mask per part, then vpmaddubsw + vpmaddwd (or vpdpbusd) against uint8 activations.
#pragma once

#if defined(__AVX2__)

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "mpq/arch/avx512/instructions.hpp"
#include "mpq/arch/isa.hpp"
#include "mpq/config.hpp"
#include "mpq/kernel/microkernel_args.hpp"
#include "mpq/kernel/split_planes.hpp"

namespace mpq::kernel {

namespace detail_avx2 {

/// How a vpmaddubsw kernel holds W-bit weights against A-bit unsigned activations a_u, derived from
/// the bounds: vpmaddubsw adds two u8 x s8 products into int16 with saturation, so a pair must stay
/// within 32767 (gemmlowp's "choose from derived facts").
///   offset form: u = w + 2^(W-1) in [0, 2^W - 1]   (no sign handling; corrected with sum a_u; the
///                s8 operand holds u only for W <= 7)
///   signed form: w in [-2^(W-1), 2^(W-1) - 1]      (one subtract per 32 codes)
///   int16 form:  both widened to int16, vpmaddwd   (W8A8 only: 2 * 255 * 128 > 32767)
template <int W, int A>
struct maddubs_plan {
  static constexpr int amax = (1 << A) - 1;
  static constexpr bool offset_form = W <= 7 && 2 * amax * ((1 << W) - 1) <= 32767;
  static constexpr bool signed_form = !offset_form && 2 * amax * (1 << (W - 1)) <= 32767;
  static constexpr bool int16_form = !offset_form && !signed_form;
  static constexpr int wmax = offset_form ? (1 << W) - 1 : (1 << (W - 1));
  /// vpmaddubsw results summed in int16 before widening (pairs of products each <= 2 amax wmax).
  static constexpr int depth = int16_form ? 1 : 32767 / (2 * amax * wmax);
};

/// With VNNI every W fits vpdpbusd (u8 x s8 into int32, no intermediate saturation): offset form for
/// W <= 7 (u <= 127 is a valid s8), signed form for W = 8.
template <int W>
struct vnni_plan {
  static constexpr bool offset_form = W <= 7;
};

template <class Arch>
inline constexpr bool has_vnni = std::is_base_of_v<arch::avx512vnni, Arch>;

/// 8-bit weights run on zmm registers on real AVX-512 with VNNI.
template <class Arch>
inline constexpr bool zmm_w8 =
#if defined(__AVX512VNNI__)
    arch::real_avx512<Arch>;
#else
    false;
#endif

/// Byte offset of part q inside a block of split_planes::col_block(W) codes.
template <int W>
constexpr std::size_t part_region(int q) noexcept {
  const field_split fs = field_split::of(W);
  std::size_t off = 0;
  for (int i = 0; i < q; ++i) off += split_planes::col_block(W) * static_cast<std::size_t>(fs.width[i]) / 8;
  return off;
}

/// A byte with the top bit of every p-bit sub-field set: XOR with it turns two's complement fields
/// into offset-binary ones (w + 2^(p-1)), applied to the part that holds the field's top bit.
constexpr int top_bits_mask(int p) noexcept {
  int m = 0;
  for (int t = 0; t < 8 / p; ++t) m |= 1 << (t * p + p - 1);
  return m;
}

/// Part Q of codes 32 S .. 32 S + 31 of a block, moved to its place in the field (Flip: the part's
/// sub-fields with their top bits flipped, when Q is the last part).
template <int W, int Q, int S, bool Flip>
MPQ_ALWAYS_INLINE __m256i extract_part(const std::uint8_t* block) noexcept {
  constexpr field_split fs = field_split::of(W);
  constexpr int p = fs.width[Q], sh = fs.shift[Q];
  constexpr int per_chunk = 8 / p;
  constexpr int chunk = S / per_chunk, t = S % per_chunk;
  __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(block + part_region<W>(Q) + chunk * 32));
  if constexpr (Flip && Q == fs.count - 1) v = _mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(top_bits_mask(p))));
  if constexpr (p == 8) {
    return v;
  } else {
    constexpr int right = t * p - sh;
    if constexpr (right > 0) v = _mm256_srli_epi16(v, right);
    if constexpr (right < 0) v = _mm256_slli_epi16(v, -right);
    return _mm256_and_si256(v, _mm256_set1_epi8(static_cast<char>(((1 << p) - 1) << sh)));
  }
}

/// The 32 fields of codes 32 S .. 32 S + 31 of a block: offset binary (w + 2^(W-1)) when Offset,
/// else two's complement int8.
template <int W, int S, bool Offset>
MPQ_ALWAYS_INLINE __m256i unpack_step(const std::uint8_t* block) noexcept {
  constexpr field_split fs = field_split::of(W);
  // 8-bit fields in two's complement are the bytes themselves (flipping the top bit and then
  // subtracting 128 would give them back).
  if constexpr (W == 8 && !Offset) return _mm256_load_si256(reinterpret_cast<const __m256i*>(block + S * 32));
  __m256i v = extract_part<W, 0, S, true>(block);
  if constexpr (fs.count > 1) v = _mm256_or_si256(v, extract_part<W, 1, S, true>(block));
  if constexpr (fs.count > 2) v = _mm256_or_si256(v, extract_part<W, 2, S, true>(block));
  if constexpr (!Offset) v = _mm256_sub_epi8(v, _mm256_set1_epi8(static_cast<char>(1 << (W - 1))));
  return v;
}

/// The 32 activation bytes at p of MR rows, a_stride bytes apart (one step of the gemm forms).
template <int MR>
MPQ_ALWAYS_INLINE void load_activations(__m256i (&av)[MR], const std::uint8_t* p, std::size_t a_stride) noexcept {
  for (int m = 0; m < MR; ++m) av[m] = _mm256_load_si256(reinterpret_cast<const __m256i*>(p + m * a_stride));
}

MPQ_ALWAYS_INLINE std::int32_t hsum_epi32(__m256i v) noexcept {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

}  // namespace detail_avx2

/// @brief unpack_dot traits on AVX2 / AVX-512 VNNI (see detail_avx2::maddubs_plan).
template <int W, int A, class Arch>
constexpr unpack_traits unpack_dot_traits(Arch, arch::requires_arch<arch::avx2>) noexcept {
  unpack_traits t;
  if constexpr (detail_avx2::has_vnni<Arch>) {
    t.weight_offset = detail_avx2::vnni_plan<W>::offset_form ? (1 << (W - 1)) : 0;
  } else {
    using plan = detail_avx2::maddubs_plan<W, A>;
    t.int16_activations = plan::int16_form;
    t.weight_offset = plan::offset_form ? (1 << (W - 1)) : 0;
  }
  // AVX-512 VL has 32 vector registers: 4 x 4 int32 sums, 4 activation vectors and a weight vector
  // fit, and each unpacked weight vector then feeds 4 vpdpbusd instead of 2. Measured (1024^3,
  // docs/kernel_results.md): 13-24% faster for W = 4..7 on ymm. W = 8 gains only on zmm (zmm_w8:
  // 6.55 -> 5.93 ms at W8A8); on ymm (the model tag) 4 x 4 was 8-10% slower, so it keeps 2 x 4.
  t.mr = detail_avx2::has_vnni<Arch> && (W < 8 || detail_avx2::zmm_w8<Arch>) ? 4 : 2;
  t.nr = 4;
  return t;
}

/// @brief avx2_unpack_dot_w{W}a{A}: S for MR activation rows x NR weight rows (unpack_block_args).
template <int W, int A, int MR, int NR, class Arch>
void unpack_dot_block(const unpack_block_args& g, Arch, arch::requires_arch<arch::avx2>) noexcept {
  using namespace detail_avx2;
  constexpr std::size_t block = split_planes::col_block(W);
  constexpr std::size_t block_bytes = split_planes::row_bytes(W, block);
  constexpr int steps = static_cast<int>(block / 32);
  constexpr bool vnni = has_vnni<Arch>;
  using plan = maddubs_plan<W, A>;
  constexpr bool offset = vnni ? vnni_plan<W>::offset_form : plan::offset_form;
  constexpr bool int16_form = !vnni && plan::int16_form;
  constexpr int depth = plan::depth;

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
  // 8-bit weights on real AVX-512 hardware: a block (64 codes) is 64 contiguous bytes of weights and
  // of activations, so whole zmm registers go straight into vpdpbusd (no unpacking; cores with full
  // 512-bit units do twice the ymm work per instruction). The model tag, which runs on AVX2, keeps
  // the ymm path below; this path is tested only where AVX-512 runs (CI stage 30).
  if constexpr (W == 8 && zmm_w8<Arch>) {
    static_assert(block == 64 && block_bytes == 64);
    __m512i acc5[MR][NR];
    for (int m = 0; m < MR; ++m)
      for (int n = 0; n < NR; ++n) acc5[m][n] = _mm512_setzero_si512();
    for (std::size_t b = 0; b < g.padded_cols; b += block) {
      __m512i av[MR];
      for (int m = 0; m < MR; ++m) av[m] = _mm512_loadu_si512(g.a + m * g.a_stride + b);
      for (int n = 0; n < NR; ++n) {
        const __m512i wv = _mm512_loadu_si512(g.w + n * g.w_stride + b);
        for (int m = 0; m < MR; ++m) acc5[m][n] = _mm512_dpbusd_epi32(acc5[m][n], av[m], wv);
      }
    }
    for (int m = 0; m < MR; ++m)
      for (int n = 0; n < NR; ++n) g.s[m * g.lds + n] = _mm512_reduce_add_epi32(acc5[m][n]);
    return;
  }
#endif

  __m256i acc[MR][NR];
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < NR; ++n) acc[m][n] = _mm256_setzero_si256();
  const __m256i ones16 = _mm256_set1_epi16(1);

  if constexpr (!int16_form && !vnni) {
    // vpmaddubsw pairs summed in int16 for up to `depth` steps, then widened with one vpmaddwd. A
    // window of G whole blocks (G * steps <= min(depth, 4): bounded registers and code) is summed
    // without widening per block where blocks are short (W4: 2 steps); the blocks past the last
    // whole window go one per window.
    constexpr int G = std::max(1, std::min(depth, 4) / steps);
    const std::size_t blocks = g.padded_cols / block;
    const std::size_t whole = blocks / G * G;
    auto window = [&]<int Blocks>(std::size_t b0, std::integral_constant<int, Blocks>) {
      const std::uint8_t* wb = g.w + b0 * block_bytes;
      const std::uint8_t* ab = g.a + b0 * block;
      if constexpr (MR == 1) {
        // gemv, row by row: the window's activations stay in registers, one int16 sum is live.
        // Meanwhile the same bytes of the next NR rows (the next block's in every driver loop) are
        // prefetched: each row is its own DRAM stream of a few KiB, and the hardware prefetchers
        // alone keep too few of them in flight (measured +10-25 % at W2A8 and W4A8).
        for (int n = NR; n < 2 * NR; ++n)
          for (std::size_t off = 0; off < Blocks * block_bytes; off += 64)
            _mm_prefetch(reinterpret_cast<const char*>(wb + n * g.w_stride + off), _MM_HINT_T0);
        __m256i av[Blocks * steps];
        for (int S = 0; S < Blocks * steps; ++S)
          av[S] = _mm256_load_si256(reinterpret_cast<const __m256i*>(ab + S * 32));
        for (int n = 0; n < NR; ++n) {
          __m256i acc16;
          [&]<int... S>(std::integer_sequence<int, S...>) {
            (([&] {
               const __m256i p = _mm256_maddubs_epi16(
                   av[S], unpack_step<W, S % steps, offset>(wb + S / steps * block_bytes + n * g.w_stride));
               acc16 = S % depth == 0 ? p : _mm256_add_epi16(acc16, p);
               if (S % depth == depth - 1 || S == Blocks * steps - 1)
                 acc[0][n] = _mm256_add_epi32(acc[0][n], _mm256_madd_epi16(acc16, ones16));
             }()),
             ...);
          }(std::make_integer_sequence<int, Blocks * steps>{});
        }
      } else {
        // gemm, step by step: MR activation vectors per step, MR x NR int16 sums live.
        __m256i acc16[MR][NR];
        [&]<int... S>(std::integer_sequence<int, S...>) {
          (([&] {
             __m256i av[MR];
             load_activations<MR>(av, ab + S * 32, g.a_stride);
             for (int n = 0; n < NR; ++n) {
               const __m256i wv = unpack_step<W, S % steps, offset>(wb + S / steps * block_bytes + n * g.w_stride);
               for (int m = 0; m < MR; ++m) {
                 const __m256i p = _mm256_maddubs_epi16(av[m], wv);
                 acc16[m][n] = S % depth == 0 ? p : _mm256_add_epi16(acc16[m][n], p);
                 if (S % depth == depth - 1 || S == Blocks * steps - 1)
                   acc[m][n] = _mm256_add_epi32(acc[m][n], _mm256_madd_epi16(acc16[m][n], ones16));
               }
             }
           }()),
           ...);
        }(std::make_integer_sequence<int, Blocks * steps>{});
      }
    };
    std::size_t b = 0;
    for (; b < whole; b += G) window(b, std::integral_constant<int, G>{});
    for (; b < blocks; ++b) window(b, std::integral_constant<int, 1>{});
  }

  for (std::size_t b = 0; (int16_form || vnni) && b < g.padded_cols; b += block) {
    const std::uint8_t* wb = g.w + b / block * block_bytes;
    const std::uint8_t* ab = g.a + b * (int16_form ? 2 : 1);
    if constexpr (int16_form) {
      // W8A8 without VNNI: sign-extend 16 weights at a time and vpmaddwd against int16 activations.
      static_assert(W == 8);
      [&]<int... S>(std::integer_sequence<int, S...>) {
        (([&] {
           __m256i a16[2][MR];
           for (int m = 0; m < MR; ++m)
             for (int h = 0; h < 2; ++h)
               a16[h][m] = _mm256_load_si256(reinterpret_cast<const __m256i*>(ab + m * g.a_stride + S * 64 + h * 32));
           for (int n = 0; n < NR; ++n) {
             const std::uint8_t* wp = wb + n * g.w_stride + S * 32;
             const __m256i w0 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(wp)));
             const __m256i w1 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(wp + 16)));
             for (int m = 0; m < MR; ++m) {
               acc[m][n] = _mm256_add_epi32(acc[m][n], _mm256_madd_epi16(w0, a16[0][m]));
               acc[m][n] = _mm256_add_epi32(acc[m][n], _mm256_madd_epi16(w1, a16[1][m]));
             }
           }
         }()),
         ...);
      }(std::make_integer_sequence<int, steps>{});
    } else if constexpr (vnni) {
      // vpdpbusd (or its model, for avx512vnni_model): u8 activations x s8 weights straight into int32.
      if constexpr (MR == 1 && W < 8) {
        // gemv: prefetch this block's bytes of the next NR rows, as the vpmaddubsw form does (each
        // row is its own DRAM stream; the hardware prefetchers alone keep too few in flight).
        // Measured at 16384^2: W4A8..W7A8 1.5-1.9x faster; W8A8 13% slower (its rows stream
        // fast enough alone), so W = 8 goes without.
        const std::size_t at = b / block * block_bytes;
        for (int n = NR; n < 2 * NR; ++n)
          for (std::size_t off = (at + 63) / 64 * 64; off < at + block_bytes; off += 64)
            _mm_prefetch(reinterpret_cast<const char*>(g.w + n * g.w_stride + off), _MM_HINT_T0);
      }
      [&]<int... S>(std::integer_sequence<int, S...>) {
        (([&] {
           __m256i av[MR];
           load_activations<MR>(av, ab + S * 32, g.a_stride);
           for (int n = 0; n < NR; ++n) {
             const __m256i wv = unpack_step<W, S, offset>(wb + n * g.w_stride);
             for (int m = 0; m < MR; ++m) acc[m][n] = arch::dpbusd_epi32(acc[m][n], av[m], wv, Arch{}, Arch{});
           }
         }()),
         ...);
      }(std::make_integer_sequence<int, steps>{});
    }
  }
  (void)ones16;
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < NR; ++n) g.s[m * g.lds + n] = detail_avx2::hsum_epi32(acc[m][n]);
}

}  // namespace mpq::kernel

#endif  // __AVX2__
