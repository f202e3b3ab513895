// mpq's kernel arch tags: an inheritance chain (xsimd's idiom) so a kernel overload taking
// requires_arch<avx2> also serves avx512vnni, and anything without an overload falls back to common.
#pragma once

#include <type_traits>

#include "mpq/arch/xsimd_include.hpp"
#include "mpq/kernel/algorithm.hpp"

namespace mpq::arch {

/// @brief A kernel implementation for Arch takes `requires_arch<Arch>` last; a tag of a derived
/// arch binds to it (xsimd's requires_arch idiom), so the most derived implementation wins.
/// Implementations are also templated on the concrete tag, so every instantiation names the arch it
/// was compiled for (no two translation units of a runtime-dispatch build define the same symbol
/// with different instructions).
template <class Arch>
using requires_arch = const Arch&;

/// @brief The root of the chain: the portable kernels (xsimd batches, or scalar loops).
struct common {
  static constexpr kernel::isa id = kernel::isa::common;
};

/// @brief The portable kernels on xsimd batches of xsimd arch X (sse2, avx, neon, ...).
template <class X>
struct generic : common {
  static constexpr kernel::isa id = kernel::isa::common;
  static constexpr const char* name() noexcept { return "common"; }
  using xsimd_arch = X;
};

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
/// @brief AVX2 + FMA intrinsics (vpmaddubsw, vpmaddwd, vpshufb on ymm).
struct avx2 : common {
  static constexpr kernel::isa id = kernel::isa::avx2;
  static constexpr const char* name() noexcept { return "avx2"; }
  using xsimd_arch = xsimd::fma3<xsimd::avx2>;
};
/// @brief AVX-512 F/BW/VL + VNNI (vpdpbusd; vpopcntq when VPOPCNTDQ is enabled too), ymm-wide:
/// Zen 4 executes zmm as two ymm halves, so ymm kernels lose nothing there and share AVX2's formats.
/// Its kernels call AVX-512 instructions through the helpers of arch/avx512/instructions.hpp.
struct avx512vnni : avx2 {
  static constexpr kernel::isa id = kernel::isa::avx512vnni;
  static constexpr const char* name() noexcept { return "avx512vnni"; }
  using xsimd_arch = xsimd::avx512bw;
};
/// @brief The avx512vnni kernels with every AVX-512 instruction replaced by its exact software model
/// (arch/avx512/models.hpp, AVX2 code): runs the avx512vnni code paths bit for bit on an AVX2 CPU, so
/// tests check their logic on machines without AVX-512. A test tag: slower than avx2, never dispatched.
struct avx512vnni_model : avx512vnni {
  static constexpr const char* name() noexcept { return "avx512vnni_model"; }
  using xsimd_arch = xsimd::fma3<xsimd::avx2>;
};
#endif

#if defined(__aarch64__)
/// @brief AArch64 NEON (vmull/vpadal widening multiply-adds).
struct neon64 : common {
  static constexpr kernel::isa id = kernel::isa::neon64;
  static constexpr const char* name() noexcept { return "neon64"; }
  using xsimd_arch = xsimd::neon64;
};
/// @brief NEON with the dot-product extension (udot), -march=armv8.2-a+dotprod.
struct neon64_dotprod : neon64 {
  static constexpr kernel::isa id = kernel::isa::neon64_dotprod;
  static constexpr const char* name() noexcept { return "neon64_dotprod"; }
};
#endif

/// @brief The tag for the best kernels this translation unit's flags enable (static dispatch).
using best_arch =
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) && \
    defined(__AVX2__) && defined(__FMA__)
    avx512vnni
#elif defined(__AVX2__) && defined(__FMA__)
    avx2
#elif defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
    neon64_dotprod
#elif defined(__aarch64__)
    neon64
#else
    generic<xsimd::default_arch>
#endif
    ;

static_assert(best_arch::id == kernel::compiled_isa, "mpq: arch tag and compiled_isa disagree");

}  // namespace mpq::arch
