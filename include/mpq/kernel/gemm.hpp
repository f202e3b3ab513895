// The public kernel front end: dot, gemv and gemm over prepacked weights and packed activations, with
// compile-time bits (gemv<4, 8>(...)) or runtime bits, static dispatch to the best compiled ISA.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "mpq/arch/kernels.hpp"
#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/kernel/checks.hpp"
#include "mpq/kernel/driver.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/kernel/executor.hpp"
#include "mpq/kernel/operands.hpp"
#include "mpq/kernel/packed_weights.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/packed/view.hpp"

namespace mpq::kernel {

// Conventions (docs/kernels.md): gemv y[n] = sum_k W[n][k] a[k]; gemm C[m][n] = sum_k A[m][k] W[n][k];
// W signed W-bit codes prepacked once (packed_weights), activations A-bit codes in any packed layout.
// Every entry point validates first and writes nothing on failure. `try_` forms return mpq::status,
// the others throw mpq::error (or call the error handler without exceptions). The Arch template
// argument defaults to the best ISA the translation unit's flags enable.

namespace detail {

inline status check_weights(const packed_weights& w, int expected_bits) noexcept {
  if (w.bits() == 0)
    return status::failure(errc::invalid_argument, "weights: an empty packed_weights (build it with prepack)");
  if (expected_bits != 0 && w.bits() != expected_bits)
    return status::failure(errc::invalid_argument,
                           "weights hold %d-bit codes but the kernel was called for W = %d", w.bits(), expected_bits);
  return {};
}

inline status check_operands(const packed_weights& w, int w_bits, int a_bits, std::size_t a_rows, std::size_t a_cols,
                             const void* a_data) noexcept {
  MPQ_TRY(check_weights(w, w_bits));
  MPQ_TRY(check_packable_bits(a_bits, "activation bits"));
  if (a_data == nullptr && a_rows != 0 && a_cols != 0)
    return status::failure(errc::invalid_argument, "activations: data is null for a %zu x %zu view", a_rows, a_cols);
  return check_gemm_operands(w.bits(), a_bits, w.rows(), w.cols(), a_rows, a_cols);
}

/// The output of a call, validated against the result shape.
inline status make_int32_output(std::span<std::int32_t> c, gemm_shape s, std::size_t ldc, output_spec& out) noexcept {
  MPQ_TRY(check_output_matrix("gemm output", c.size(), s, ldc));
  out.what = output_spec::kind::int32;
  out.acc = c.data();
  out.ldc = ldc;
  return {};
}
inline status make_float_output(const dequantization& dq, std::span<float> c, gemm_shape s, std::size_t ldc,
                                output_spec& out) noexcept {
  MPQ_TRY(check_dequantization(dq, s.n));
  MPQ_TRY(check_output_matrix("gemm output", c.size(), s, ldc));
  out.what = output_spec::kind::float32;
  out.values = c.data();
  out.ldc = ldc;
  out.dq = &dq;
  return {};
}
template <int AO, PackedLayout LO>
status make_code_output(const dequantization& dq, const requantization& rq, const packed_span<AO, unsigned_codes, LO>& o,
                        gemm_shape s, output_spec& out) noexcept {
  MPQ_TRY(check_dequantization(dq, s.n));
  MPQ_TRY(check_requantized_output(rq, AO, o.rows, o.cols, o.data, s));
  out.what = output_spec::kind::requantized;
  out.dq = &dq;
  out.rq = &rq;
  out.writer = make_code_writer(o);
  return {};
}

template <int W, int A, class Arch>
void run_decoded(const packed_weights& w, const decoded_activations& a, const output_spec& out, const executor_ref& ex) {
  gemm_kernel<W, A, Arch>::run(w, a, out, ex);
}

/// gemm_kernel<W, A, Arch>::run for runtime (W, A): one table of the 64 compiled pairs.
template <class Arch>
void run_runtime_bits(const packed_weights& w, const decoded_activations& a, const output_spec& out,
                      const executor_ref& ex) {
  using fn = void (*)(const packed_weights&, const decoded_activations&, const output_spec&, const executor_ref&);
  static constexpr std::array<fn, 64> table = []<int... I>(std::integer_sequence<int, I...>) {
    return std::array<fn, 64>{&run_decoded<I / 8 + 1, I % 8 + 1, Arch>...};
  }(std::make_integer_sequence<int, 64>{});
  table[static_cast<std::size_t>((w.bits() - 1) * 8 + (a.bits - 1))](w, a, out, ex);
}

}  // namespace detail

// ---- compile-time bits -------------------------------------------------------------------------------

/// @brief C[m * ldc + n] = sum_k A[m][k] W[n][k] (exact int32).
template <int W, int A, class Arch = arch::best_arch, signedness SA, PackedLayout LA, Executor E = serial_executor>
status try_gemm(const packed_view<A, SA, LA>& a, const packed_weights& w, std::span<std::int32_t> c, std::size_t ldc,
                const E& ex = {}) {
  MPQ_TRY(detail::check_operands(w, W, A, a.rows, a.cols, a.data));
  output_spec out;
  MPQ_TRY(detail::make_int32_output(c, {a.rows, w.rows(), w.cols()}, ldc, out));
  gemm_kernel<W, A, Arch>::run(w, activation_codes::decode(a, ex, detail::bitserial_words(w)).get(), out, ex);
  return {};
}

/// @brief C[m * ldc + n] = the dequantized output (kernel/epilogue.hpp).
template <int W, int A, class Arch = arch::best_arch, signedness SA, PackedLayout LA, Executor E = serial_executor>
status try_gemm(const packed_view<A, SA, LA>& a, const packed_weights& w, const dequantization& dq,
                std::span<float> c, std::size_t ldc, const E& ex = {}) {
  MPQ_TRY(detail::check_operands(w, W, A, a.rows, a.cols, a.data));
  output_spec out;
  MPQ_TRY(detail::make_float_output(dq, c, {a.rows, w.rows(), w.cols()}, ldc, out));
  gemm_kernel<W, A, Arch>::run(w, activation_codes::decode(a, ex, detail::bitserial_words(w)).get(), out, ex);
  return {};
}

/// @brief out(m, n) = the requantized code (unsigned AO-bit, ReLU folded in by rq), ready to be the
/// next layer's activations.
template <int W, int A, class Arch = arch::best_arch, signedness SA, PackedLayout LA, int AO, PackedLayout LO,
          Executor E = serial_executor>
status try_gemm(const packed_view<A, SA, LA>& a, const packed_weights& w, const dequantization& dq,
                const requantization& rq, const packed_span<AO, unsigned_codes, LO>& out_codes, const E& ex = {}) {
  MPQ_TRY(detail::check_operands(w, W, A, a.rows, a.cols, a.data));
  output_spec out;
  MPQ_TRY(detail::make_code_output(dq, rq, out_codes, {a.rows, w.rows(), w.cols()}, out));
  gemm_kernel<W, A, Arch>::run(w, activation_codes::decode(a, ex, detail::bitserial_words(w)).get(), out, ex);
  return {};
}

/// @brief y[n] = sum_k W[n][k] a[k] (exact int32); `a` has one row.
template <int W, int A, class Arch = arch::best_arch, signedness SA, PackedLayout LA, Executor E = serial_executor>
status try_gemv(const packed_weights& w, const packed_view<A, SA, LA>& a, std::span<std::int32_t> y,
                const E& ex = {}) {
  MPQ_TRY(check_gemv_rows(a.rows));
  return try_gemm<W, A, Arch>(a, w, y, w.rows(), ex);
}

/// @brief y[n] = the dequantized output of channel n.
template <int W, int A, class Arch = arch::best_arch, signedness SA, PackedLayout LA, Executor E = serial_executor>
status try_gemv(const packed_weights& w, const packed_view<A, SA, LA>& a, const dequantization& dq,
                std::span<float> y, const E& ex = {}) {
  MPQ_TRY(check_gemv_rows(a.rows));
  return try_gemm<W, A, Arch>(a, w, dq, y, w.rows(), ex);
}

/// @brief out(0, n) = the requantized code of channel n (`out` is 1 x N).
template <int W, int A, class Arch = arch::best_arch, signedness SA, PackedLayout LA, int AO, PackedLayout LO,
          Executor E = serial_executor>
status try_gemv(const packed_weights& w, const packed_view<A, SA, LA>& a, const dequantization& dq,
                const requantization& rq, const packed_span<AO, unsigned_codes, LO>& out, const E& ex = {}) {
  MPQ_TRY(check_gemv_rows(a.rows));
  return try_gemm<W, A, Arch>(a, w, dq, rq, out, ex);
}

/// @brief sum_k W[n][k] a[k] for one output channel n (exact int32).
template <int W, int A, class Arch = arch::best_arch, signedness SA, PackedLayout LA>
expected<std::int32_t> try_dot(const packed_weights& w, std::size_t n, const packed_view<A, SA, LA>& a) {
  MPQ_TRY(check_gemv_rows(a.rows));
  MPQ_TRY(detail::check_operands(w, W, A, a.rows, a.cols, a.data));
  if (n >= w.rows())
    return status::failure(errc::out_of_range, "dot: row %zu of weights with %zu rows", n, w.rows());
  const std::size_t first = w.algorithm() == algorithm::lut ? n / row_tiles::tile_rows * row_tiles::tile_rows : n;
  const std::size_t count = w.algorithm() == algorithm::lut ? std::min(row_tiles::tile_rows, w.rows() - first) : 1;
  const packed_weights rows = w.try_slice(first, count).value();
  std::array<std::int32_t, row_tiles::tile_rows> y{};
  output_spec out;
  out.acc = y.data();
  out.ldc = count;
  gemm_kernel<W, A, Arch>::run(rows, activation_codes::decode(a).get(), out, serial_executor{});
  return y[n - first];
}

// Throwing forms: the same arguments, mpq::error on failure.
template <int W, int A, class Arch = arch::best_arch, class... Args>
void gemm(Args&&... args) {
  throw_if_error(try_gemm<W, A, Arch>(std::forward<Args>(args)...));
}
template <int W, int A, class Arch = arch::best_arch, class... Args>
void gemv(Args&&... args) {
  throw_if_error(try_gemv<W, A, Arch>(std::forward<Args>(args)...));
}
template <int W, int A, class Arch = arch::best_arch, class... Args>
std::int32_t dot(Args&&... args) {
  return try_dot<W, A, Arch>(std::forward<Args>(args)...).value();
}

// ---- runtime bits (what a bitwidth search returns) ---------------------------------------------------

/// @brief gemm with the weights' bits and the activations' runtime bits: dispatches to the compiled
/// kernel of that (W, A) pair (one of 64).
template <class Arch = arch::best_arch, PackedLayout LA, Executor E = serial_executor>
status try_gemm(const runtime_view<LA>& a, const packed_weights& w, std::span<std::int32_t> c, std::size_t ldc,
                const E& ex = {}) {
  MPQ_TRY(detail::check_operands(w, 0, a.bits, a.rows, a.cols, a.data));
  output_spec out;
  MPQ_TRY(detail::make_int32_output(c, {a.rows, w.rows(), w.cols()}, ldc, out));
  detail::run_runtime_bits<Arch>(w, activation_codes::decode(a, ex, detail::bitserial_words(w)).get(), out, ex);
  return {};
}

template <class Arch = arch::best_arch, PackedLayout LA, Executor E = serial_executor>
status try_gemm(const runtime_view<LA>& a, const packed_weights& w, const dequantization& dq, std::span<float> c,
                std::size_t ldc, const E& ex = {}) {
  MPQ_TRY(detail::check_operands(w, 0, a.bits, a.rows, a.cols, a.data));
  output_spec out;
  MPQ_TRY(detail::make_float_output(dq, c, {a.rows, w.rows(), w.cols()}, ldc, out));
  detail::run_runtime_bits<Arch>(w, activation_codes::decode(a, ex, detail::bitserial_words(w)).get(), out, ex);
  return {};
}

template <class Arch = arch::best_arch, PackedLayout LA, int AO, PackedLayout LO, Executor E = serial_executor>
status try_gemm(const runtime_view<LA>& a, const packed_weights& w, const dequantization& dq,
                const requantization& rq, const packed_span<AO, unsigned_codes, LO>& out_codes, const E& ex = {}) {
  MPQ_TRY(detail::check_operands(w, 0, a.bits, a.rows, a.cols, a.data));
  output_spec out;
  MPQ_TRY(detail::make_code_output(dq, rq, out_codes, {a.rows, w.rows(), w.cols()}, out));
  detail::run_runtime_bits<Arch>(w, activation_codes::decode(a, ex, detail::bitserial_words(w)).get(), out, ex);
  return {};
}

/// @brief gemv with runtime bits; `a` has one row.
template <class Arch = arch::best_arch, PackedLayout LA, Executor E = serial_executor>
status try_gemv(const packed_weights& w, const runtime_view<LA>& a, std::span<std::int32_t> y, const E& ex = {}) {
  MPQ_TRY(check_gemv_rows(a.rows));
  return try_gemm<Arch>(a, w, y, w.rows(), ex);
}

template <class Arch = arch::best_arch, PackedLayout LA, Executor E = serial_executor>
status try_gemv(const packed_weights& w, const runtime_view<LA>& a, const dequantization& dq, std::span<float> y,
                const E& ex = {}) {
  MPQ_TRY(check_gemv_rows(a.rows));
  return try_gemm<Arch>(a, w, dq, y, w.rows(), ex);
}

template <class Arch = arch::best_arch, PackedLayout LA, int AO, PackedLayout LO, Executor E = serial_executor>
status try_gemv(const packed_weights& w, const runtime_view<LA>& a, const dequantization& dq,
                const requantization& rq, const packed_span<AO, unsigned_codes, LO>& out, const E& ex = {}) {
  MPQ_TRY(check_gemv_rows(a.rows));
  return try_gemm<Arch>(a, w, dq, rq, out, ex);
}

// Throwing runtime-bits forms.
template <class Arch = arch::best_arch, class... Args>
void gemm(Args&&... args) {
  throw_if_error(try_gemm<Arch>(std::forward<Args>(args)...));
}
template <class Arch = arch::best_arch, class... Args>
void gemv(Args&&... args) {
  throw_if_error(try_gemv<Arch>(std::forward<Args>(args)...));
}

}  // namespace mpq::kernel
