// The host backend of mpq::embedded::engine: the integer GEMM of every layer through mpq's SIMD
// kernel front end (kernel/gemm.hpp, static dispatch to the best ISA the flags enable). Weights are
// prepacked once when the engine is built (heap: this backend is for hosts, not for firmware).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/error.hpp"
#include "mpq/embedded/engine.hpp"
#include "mpq/embedded/layer.hpp"
#include "mpq/kernel/gemm.hpp"
#include "mpq/kernel/packed_weights.hpp"

namespace mpq::embedded {

/// @brief Backend: kernel::try_gemm<W, A, Arch> (int32 output) on packed staging rows; up to
/// `windows_per_call` pooling windows per call so a convolution is a few large GEMMs. The sums are
/// exact, so the outputs are bit-identical to reference_backend's and to the Cortex-M4 backend's.
template <class Arch = arch::best_arch, std::size_t WindowsPerCall = 64>
struct basic_simd_backend {
  static constexpr const char* name = "simd";

  template <Layer L>
  struct layer_state {
    kernel::packed_weights weights;
    explicit layer_state(const typename L::params& p)
        : weights(kernel::packed_weights::prepack_for(p.weights.view(), L::activation_bits)) {}
  };
  template <Layer L>
  using rows = packed_rows<L>;
  template <Layer L>
  static constexpr std::size_t chunk_windows = L::windows < WindowsPerCall ? L::windows : WindowsPerCall;

  template <Layer L>
  static status gemm(const layer_state<L>& st, const typename L::params&, const rows<L>& a, std::size_t nrows,
                     std::int32_t* acc) {
    return kernel::try_gemm<L::weight_bits, L::activation_bits, Arch>(
        a.view(nrows), st.weights, std::span<std::int32_t>(acc, nrows * L::n), L::n);
  }
};

/// @brief The SIMD backend on the best ISA of this translation unit's flags.
using simd_backend = basic_simd_backend<>;

}  // namespace mpq::embedded
