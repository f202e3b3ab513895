// Opt-in runtime dispatch (xsimd's pattern): each ISA's kernels are compiled in their own translation
// unit with that ISA's flags (MPQ_KERNEL_DISPATCH_INSTANTIATE), and calls through this header, compiled
// with baseline flags, run the best one the CPU has. See examples/kernels/ and docs/kernels.md.
//
// AVX-512 is a second opt-in: the avx512vnni kernels join the dispatch list only where
// MPQ_DISPATCH_AVX512 is defined (CMake: -DMPQ_AVX512=ON defines it for mpq's own programs), and the
// program must then also compile their translation unit. Without it an AVX-512 CPU runs the avx2
// kernels: the AVX-512 paths are verified by compile checks and by exact models of their instructions
// on AVX2 machines (docs/kernels.md), and running them on real hardware should be a deliberate choice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/kernel/gemm.hpp"

namespace mpq::kernel {

namespace dispatch {

/// The kernels a runtime-dispatch program links, one translation unit each, best first.
#if defined(__x86_64__)
using avx512vnni_kernels = arch::avx512vnni;
using avx2_kernels = arch::avx2;
using baseline_kernels = arch::generic<xsimd::sse2>;
#elif defined(__aarch64__)
using dotprod_kernels = arch::neon64_dotprod;
using baseline_kernels = arch::neon64;
#endif

/// @brief True when the avx512vnni kernels are in this program's dispatch list (MPQ_DISPATCH_AVX512).
inline constexpr bool avx512_enabled =
#if defined(__x86_64__) && defined(MPQ_DISPATCH_AVX512)
    true;
#else
    false;
#endif

/// @brief The ISA whose kernels this CPU runs best among those a dispatch build compiles (avx512vnni
/// only when avx512_enabled, and only on CPUs with VPOPCNTDQ and VBMI too: its translation unit is
/// compiled with -mavx512vpopcntdq for the W1A1 bitserial kernel and -mavx512vbmi for the vpermb
/// LUT kernels).
inline isa detect_isa() noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (avx512_enabled && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vpopcntdq") &&
      __builtin_cpu_supports("avx512vbmi") &&
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return isa::avx512vnni;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return isa::avx2;
  return isa::common;
#elif defined(__aarch64__)
  return compiled_isa;  // Arm builds dispatch statically (one kernel set); see docs/kernels.md
#else
  return isa::common;
#endif
}

}  // namespace dispatch

// Each kernel set is defined in its own translation unit (MPQ_KERNEL_DISPATCH_INSTANTIATE below);
// these declarations keep every other translation unit from compiling it with the wrong flags.
#if defined(__x86_64__)
#if defined(MPQ_DISPATCH_AVX512)
extern template void detail::run_runtime_bits<dispatch::avx512vnni_kernels>(const packed_weights&,
                                                                            const decoded_activations&,
                                                                            const output_spec&, const executor_ref&);
#endif
extern template void detail::run_runtime_bits<dispatch::avx2_kernels>(const packed_weights&,
                                                                      const decoded_activations&, const output_spec&,
                                                                      const executor_ref&);
extern template void detail::run_runtime_bits<dispatch::baseline_kernels>(const packed_weights&,
                                                                          const decoded_activations&,
                                                                          const output_spec&, const executor_ref&);
#endif

namespace detail {
inline void run_dispatched(const packed_weights& w, const decoded_activations& a, const output_spec& out,
                           const executor_ref& ex) {
#if defined(__x86_64__)
  switch (dispatch::detect_isa()) {
#if defined(MPQ_DISPATCH_AVX512)
    case isa::avx512vnni: return run_runtime_bits<dispatch::avx512vnni_kernels>(w, a, out, ex);
#endif
    case isa::avx2: return run_runtime_bits<dispatch::avx2_kernels>(w, a, out, ex);
    default: return run_runtime_bits<dispatch::baseline_kernels>(w, a, out, ex);
  }
#else
  run_runtime_bits<arch::best_arch>(w, a, out, ex);
#endif
}
}  // namespace detail

/// @brief gemm with runtime bits on the best kernels this CPU runs (int32 accumulators).
template <PackedLayout LA, Executor E = serial_executor>
status try_gemm_dispatched(const runtime_view<LA>& a, const packed_weights& w, std::span<std::int32_t> c,
                           std::size_t ldc, const E& ex = {}) {
  MPQ_TRY(detail::check_operands(w, 0, a.bits, a.rows, a.cols, a.data));
  output_spec out;
  MPQ_TRY(detail::make_int32_output(c, {a.rows, w.rows(), w.cols()}, ldc, out));
  detail::run_dispatched(w, activation_codes::decode(a, ex, detail::bitserial_words(w)).get(), out, ex);
  return {};
}

/// @brief gemm with runtime bits on the best kernels this CPU runs (dequantized float output).
template <PackedLayout LA, Executor E = serial_executor>
status try_gemm_dispatched(const runtime_view<LA>& a, const packed_weights& w, const dequantization& dq,
                           std::span<float> c, std::size_t ldc, const E& ex = {}) {
  MPQ_TRY(detail::check_operands(w, 0, a.bits, a.rows, a.cols, a.data));
  output_spec out;
  MPQ_TRY(detail::make_float_output(dq, c, {a.rows, w.rows(), w.cols()}, ldc, out));
  detail::run_dispatched(w, activation_codes::decode(a, ex, detail::bitserial_words(w)).get(), out, ex);
  return {};
}

/// @brief gemm with runtime bits on the best kernels this CPU runs (requantized codes).
template <PackedLayout LA, int AO, PackedLayout LO, Executor E = serial_executor>
status try_gemm_dispatched(const runtime_view<LA>& a, const packed_weights& w, const dequantization& dq,
                           const requantization& rq, const packed_span<AO, unsigned_codes, LO>& out_codes,
                           const E& ex = {}) {
  MPQ_TRY(detail::check_operands(w, 0, a.bits, a.rows, a.cols, a.data));
  output_spec out;
  MPQ_TRY(detail::make_code_output(dq, rq, out_codes, {a.rows, w.rows(), w.cols()}, out));
  detail::run_dispatched(w, activation_codes::decode(a, ex, detail::bitserial_words(w)).get(), out, ex);
  return {};
}

}  // namespace mpq::kernel

/// Define one ISA's kernels in the translation unit compiled with that ISA's flags, e.g.
///   // kernels_avx2.cpp, compiled with -mavx2 -mfma
///   #include <mpq/kernel/runtime_dispatch.hpp>
///   MPQ_KERNEL_DISPATCH_INSTANTIATE(mpq::kernel::dispatch::avx2_kernels)
#define MPQ_KERNEL_DISPATCH_INSTANTIATE(ARCH)                                                               \
  template void mpq::kernel::detail::run_runtime_bits<ARCH>(                                               \
      const mpq::kernel::packed_weights&, const mpq::kernel::decoded_activations&,                         \
      const mpq::kernel::output_spec&, const mpq::kernel::executor_ref&);
