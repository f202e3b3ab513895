// The Cortex-M4/M7 backend of mpq::embedded::engine: each layer's integer GEMM with SMLAD
// (arch/cortex_m/smlad.hpp) on activations staged as int16 in the kernel's pair order. No heap.
// Compiles to nothing unless __ARM_FEATURE_DSP (or MPQ_CORTEX_M_EMULATE_DSP for host tests).
#pragma once

#include "mpq/arch/cortex_m/smlad.hpp"

#if defined(__ARM_FEATURE_DSP) || defined(MPQ_CORTEX_M_EMULATE_DSP)

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/embedded/engine.hpp"
#include "mpq/embedded/layer.hpp"
#include "mpq/packed/interleaved.hpp"

namespace mpq::embedded {

/// @brief Staging rows for the SMLAD kernels: int16 codes, rows of round_up(K, 64) values (the
/// weights' padded length) in smlad_format<W> order, padding zero.
template <Layer L>
struct smlad_rows {
  using format = arch::cortex_m::smlad_format<L::weight_bits>;
  static constexpr std::size_t padded_k = round_up(L::k, interleaved::col_block(L::weight_bits));
  static_assert(padded_k % 8 == 0 && padded_k % format::group == 0, "staging rows hold whole kernel groups");
  static constexpr std::size_t bytes(std::size_t rows) noexcept { return rows * padded_k * sizeof(std::int16_t); }

  std::uint8_t* data = nullptr;

  std::int16_t* row(std::size_t r) const noexcept { return reinterpret_cast<std::int16_t*>(data) + r * padded_k; }
  void clear_row(std::size_t r) const noexcept { std::memset(row(r), 0, padded_k * sizeof(std::int16_t)); }
  MPQ_ALWAYS_INLINE void set(std::size_t r, std::size_t k, std::int32_t code) const noexcept {
    row(r)[format::position(k)] = static_cast<std::int16_t>(code);
  }
};

/// @brief Backend: SMLAD kernels, four staged rows per pass over a weight row (a 2x2 pooling
/// window, or four conv pixels), one for fully connected layers.
struct cortex_m_dsp_backend {
  static constexpr const char* name = "cortex-m dsp (smlad)";

  template <Layer L>
  using layer_state = stateless_layer<L>;
  template <Layer L>
  using rows = smlad_rows<L>;
  template <Layer L>
  static constexpr std::size_t chunk_windows = L::is_conv && L::window_rows < 4 ? 4 / L::window_rows : 1;

  template <Layer L>
  static status gemm(const layer_state<L>&, const typename L::params& p, const rows<L>& a, std::size_t nrows,
                     std::int32_t* acc) noexcept {
    static_assert(L::k <= rows<L>::format::max_k(L::activation_bits),
                  "cortex_m_dsp_backend: K is past the SMLAD kernels' exact bound K * 128 * (2^A - 1) <= 2^31 - 1");
    constexpr std::size_t N = L::n, stride = rows<L>::padded_k;
    constexpr std::size_t row_stride = L::weights_type::row_stride;
    const std::uint8_t* const weights = p.weights.bytes.data();
    for (std::size_t n = 0; n < N; ++n) {
      const std::uint8_t* w = weights + n * row_stride;
      std::size_t r = 0;
      std::int32_t out[4];
      for (; r + 4 <= nrows; r += 4) {
        arch::cortex_m::smlad_dot_rows<L::weight_bits, 4>(w, a.row(r), stride, stride, out);
        for (std::size_t i = 0; i < 4; ++i) acc[(r + i) * N + n] = out[i];
      }
      for (; r < nrows; ++r) {
        arch::cortex_m::smlad_dot_rows<L::weight_bits, 1>(w, a.row(r), stride, stride, out);
        acc[r * N + n] = out[0];
      }
    }
    return {};
  }
};

}  // namespace mpq::embedded

#endif  // __ARM_FEATURE_DSP || MPQ_CORTEX_M_EMULATE_DSP
