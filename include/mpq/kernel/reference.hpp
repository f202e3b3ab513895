// The scalar reference kernels (dot, gemv, gemm + epilogue): the oracle every SIMD kernel is tested
// against, and the portable path for embedded builds (no xsimd, no xtensor, no exceptions, no heap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/kernel/checks.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/packed/view.hpp"

namespace mpq::kernel {

// Conventions (docs/kernels.md): weights are signed W-bit codes, N rows (output channels) x K;
// activations are A-bit codes, signed or unsigned, M rows x K; both K-contiguous.
//   gemv: y[n]    = sum_k W[n][k] * a[k]
//   gemm: C[m][n] = sum_k A[m][k] * W[n][k]
// Any PackedLayout works on either side; codes are read through the layout's scalar load.

/// @brief sum_k W[n][k] * A[m][k] over the K = w.cols real codes, exact (callers keep K within
/// max_exact_k). Unchecked: the rows must exist and w.cols == a.cols.
template <int W, int A, signedness SA, PackedLayout LW, PackedLayout LA>
constexpr std::int32_t reference_dot(const packed_view<W, signed_codes, LW>& w, std::size_t n,
                                     const packed_view<A, SA, LA>& a, std::size_t m) noexcept {
  std::int64_t s = 0;
  for (std::size_t k = 0; k < w.cols; ++k) s += std::int64_t{w.get(n, k)} * a.get(m, k);
  MPQ_ASSERT(s >= INT32_MIN && s <= INT32_MAX);
  return static_cast<std::int32_t>(s);
}

/// @brief sum_k W[n][k] over the real codes of row n (the sum-of-weights correction term).
template <int B, signedness S, PackedLayout L>
constexpr std::int64_t reference_row_sum(const packed_view<B, S, L>& v, std::size_t row) noexcept {
  std::int64_t s = 0;
  for (std::size_t k = 0; k < v.cols; ++k) s += v.get(row, k);
  return s;
}

namespace detail {

template <int W, int A, signedness SA, PackedLayout LW, PackedLayout LA>
status check_reference_operands(const packed_view<A, SA, LA>& a,
                                          const packed_view<W, signed_codes, LW>& w) noexcept {
  if (a.data == nullptr && a.rows != 0 && a.cols != 0)
    return status::failure(errc::invalid_argument, "activations: data is null for a %zu x %zu view", a.rows, a.cols);
  if (w.data == nullptr && w.rows != 0 && w.cols != 0)
    return status::failure(errc::invalid_argument, "weights: data is null for a %zu x %zu view", w.rows, w.cols);
  return check_gemm_operands(W, A, w.rows, w.cols, a.rows, a.cols);
}

// Calls out(m, n, acc, sum_w[n], sum_a[m]) for every output, in row-major order.
template <int W, int A, signedness SA, PackedLayout LW, PackedLayout LA, class Out>
constexpr void reference_gemm_each(const packed_view<A, SA, LA>& a, const packed_view<W, signed_codes, LW>& w,
                                   bool need_sums, Out&& out) noexcept {
  for (std::size_t m = 0; m < a.rows; ++m) {
    const std::int64_t sum_a = need_sums ? reference_row_sum(a, m) : 0;
    for (std::size_t n = 0; n < w.rows; ++n) {
      const std::int64_t sum_w = need_sums ? reference_row_sum(w, n) : 0;
      out(m, n, reference_dot(w, n, a, m), sum_w, sum_a);
    }
  }
}

}  // namespace detail

// ---- gemm ----------------------------------------------------------------------------------------

/// @brief C[m * ldc + n] = sum_k A[m][k] W[n][k] (int32 accumulators). On failure C is untouched.
template <int W, int A, signedness SA, PackedLayout LW, PackedLayout LA>
status try_reference_gemm(const packed_view<A, SA, LA>& a, const packed_view<W, signed_codes, LW>& w,
                                    std::span<std::int32_t> c, std::size_t ldc) noexcept {
  MPQ_TRY(detail::check_reference_operands(a, w));
  const gemm_shape s{a.rows, w.rows, w.cols};
  MPQ_TRY(check_output_matrix("gemm output", c.size(), s, ldc));
  detail::reference_gemm_each(a, w, false, [&](std::size_t m, std::size_t n, std::int32_t acc, std::int64_t,
                                               std::int64_t) { c[m * ldc + n] = acc; });
  return {};
}

/// @brief C[m * ldc + n] = the dequantized output v (see dequantization). On failure C is untouched.
template <int W, int A, signedness SA, PackedLayout LW, PackedLayout LA>
status try_reference_gemm(const packed_view<A, SA, LA>& a, const packed_view<W, signed_codes, LW>& w,
                                    const dequantization& dq, std::span<float> c, std::size_t ldc) noexcept {
  MPQ_TRY(detail::check_reference_operands(a, w));
  const gemm_shape s{a.rows, w.rows, w.cols};
  MPQ_TRY(check_dequantization(dq, s.n));
  MPQ_TRY(check_output_matrix("gemm output", c.size(), s, ldc));
  const doubled_offsets o = doubled(dq);
  detail::reference_gemm_each(a, w, !o.none(), [&](std::size_t m, std::size_t n, std::int32_t acc,
                                                   std::int64_t sum_w, std::int64_t sum_a) {
    c[m * ldc + n] = dequantize_channel(dq, n, corrected_sum_x4(acc, sum_w, sum_a, s.k, o));
  });
  return {};
}

/// @brief out(m, n) = the requantized code of output (m, n) (see requantization). On failure out is
/// untouched.
template <int W, int A, signedness SA, PackedLayout LW, PackedLayout LA, int AO, PackedLayout LO>
status try_reference_gemm(const packed_view<A, SA, LA>& a, const packed_view<W, signed_codes, LW>& w,
                                    const dequantization& dq, const requantization& rq,
                                    const packed_span<AO, unsigned_codes, LO>& out) noexcept {
  MPQ_TRY(detail::check_reference_operands(a, w));
  const gemm_shape s{a.rows, w.rows, w.cols};
  MPQ_TRY(check_dequantization(dq, s.n));
  MPQ_TRY(check_requantized_output(rq, AO, out.rows, out.cols, out.data, s));
  const doubled_offsets o = doubled(dq);
  detail::reference_gemm_each(a, w, !o.none(), [&](std::size_t m, std::size_t n, std::int32_t acc,
                                                   std::int64_t sum_w, std::int64_t sum_a) {
    out.set(m, n, requantize_output(dequantize_channel(dq, n, corrected_sum_x4(acc, sum_w, sum_a, s.k, o)), rq));
  });
  return {};
}

// ---- gemv: the gemm with one activation row -------------------------------------------------------

/// @brief y[n] = sum_k W[n][k] a[k] (int32); `a` has exactly one row.
template <int W, int A, signedness SA, PackedLayout LW, PackedLayout LA>
status try_reference_gemv(const packed_view<W, signed_codes, LW>& w, const packed_view<A, SA, LA>& a,
                                    std::span<std::int32_t> y) noexcept {
  MPQ_TRY(check_gemv_rows(a.rows));
  return try_reference_gemm(a, w, y, w.rows);
}

/// @brief y[n] = the dequantized output v of channel n.
template <int W, int A, signedness SA, PackedLayout LW, PackedLayout LA>
status try_reference_gemv(const packed_view<W, signed_codes, LW>& w, const packed_view<A, SA, LA>& a,
                                    const dequantization& dq, std::span<float> y) noexcept {
  MPQ_TRY(check_gemv_rows(a.rows));
  return try_reference_gemm(a, w, dq, y, w.rows);
}

/// @brief out(0, n) = the requantized code of channel n; `out` is 1 x N.
template <int W, int A, signedness SA, PackedLayout LW, PackedLayout LA, int AO, PackedLayout LO>
status try_reference_gemv(const packed_view<W, signed_codes, LW>& w, const packed_view<A, SA, LA>& a,
                                    const dequantization& dq, const requantization& rq,
                                    const packed_span<AO, unsigned_codes, LO>& out) noexcept {
  MPQ_TRY(check_gemv_rows(a.rows));
  return try_reference_gemm(a, w, dq, rq, out);
}

// ---- throwing forms (mpq::error, or the error handler without exceptions) -------------------------

template <int W, int A, signedness SA, PackedLayout LW, PackedLayout LA, class... Out>
void reference_gemv(const packed_view<W, signed_codes, LW>& w, const packed_view<A, SA, LA>& a, Out&&... out) {
  throw_if_error(try_reference_gemv(w, a, static_cast<Out&&>(out)...));
}

template <int W, int A, signedness SA, PackedLayout LW, PackedLayout LA, class... Out>
void reference_gemm(const packed_view<A, SA, LA>& a, const packed_view<W, signed_codes, LW>& w, Out&&... out) {
  throw_if_error(try_reference_gemm(a, w, static_cast<Out&&>(out)...));
}

}  // namespace mpq::kernel
