// Validation of kernel operands at the API boundary: shapes, the exact-K bound, output sizes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/kernel/overflow.hpp"

namespace mpq::kernel {

/// @brief The sizes of C[m][n] = sum_k A[m][k] W[n][k] (gemv is m = 1).
struct gemm_shape {
  std::size_t m = 0;  ///< activation rows
  std::size_t n = 0;  ///< output channels (weight rows)
  std::size_t k = 0;  ///< reduction length
};

namespace detail {

inline status check_matrix(const char* what, const void* data, std::size_t rows, std::size_t cols,
                           std::size_t padded_cols, std::size_t row_stride, std::size_t min_row_bytes) noexcept {
  if (data == nullptr && rows != 0 && padded_cols != 0)
    return status::failure(errc::invalid_argument, "%s: data is null for a %zu x %zu matrix", what, rows, cols);
  if (padded_cols < cols)
    return status::failure(errc::invalid_argument, "%s: padded_cols = %zu is less than cols = %zu", what,
                           padded_cols, cols);
  if (rows > 1 && row_stride < min_row_bytes)
    return status::failure(errc::invalid_argument, "%s: row_stride = %zu bytes is less than a row's %zu bytes",
                           what, row_stride, min_row_bytes);
  return {};
}

}  // namespace detail

/// @brief ok if weights (n x k_w, w_bits) and activations (m x k_a, a_bits) can be multiplied:
/// same K, and K within max_exact_k(w_bits, a_bits).
inline status check_gemm_operands(int w_bits, int a_bits, std::size_t n, std::size_t k_w, std::size_t m,
                                  std::size_t k_a) noexcept {
  MPQ_TRY(check_packable_bits(w_bits, "weight bits"));
  MPQ_TRY(check_packable_bits(a_bits, "activation bits"));
  if (k_w != k_a)
    return status::failure(errc::shape_mismatch,
                           "weights have K = %zu columns but activations have %zu: the reduction lengths must "
                           "agree (weights are N x K, activations M x K)",
                           k_w, k_a);
  (void)n;
  (void)m;
  return check_exact_k(w_bits, a_bits, k_w);
}

/// @brief ok if a gemv's activations are one row.
inline status check_gemv_rows(std::size_t a_rows) noexcept {
  if (a_rows != 1)
    return status::failure(errc::shape_mismatch,
                           "gemv: the activation view has %zu rows: a gemv takes exactly 1 (use gemm for more)",
                           a_rows);
  return {};
}

/// @brief ok if a row-major m x n output with leading dimension ldc fits in `size` elements.
inline status check_output_matrix(const char* what, std::size_t size, gemm_shape s, std::size_t ldc) noexcept {
  if (ldc < s.n)
    return status::failure(errc::shape_mismatch, "%s: ldc = %zu is less than N = %zu", what, ldc, s.n);
  const std::size_t need = s.m == 0 ? 0 : (s.m - 1) * ldc + s.n;
  if (size < need)
    return status::failure(errc::shape_mismatch,
                           "%s: the output has %zu elements but an M x N = %zu x %zu result with ldc = %zu needs %zu",
                           what, size, s.m, s.n, ldc, need);
  return {};
}

/// @brief ok if a requantized output view (rows x cols, `bits`) matches the m x n result and `q`.
inline status check_requantized_output(const requantization& q, int bits, std::size_t rows, std::size_t cols,
                                       const void* data, gemm_shape s) noexcept {
  MPQ_TRY(check_requantization(q));
  if (q.bits != bits)
    return status::failure(errc::invalid_argument,
                           "requantization.bits = %d but the output view holds %d-bit codes", q.bits, bits);
  if (rows != s.m || cols != s.n)
    return status::failure(errc::shape_mismatch,
                           "requantized output is %zu x %zu but the result is M x N = %zu x %zu", rows, cols, s.m,
                           s.n);
  if (data == nullptr && rows != 0 && cols != 0)
    return status::failure(errc::invalid_argument, "requantized output: data is null");
  return {};
}

}  // namespace mpq::kernel
