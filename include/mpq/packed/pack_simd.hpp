// SIMD (xsimd) fused quantize + pack and dequantize of packed codes: the functions of packed/pack.hpp
// in namespace mpq::simd, with bit-identical results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "mpq/packed/pack.hpp"
#include "mpq/quant/span_simd.hpp"

namespace mpq::simd {

namespace detail {
struct simd_quantize_chunk {
  template <Quantizer Q, CodeType C>
  status operator()(const Q& q, std::span<const float> x, std::span<C> codes) const noexcept {
    return simd::try_quantize(q, x, codes);
  }
};
struct simd_dequantize_chunk {
  template <Quantizer Q>
  status operator()(const Q& q, std::span<const std::int32_t> codes, std::span<float> y) const noexcept {
    return simd::try_dequantize(q, codes, y);
  }
};

// Interleaved rows of 1, 2, 4 or 8-bit codes from one-byte codes, 32 codes per AVX2 step (so it also
// runs on AVX-512 machines): the bytes hold the codes; their fields are gathered with shifts inside
// 16/32-bit lanes and a saturating pack (4, 2 bits), or a movemask (1 bit). Fused quantize + pack
// runs mpq::simd::try_quantize (exact, any ISA) into a small byte buffer in L1 and packs it from
// there. Without AVX2, and for 3, 5, 6, 7 bits, the generic chunk path is used.
#if defined(__AVX2__)
inline constexpr bool has_avx2_interleaved = true;
#else
inline constexpr bool has_avx2_interleaved = false;
#endif

template <int Bits, PackedLayout L>
inline constexpr bool avx2_interleaved =
    has_avx2_interleaved && std::is_same_v<L, interleaved> && (Bits == 1 || Bits == 2 || Bits == 4 || Bits == 8);

/// @brief Bytes of an interleaved row for codes[0 .. n - n % 32) (one code per byte, in range);
/// returns how many codes it packed.
template <int Bits, class Code>
std::size_t pack_interleaved_bytes(const Code* codes, std::size_t n, std::uint8_t* out) noexcept {
  const std::size_t body = n - n % 32;
#if defined(__AVX2__)
  for (std::size_t j = 0; j < body; j += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + j));
    std::uint8_t* o = out + j / 8 * Bits;
    if constexpr (Bits == 8) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), v);
    } else if constexpr (Bits == 1) {
      // bit 0 of byte k -> bit 7 of byte k (a 16-bit shift moves no other bit into bit 7), movemask
      const auto m = static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_slli_epi16(v, 7)));
      mpq::detail::store_le<4>(o, m);
    } else {
      __m256i w;
      if constexpr (Bits == 4) {
        // 16-bit lane = (odd byte, even byte) -> even | odd << 4 in its low byte
        w = _mm256_or_si256(_mm256_and_si256(v, _mm256_set1_epi16(0x000F)),
                            _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi16(0x00F0)));
      } else {
        // 32-bit lane = bytes b0..b3 -> b0 | b1 << 2 | b2 << 4 | b3 << 6 in its low byte, in 16-bit lanes
        const __m256i f = _mm256_and_si256(v, _mm256_set1_epi8(0x03));
        const __m256i pairs = _mm256_or_si256(f, _mm256_srli_epi16(f, 6));  // b0 | b1 << 2 in each 16-bit low byte
        const __m256i quads = _mm256_or_si256(pairs, _mm256_srli_epi32(pairs, 12));
        w = _mm256_and_si256(quads, _mm256_set1_epi32(0x000000FF));
        w = _mm256_packus_epi32(w, w);  // 32 -> 16 bits, per 128-bit lane
      }
      const __m256i b = _mm256_packus_epi16(w, w);  // 16 -> 8 bits, per 128-bit lane
      const __m256i lanes = _mm256_permute4x64_epi64(b, 0x08);  // qword 0 of each lane, side by side
      if constexpr (Bits == 4) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm256_castsi256_si128(lanes));
      } else {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(o),
                         _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0))));
      }
    }
  }
#else
  static_cast<void>(codes);
  static_cast<void>(out);
#endif
  return body;
}

}  // namespace detail

/// @brief mpq::try_quantize_pack_into, with the quantization vectorised (AffineFormQuantizer).
template <int Bits, signedness S, PackedLayout L, Quantizer Q, mpq::detail::contiguous_of<float> R>
status try_quantize_pack_into(std::span<const Q> quantizers, const R& x, packed_span<Bits, S, L> dst) noexcept {
  if constexpr (detail::avx2_interleaved<Bits, L>) {
    const auto in = mpq::detail::as_span(x);
    MPQ_TRY(mpq::detail::check_quantize_pack(quantizers, in.size(), dst));
    using code_t = mpq::detail::chunk_code_t<S>;
    constexpr std::size_t chunk = 1024;  // codes per L1-resident buffer (a multiple of the 64-code block)
    code_t buf[chunk];
    for (std::size_t i = 0; i < dst.rows; ++i) {
      const Q& q = quantizers[quantizers.size() == 1 ? 0 : i];
      const float* row_x = in.data() + i * dst.cols;
      for (std::size_t j0 = 0; j0 < dst.cols; j0 += chunk) {
        const std::size_t n = dst.cols - j0 < chunk ? dst.cols - j0 : chunk;
        static_cast<void>(simd::try_quantize(q, std::span<const float>(row_x + j0, n), std::span<code_t>(buf, n)));
        // j0 and `done` are multiples of 32 codes = 4 * Bits bytes; the tail goes to the scalar packer,
        // which starts at a 64-code block, so the last (< 64) codes are redone there.
        std::size_t done = detail::pack_interleaved_bytes<Bits>(buf, n, dst.row(i) + j0 / 8 * Bits);
        done -= done % 64;
        if (done < n)
          pack_cols<Bits, L>(dst.row_span(i), dst.padded_cols, j0 + done,
                             std::span<const code_t>(buf + done, n - done));
      }
    }
    return {};
  } else {
    return mpq::detail::quantize_pack_rows(quantizers, x, dst, detail::simd_quantize_chunk{});
  }
}
template <int Bits, signedness S, PackedLayout L, Quantizer Q, mpq::detail::contiguous_of<float> R>
status try_quantize_pack_into(const Q& q, const R& x, packed_span<Bits, S, L> dst) noexcept {
  return simd::try_quantize_pack_into(std::span<const Q>(&q, 1), x, dst);
}

/// @brief mpq::try_quantize_pack (a new tensor; scales and zero points from the quantizers).
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q,
          mpq::detail::contiguous_of<float> R>
expected<packed_tensor<Bits, S, L>> try_quantize_pack(std::span<const Q> quantizers, const R& x, std::size_t rows,
                                                      std::size_t cols) noexcept {
  return mpq::detail::quantize_pack_tensor<Bits, S, L>(quantizers, x, packed_shape{2, rows, cols},
                                                       detail::simd_quantize_chunk{});
}
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q,
          mpq::detail::contiguous_of<float> R>
expected<packed_tensor<Bits, S, L>> try_quantize_pack(const Q& q, const R& x, std::size_t rows,
                                                      std::size_t cols) noexcept {
  return simd::try_quantize_pack<Bits, S, L>(std::span<const Q>(&q, 1), x, rows, cols);
}
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q,
          mpq::detail::contiguous_of<float> R>
expected<packed_tensor<Bits, S, L>> try_quantize_pack(const Q& q, const R& x) noexcept {
  return mpq::detail::quantize_pack_tensor<Bits, S, L>(std::span<const Q>(&q, 1), x,
                                                       packed_shape{1, 1, std::ranges::size(x)},
                                                       detail::simd_quantize_chunk{});
}

/// @brief mpq::try_dequantize of a view with quantizers, the dequantization vectorised.
template <int Bits, signedness S, PackedLayout L, class Byte, Quantizer Q,
          mpq::detail::writable_contiguous_of<float> R>
status try_dequantize(basic_packed_view<Bits, S, L, Byte> src, std::span<const Q> quantizers, R&& out) noexcept {
  return mpq::detail::dequantize_rows(src, quantizers, out, detail::simd_dequantize_chunk{});
}
template <int Bits, signedness S, PackedLayout L, class Byte, Quantizer Q,
          mpq::detail::writable_contiguous_of<float> R>
status try_dequantize(basic_packed_view<Bits, S, L, Byte> src, const Q& q, R&& out) noexcept {
  return simd::try_dequantize(src, std::span<const Q>(&q, 1), out);
}

template <int Bits, signedness S, PackedLayout L, Quantizer Q, mpq::detail::contiguous_of<float> R>
void quantize_pack_into(const Q& q, const R& x, packed_span<Bits, S, L> dst) {
  throw_if_error(simd::try_quantize_pack_into(q, x, dst));
}
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q,
          mpq::detail::contiguous_of<float> R>
packed_tensor<Bits, S, L> quantize_pack(const Q& q, const R& x, std::size_t rows, std::size_t cols) {
  return simd::try_quantize_pack<Bits, S, L>(q, x, rows, cols).value();
}
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q,
          mpq::detail::contiguous_of<float> R>
packed_tensor<Bits, S, L> quantize_pack(const Q& q, const R& x) {
  return simd::try_quantize_pack<Bits, S, L>(q, x).value();
}

}  // namespace mpq::simd
