// Conversions between integer codes / floats and packed views or tensors, fused quantize + pack,
// dequantize, and conversion between layouts. Generic over every PackedLayout and Quantizer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <ranges>
#include <span>
#include <type_traits>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/packed/row_codec.hpp"
#include "mpq/packed/tensor.hpp"
#include "mpq/packed/view.hpp"
#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/span.hpp"

namespace mpq {

namespace detail {

template <class R>
using range_value_t = std::remove_cv_t<std::ranges::range_value_t<R>>;

/// @brief Not a multi-dimensional container (xtensor's describe their shape): those go to the
/// rank-aware overloads of packed/pack_xtensor.hpp instead of being read as flat ranges.
template <class R>
concept flat_range = !requires(const R& r) {
  r.shape();
  r.dimension();
};

/// @brief A contiguous sized flat range of T (vector, array, span, ...).
template <class R, class T>
concept contiguous_of = std::ranges::contiguous_range<R> && std::ranges::sized_range<R> && flat_range<R> &&
                        std::same_as<range_value_t<R>, T>;
/// @brief ... whose elements are writable.
template <class R, class T>
concept writable_contiguous_of =
    contiguous_of<R, T> && !std::is_const_v<std::remove_reference_t<std::ranges::range_reference_t<R>>>;

template <class R>
concept code_range =
    std::ranges::contiguous_range<R> && std::ranges::sized_range<R> && flat_range<R> && CodeType<range_value_t<R>>;
template <class R>
concept writable_code_range =
    code_range<R> && !std::is_const_v<std::remove_reference_t<std::ranges::range_reference_t<R>>>;

template <class R>
auto as_span(R&& r) noexcept {
  return std::span(std::ranges::data(r), std::ranges::size(r));
}

/// @brief The narrowest integer type holding every code of the width: the chunk buffers use it,
/// since the bulk packers read 8 one-byte codes as one word.
template <signedness S>
using chunk_code_t = std::conditional_t<S == signed_codes, std::int8_t, std::uint8_t>;

/// @brief Codes converted in chunks of this many (a multiple of both layouts' blocks, <= 2048), or
/// 0 if the blocks are too large for the stack buffer (then conversion goes code by code).
inline constexpr std::size_t max_chunk = 2048;
constexpr std::size_t chunk_for(std::size_t block_a, std::size_t block_b) noexcept {
  const std::size_t l = std::lcm(block_a, block_b);
  return l > max_chunk ? 0 : l * (max_chunk / l);
}

inline status shape_failure(const char* what, std::size_t given, std::size_t rows, std::size_t cols) noexcept {
  return status::failure(errc::shape_mismatch, "%s: %zu values given for a %zu x %zu packed tensor (need %zu)",
                         what, given, rows, cols, rows * cols);
}

/// @brief Rows x cols values of a (row-major) buffer of `given` values.
inline status check_count(const char* what, std::size_t given, std::size_t rows, std::size_t cols) noexcept {
  return given == rows * cols ? status{} : shape_failure(what, given, rows, cols);
}

/// @brief Per-row parameters: one per row, or one for all rows.
inline status check_per_row(const char* what, std::size_t given, std::size_t rows) noexcept {
  if (given == rows || given == 1) return {};
  return status::failure(errc::shape_mismatch, "%s: %zu given for %zu rows (need %zu or 1)", what, given, rows, rows);
}

/// @brief Quantizer codes must fit the packed codes.
template <int Bits, signedness S, PackedLayout L, Quantizer Q>
status check_quantizer_fits(const Q& q) noexcept {
  constexpr std::int32_t lo = layout_code_min<L>(Bits, S), hi = layout_code_max<L>(Bits, S);
  if (q.code_min() >= lo && q.code_max() <= hi) return {};
  return status::failure(errc::invalid_argument,
                         "quantize_pack: the quantizer's codes [%d, %d] do not fit %d-bit %s codes in layout %s "
                         "[%d, %d]",
                         static_cast<int>(q.code_min()), static_cast<int>(q.code_max()), Bits, to_string(S),
                         L::name, static_cast<int>(lo), static_cast<int>(hi));
}

/// @brief For each row i and chunk [j0, j0+n) of it: make(i, j0, buf[0..n)) fills int32 codes, which
/// are then packed into dst. `make` must produce codes inside the layout's range. Chunks start at
/// multiples of L::col_block(Bits) and of Multiple (or, if no chunk fits the buffer, at every code).
template <std::size_t Multiple, CodeType Code, int Bits, signedness S, PackedLayout L, class Make>
void pack_generated(packed_span<Bits, S, L> dst, Make&& make) noexcept {
  constexpr std::size_t chunk = chunk_for(L::col_block(Bits), Multiple);
  for (std::size_t i = 0; i < dst.rows; ++i) {
    const std::span<std::uint8_t> row = dst.row_span(i);
    if constexpr (chunk != 0) {
      Code buf[chunk];
      for (std::size_t j0 = 0; j0 < dst.cols; j0 += chunk) {
        const std::size_t n = dst.cols - j0 < chunk ? dst.cols - j0 : chunk;
        make(i, j0, std::span<Code>(buf, n));
        pack_cols<Bits, L>(row, dst.padded_cols, j0, std::span<const Code>(buf, n));
      }
    } else {
      for (std::size_t j = 0; j < dst.padded_cols; ++j) {
        Code c = 0;
        if (j < dst.cols) make(i, j, std::span<Code>(&c, 1));
        L::store(row, Bits, dst.padded_cols, j, code_to_field(static_cast<std::int32_t>(c), Bits));
      }
    }
  }
}

/// @brief For each row i and chunk [j0, j0+n): use(i, j0, codes[0..n)) with the unpacked int32 codes.
template <int Bits, signedness S, PackedLayout L, class Byte, class Use>
void for_each_unpacked(basic_packed_view<Bits, S, L, Byte> src, Use&& use) noexcept {
  constexpr std::size_t chunk = chunk_for(L::col_block(Bits), 1);
  std::int32_t buf[chunk == 0 ? 1 : chunk];
  for (std::size_t i = 0; i < src.rows; ++i) {
    const std::span<const std::uint8_t> row(src.row(i), L::row_bytes(Bits, src.padded_cols));
    if constexpr (chunk != 0) {
      for (std::size_t j0 = 0; j0 < src.cols; j0 += chunk) {
        const std::size_t n = src.cols - j0 < chunk ? src.cols - j0 : chunk;
        unpack_cols<Bits, S, L>(row, src.padded_cols, j0, std::span<std::int32_t>(buf, n));
        use(i, j0, std::span<const std::int32_t>(buf, n));
      }
    } else {
      for (std::size_t j = 0; j < src.cols; ++j) {
        buf[0] = field_to_code(L::load(row, Bits, src.padded_cols, j), Bits, S);
        use(i, j, std::span<const std::int32_t>(buf, 1));
      }
    }
  }
}

}  // namespace detail

// ================================== codes -> packed ==========================================

/// @brief Checked: ok if every code lies in the range layout L stores at Bits bits, signedness S;
/// else errc::out_of_range naming the first bad code and its index.
template <int Bits, signedness S, PackedLayout L, detail::code_range R>
status check_codes(const R& codes) noexcept {
  constexpr std::int64_t lo = layout_code_min<L>(Bits, S), hi = layout_code_max<L>(Bits, S);
  const auto c = detail::as_span(codes);
  std::int64_t mn = hi, mx = lo;
  for (auto v : c) {  // branch-free min/max: vectorizes
    const auto w = static_cast<std::int64_t>(v);
    mn = w < mn ? w : mn;
    mx = w > mx ? w : mx;
  }
  if (c.empty() || (mn >= lo && mx <= hi)) return {};
  for (std::size_t k = 0; k < c.size(); ++k) {
    const auto w = static_cast<std::int64_t>(c[k]);
    if (w < lo || w > hi)
      return status::failure(errc::out_of_range, "codes[%zu] = %lld: %d-bit %s codes in layout %s must lie in [%lld, %lld]",
                             k, static_cast<long long>(w), Bits, to_string(S), L::name, static_cast<long long>(lo),
                             static_cast<long long>(hi));
  }
  return {};
}

/// @brief Checked: pack rows x cols row-major codes into dst (padding set to zero codes). Every code
/// is checked first; on failure dst is unchanged.
template <int Bits, signedness S, PackedLayout L, detail::code_range R>
status try_pack_into(const R& codes, packed_span<Bits, S, L> dst) noexcept {
  const auto c = detail::as_span(codes);
  MPQ_TRY(detail::check_count("pack", c.size(), dst.rows, dst.cols));
  MPQ_TRY((check_codes<Bits, S, L>(c)));
  for (std::size_t i = 0; i < dst.rows; ++i)
    pack_row<Bits, L>(dst.row_span(i), dst.padded_cols, c.subspan(i * dst.cols, dst.cols));
  return {};
}

/// @brief Checked: a new rows x cols tensor holding `codes` (row-major).
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, detail::code_range R>
expected<packed_tensor<Bits, S, L>> try_pack(const R& codes, std::size_t rows, std::size_t cols) noexcept {
  MPQ_TRY(detail::check_count("pack", std::ranges::size(codes), rows, cols));
  auto t = packed_tensor<Bits, S, L>::try_make(rows, cols);
  if (!t) return t.error();
  MPQ_TRY(try_pack_into(codes, t->span()));
  return t;
}

/// @brief Checked: a new rank-1 tensor holding `codes`.
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, detail::code_range R>
expected<packed_tensor<Bits, S, L>> try_pack(const R& codes) noexcept {
  auto t = packed_tensor<Bits, S, L>::try_make(std::ranges::size(codes));
  if (!t) return t.error();
  MPQ_TRY(try_pack_into(codes, t->span()));
  return t;
}

template <int Bits, signedness S, PackedLayout L, detail::code_range R>
void pack_into(const R& codes, packed_span<Bits, S, L> dst) {
  throw_if_error(try_pack_into(codes, dst));
}
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, detail::code_range R>
packed_tensor<Bits, S, L> pack(const R& codes, std::size_t rows, std::size_t cols) {
  return try_pack<Bits, S, L>(codes, rows, cols).value();
}
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, detail::code_range R>
packed_tensor<Bits, S, L> pack(const R& codes) {
  return try_pack<Bits, S, L>(codes).value();
}

// ================================== packed -> codes ==========================================

/// @brief Checked: the rows x cols codes of src, row-major, into out (out.size() == rows * cols).
/// The element type must hold every code (a compile-time check).
template <int Bits, signedness S, PackedLayout L, class Byte, detail::writable_code_range R>
status try_unpack(basic_packed_view<Bits, S, L, Byte> src, R&& out) noexcept {
  auto o = detail::as_span(out);
  MPQ_TRY(detail::check_count("unpack", o.size(), src.rows, src.cols));
  for (std::size_t i = 0; i < src.rows; ++i)
    unpack_row<Bits, S, L>(std::span<const std::uint8_t>(src.row(i), L::row_bytes(Bits, src.padded_cols)),
                           src.padded_cols, o.subspan(i * src.cols, src.cols));
  return {};
}
template <int Bits, signedness S, PackedLayout L, detail::writable_code_range R>
status try_unpack(const packed_tensor<Bits, S, L>& t, R&& out) noexcept {
  return try_unpack(t.view(), out);
}
template <int Bits, signedness S, PackedLayout L, class Byte, detail::writable_code_range R>
void unpack(basic_packed_view<Bits, S, L, Byte> src, R&& out) {
  throw_if_error(try_unpack(src, out));
}
template <int Bits, signedness S, PackedLayout L, detail::writable_code_range R>
void unpack(const packed_tensor<Bits, S, L>& t, R&& out) {
  throw_if_error(try_unpack(t.view(), out));
}

// ================================== packed -> float ==========================================

/// @brief Checked: out[i*cols + j] = scales[i] * (code(i, j) - zero_points[i]); scales and
/// zero_points have one entry per row, or one for all rows.
template <int Bits, signedness S, PackedLayout L, class Byte, detail::writable_contiguous_of<float> R>
status try_unpack_to_float(basic_packed_view<Bits, S, L, Byte> src, std::span<const float> scales,
                           std::span<const float> zero_points, R&& out) noexcept {
  auto o = detail::as_span(out);
  MPQ_TRY(detail::check_count("unpack_to_float", o.size(), src.rows, src.cols));
  MPQ_TRY(detail::check_per_row("unpack_to_float: scales", scales.size(), src.rows));
  MPQ_TRY(detail::check_per_row("unpack_to_float: zero_points", zero_points.size(), src.rows));
  detail::for_each_unpacked(src, [&](std::size_t i, std::size_t j0, std::span<const std::int32_t> codes) {
    const float s = scales[scales.size() == 1 ? 0 : i];
    const float z = zero_points[zero_points.size() == 1 ? 0 : i];
    float* dst = o.data() + i * src.cols + j0;
    for (std::size_t k = 0; k < codes.size(); ++k) dst[k] = s * (static_cast<float>(codes[k]) - z);
  });
  return {};
}

/// @brief Checked: the values of a tensor (its codes with its per-row scales and zero points).
template <int Bits, signedness S, PackedLayout L, detail::writable_contiguous_of<float> R>
status try_dequantize(const packed_tensor<Bits, S, L>& t, R&& out) noexcept {
  return try_unpack_to_float(t.view(), t.scales(), t.zero_points(), out);
}

namespace detail {
/// @brief Unpack chunks of each row into a stack buffer and dequantize them with
/// `dequantize(q, codes_chunk, out_chunk)` (mpq::try_dequantize or mpq::simd::try_dequantize).
template <int Bits, signedness S, PackedLayout L, class Byte, Quantizer Q, class R, class DequantizeChunk>
status dequantize_rows(basic_packed_view<Bits, S, L, Byte> src, std::span<const Q> quantizers, R&& out,
                       const DequantizeChunk& dequantize) noexcept {
  auto o = as_span(out);
  MPQ_TRY(check_count("dequantize", o.size(), src.rows, src.cols));
  MPQ_TRY(check_per_row("dequantize: quantizers", quantizers.size(), src.rows));
  for_each_unpacked(src, [&](std::size_t i, std::size_t j0, std::span<const std::int32_t> codes) {
    const Q& q = quantizers[quantizers.size() == 1 ? 0 : i];
    static_cast<void>(dequantize(q, codes, o.subspan(i * src.cols + j0, codes.size())));  // sizes match
  });
  return {};
}
struct scalar_dequantize_chunk {
  template <Quantizer Q>
  status operator()(const Q& q, std::span<const std::int32_t> codes, std::span<float> y) const noexcept {
    return mpq::try_dequantize(q, codes, y);
  }
};
}  // namespace detail

/// @brief Checked: row i dequantized by quantizers[i] (per-channel), or all by quantizers[0].
template <int Bits, signedness S, PackedLayout L, class Byte, Quantizer Q, detail::writable_contiguous_of<float> R>
status try_dequantize(basic_packed_view<Bits, S, L, Byte> src, std::span<const Q> quantizers, R&& out) noexcept {
  return detail::dequantize_rows(src, quantizers, out, detail::scalar_dequantize_chunk{});
}

/// @brief Checked: out[i*cols + j] = q.dequantize(code(i, j)), for any Quantizer.
template <int Bits, signedness S, PackedLayout L, class Byte, Quantizer Q, detail::writable_contiguous_of<float> R>
status try_dequantize(basic_packed_view<Bits, S, L, Byte> src, const Q& q, R&& out) noexcept {
  return try_dequantize(src, std::span<const Q>(&q, 1), out);
}

template <int Bits, signedness S, PackedLayout L, detail::writable_contiguous_of<float> R>
void dequantize(const packed_tensor<Bits, S, L>& t, R&& out) {
  throw_if_error(try_dequantize(t, out));
}

// ============================ float -> packed (quantize + pack) ==============================

namespace detail {
/// @brief Quantize + pack: chunks of a row go through `quantize(q, x_chunk, codes_chunk)` (the
/// scalar mpq::try_quantize, or mpq::simd::try_quantize) into a stack buffer and are packed from
/// there, so the floats are read once.
/// @brief The checks of every quantize + pack entry point: sizes, one quantizer per row (or one),
/// and every quantizer's codes inside the packed codes' range.
template <int Bits, signedness S, PackedLayout L, Quantizer Q>
status check_quantize_pack(std::span<const Q> quantizers, std::size_t values, packed_span<Bits, S, L> dst) noexcept {
  MPQ_TRY(check_count("quantize_pack", values, dst.rows, dst.cols));
  MPQ_TRY(check_per_row("quantize_pack: quantizers", quantizers.size(), dst.rows));
  for (const Q& q : quantizers) MPQ_TRY((check_quantizer_fits<Bits, S, L>(q)));
  return {};
}

template <int Bits, signedness S, PackedLayout L, Quantizer Q, class R, class QuantizeChunk>
status quantize_pack_rows(std::span<const Q> quantizers, const R& x, packed_span<Bits, S, L> dst,
                          const QuantizeChunk& quantize) noexcept {
  const auto in = as_span(x);
  MPQ_TRY(check_quantize_pack(quantizers, in.size(), dst));
  pack_generated<1, chunk_code_t<S>>(dst, [&](std::size_t i, std::size_t j0, std::span<chunk_code_t<S>> codes) {
    const Q& q = quantizers[quantizers.size() == 1 ? 0 : i];
    // Cannot fail: the sizes match and the chunk type holds every code (checked above).
    static_cast<void>(quantize(q, in.subspan(i * dst.cols + j0, codes.size()), codes));
  });
  return {};
}

/// @brief Quantize + pack into a new tensor and record each row's step and zero point.
template <int Bits, signedness S, PackedLayout L, UniformQuantizer Q, class R, class QuantizeChunk>
expected<packed_tensor<Bits, S, L>> quantize_pack_tensor(std::span<const Q> quantizers, const R& x,
                                                         const packed_shape& shape,
                                                         const QuantizeChunk& quantize) noexcept {
  MPQ_TRY(check_count("quantize_pack", std::ranges::size(x), shape.rows, shape.cols));
  auto t = packed_tensor<Bits, S, L>::try_make(shape);
  if (!t) return t.error();
  MPQ_TRY(quantize_pack_rows(quantizers, x, t->span(), quantize));
  for (std::size_t i = 0; i < shape.rows; ++i) {
    const Q& q = quantizers[quantizers.size() == 1 ? 0 : i];
    t->scales()[i] = static_cast<float>(q.step());
    t->zero_points()[i] = -static_cast<float>(q.code_offset());
  }
  return t;
}

struct scalar_quantize_chunk {
  template <Quantizer Q, CodeType C>
  status operator()(const Q& q, std::span<const float> x, std::span<C> codes) const noexcept {
    return mpq::try_quantize(q, x, codes);
  }
};
}  // namespace detail

/// @brief Checked: quantize rows x cols floats (row-major) and pack the codes into dst in one pass
/// (chunks of at most 2048 codes go through a stack buffer). Row i uses quantizers[i], or all rows
/// quantizers[0]. Every quantizer's code range must fit the packed codes; on failure dst is unchanged.
/// packed/pack_simd.hpp has the same functions vectorised (namespace mpq::simd), identical results.
template <int Bits, signedness S, PackedLayout L, Quantizer Q, detail::contiguous_of<float> R>
status try_quantize_pack_into(std::span<const Q> quantizers, const R& x, packed_span<Bits, S, L> dst) noexcept {
  return detail::quantize_pack_rows(quantizers, x, dst, detail::scalar_quantize_chunk{});
}
template <int Bits, signedness S, PackedLayout L, Quantizer Q, detail::contiguous_of<float> R>
status try_quantize_pack_into(const Q& q, const R& x, packed_span<Bits, S, L> dst) noexcept {
  return try_quantize_pack_into(std::span<const Q>(&q, 1), x, dst);
}

/// @brief Checked: a new rows x cols tensor of quantized floats; row i quantized by quantizers[i]
/// (per-channel) or all by quantizers[0]. The tensor's scales and zero points are each quantizer's
/// step() and -code_offset(), so dequantize(tensor) equals quantizer.fake_quantize(x).
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q,
          detail::contiguous_of<float> R>
expected<packed_tensor<Bits, S, L>> try_quantize_pack(std::span<const Q> quantizers, const R& x, std::size_t rows,
                                                      std::size_t cols) noexcept {
  return detail::quantize_pack_tensor<Bits, S, L>(quantizers, x, packed_shape{2, rows, cols},
                                                  detail::scalar_quantize_chunk{});
}
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q,
          detail::contiguous_of<float> R>
expected<packed_tensor<Bits, S, L>> try_quantize_pack(const Q& q, const R& x, std::size_t rows,
                                                      std::size_t cols) noexcept {
  return try_quantize_pack<Bits, S, L>(std::span<const Q>(&q, 1), x, rows, cols);
}
/// @brief Checked: a new rank-1 tensor of quantized floats.
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q,
          detail::contiguous_of<float> R>
expected<packed_tensor<Bits, S, L>> try_quantize_pack(const Q& q, const R& x) noexcept {
  return detail::quantize_pack_tensor<Bits, S, L>(std::span<const Q>(&q, 1), x,
                                                  packed_shape{1, 1, std::ranges::size(x)},
                                                  detail::scalar_quantize_chunk{});
}

template <int Bits, signedness S, PackedLayout L, Quantizer Q, detail::contiguous_of<float> R>
void quantize_pack_into(const Q& q, const R& x, packed_span<Bits, S, L> dst) {
  throw_if_error(try_quantize_pack_into(q, x, dst));
}
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q,
          detail::contiguous_of<float> R>
packed_tensor<Bits, S, L> quantize_pack(const Q& q, const R& x, std::size_t rows, std::size_t cols) {
  return try_quantize_pack<Bits, S, L>(q, x, rows, cols).value();
}
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q,
          detail::contiguous_of<float> R>
packed_tensor<Bits, S, L> quantize_pack(const Q& q, const R& x) {
  return try_quantize_pack<Bits, S, L>(q, x).value();
}

// ================================== layout conversion ========================================

/// @brief Checked: copy the codes of src into dst, a span of the same shape in another layout.
/// If dst's layout holds fewer codes (e.g. ternary_base3), every code is checked first and dst is
/// unchanged on failure.
template <int Bits, signedness S, PackedLayout From, class Byte, PackedLayout To>
status try_convert_into(basic_packed_view<Bits, S, From, Byte> src, packed_span<Bits, S, To> dst) noexcept {
  if (src.rows != dst.rows || src.cols != dst.cols)
    return status::failure(errc::shape_mismatch, "convert_layout: source %zu x %zu, destination %zu x %zu", src.rows,
                           src.cols, dst.rows, dst.cols);
  constexpr std::int32_t lo = layout_code_min<To>(Bits, S), hi = layout_code_max<To>(Bits, S);
  if constexpr (lo > layout_code_min<From>(Bits, S) || hi < layout_code_max<From>(Bits, S)) {
    status bad{};
    detail::for_each_unpacked(src, [&](std::size_t i, std::size_t j0, std::span<const std::int32_t> codes) {
      for (std::size_t k = 0; k < codes.size() && bad.ok(); ++k)
        if (codes[k] < lo || codes[k] > hi)
          bad = status::failure(errc::out_of_range, "convert_layout: code (%zu, %zu) = %d: layout %s holds [%d, %d]", i,
                                j0 + k, static_cast<int>(codes[k]), To::name, static_cast<int>(lo),
                                static_cast<int>(hi));
    });
    MPQ_TRY(bad);
  }
  const basic_packed_view<Bits, S, From, const std::uint8_t> in = src;
  using code_t = detail::chunk_code_t<S>;
  detail::pack_generated<From::col_block(Bits), code_t>(dst, [&](std::size_t i, std::size_t j0, std::span<code_t> codes) {
    const std::span<const std::uint8_t> row(in.row(i), From::row_bytes(Bits, in.padded_cols));
    if (j0 % From::col_block(Bits) == 0) {
      unpack_cols<Bits, S, From>(row, in.padded_cols, j0, codes);
    } else {
      for (std::size_t k = 0; k < codes.size(); ++k)
        codes[k] = static_cast<code_t>(field_to_code(From::load(row, Bits, in.padded_cols, j0 + k), Bits, S));
    }
  });
  return {};
}

/// @brief Checked: the tensor in another layout (same codes, scales and zero points).
template <PackedLayout To, int Bits, signedness S, PackedLayout From>
expected<packed_tensor<Bits, S, To>> try_convert_layout(const packed_tensor<Bits, S, From>& t) noexcept {
  auto out = packed_tensor<Bits, S, To>::try_make(t.shape());
  if (!out) return out.error();
  MPQ_TRY(try_convert_into(t.view(), out->span()));
  for (std::size_t i = 0; i < t.rows(); ++i) {
    out->scales()[i] = t.scales()[i];
    out->zero_points()[i] = t.zero_points()[i];
  }
  return out;
}
template <PackedLayout To, int Bits, signedness S, PackedLayout From>
packed_tensor<Bits, S, To> convert_layout(const packed_tensor<Bits, S, From>& t) {
  return try_convert_layout<To>(t).value();
}

}  // namespace mpq
