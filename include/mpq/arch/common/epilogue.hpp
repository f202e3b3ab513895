// Portable epilogue on xsimd batches: int32 sums -> exact accumulators -> float (scale, bias) -> codes,
// with the same operations and roundings as the scalar epilogue (kernel/epilogue.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "mpq/arch/isa.hpp"
#include "mpq/config.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/kernel/microkernel_args.hpp"

namespace mpq::kernel {

namespace detail_common {

/// Keeps the compiler from fusing the rounded product into the following add (see fp_barrier).
template <class X>
MPQ_ALWAYS_INLINE void fp_barrier(xsimd::batch<float, X>& b) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+v"(b.data));
#elif defined(__GNUC__) && (defined(__aarch64__) || defined(__ARM_NEON))
  __asm__("" : "+w"(b.data));
#else
  alignas(64) float tmp[xsimd::batch<float, X>::size];
  b.store_aligned(tmp);
  volatile float keep = tmp[0];
  tmp[0] = keep;
  b = xsimd::batch<float, X>::load_aligned(tmp);
#endif
}

}  // namespace detail_common

/// @brief common_epilogue: epilogue_row_args on xsimd batches, scalar tail.
template <class Arch>
void epilogue_row(const epilogue_row_args& g, Arch, arch::requires_arch<arch::common>) noexcept {
  using X = typename Arch::xsimd_arch;
  using bi = xsimd::batch<std::int32_t, X>;
  using bf = xsimd::batch<float, X>;
  constexpr std::size_t L = bf::size;
  static_assert(bi::size == L);
  requantization rq;
  rq.inverse_step = g.inverse_step;
  rq.zero_point = g.zero_point;
  rq.code_lo = g.code_lo;
  rq.code_hi = g.code_hi;
  const bi a_term(static_cast<std::int32_t>(g.a_term)), w_mul(static_cast<std::int32_t>(g.w_mul));
  const bf inv(g.inverse_step);
  const bf lo_f(static_cast<float>(g.code_lo - g.zero_point)), hi_f(static_cast<float>(g.code_hi - g.zero_point));
  const bi zp(g.zero_point);
  std::size_t i = 0;
  for (; i + L <= g.count; i += L) {
    const bi acc = bi::load_unaligned(g.s + i) - a_term - w_mul * bi::load_unaligned(g.sum_w + i);
    bf v = xsimd::batch_cast<float>(acc) * (g.scale_per_tensor ? bf(g.scale[0]) : bf::load_unaligned(g.scale + i));
    if (g.bias) {
      detail_common::fp_barrier(v);
      v = v + (g.bias_per_tensor ? bf(g.bias[0]) : bf::load_unaligned(g.bias + i));
    }
    if (g.values) {
      v.store_unaligned(g.values + i);
    } else {
      bf r = xsimd::nearbyint(v * inv);
      r = xsimd::select(r != r, bf(0.0f), r);  // NaN -> the zero point's code (clamped below)
      r = xsimd::min(xsimd::max(r, lo_f), hi_f);
      (xsimd::batch_cast<std::int32_t>(r) + zp).store_unaligned(g.codes + i);
    }
  }
  for (; i < g.count; ++i) {
    const auto acc = static_cast<std::int32_t>(static_cast<std::uint32_t>(g.s[i]) - g.a_term -
                                               g.w_mul * static_cast<std::uint32_t>(g.sum_w[i]));
    const float scale = g.scale_per_tensor ? g.scale[0] : g.scale[i];
    const float bias = g.bias ? (g.bias_per_tensor ? g.bias[0] : g.bias[i]) : 0.0f;
    const float v = dequantize_output(4 * std::int64_t{acc}, scale, bias, g.bias != nullptr);
    if (g.values)
      g.values[i] = v;
    else
      g.codes[i] = requantize_output(v, rq);
  }
}

}  // namespace mpq::kernel
