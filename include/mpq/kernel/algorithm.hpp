// Kernel algorithms, the weight formats they read, the ISA levels mpq compiles kernels for, and the
// measured choice table: which algorithm each (ISA, W, A) uses (docs/kernels.md, "Choice table").
#pragma once

#include <cstdint>

namespace mpq::kernel {

/// @brief The integer dot-product algorithms (one contract: exact int32 sums, docs/kernels.md).
enum class algorithm : std::uint8_t {
  unpack_dot,  ///< unpack W-bit fields to int8 in registers, then u8 x s8 multiply-add (vpmaddubsw,
               ///< vpmaddwd, vpdpbusd, udot); weights in split_planes rows
  lut,         ///< T-MAC style: per group of 4 activations a 16-entry table of subset sums, looked up
               ///< by the weights' bit-plane nibbles (vpshufb); weights in row_tiles
  bitserial,   ///< popcount(w_plane & a_plane) over every pair of bit-planes; weights in bitplane rows
};

constexpr const char* to_string(algorithm a) noexcept {
  switch (a) {
    case algorithm::unpack_dot: return "unpack_dot";
    case algorithm::lut: return "lut";
    case algorithm::bitserial: return "bitserial";
  }
  return "unknown";
}

/// @brief The instruction-set levels mpq has kernels for, lowest first. `common` is xsimd's
/// portable batch code (any ISA xsimd knows, or scalar).
enum class isa : std::uint8_t { common = 0, avx2, avx512vnni, neon64, neon64_dotprod };

constexpr const char* to_string(isa i) noexcept {
  switch (i) {
    case isa::common: return "common";
    case isa::avx2: return "avx2";
    case isa::avx512vnni: return "avx512vnni";
    case isa::neon64: return "neon64";
    case isa::neon64_dotprod: return "neon64_dotprod";
  }
  return "unknown";
}

/// @brief The best ISA the compile flags of this translation unit enable (static dispatch).
/// avx512vnni needs AVX-512 F/BW/VL and VNNI; avx2 needs AVX2 and FMA; neon64_dotprod needs
/// aarch64 with the dot-product extension (-march=armv8.2-a+dotprod).
inline constexpr isa compiled_isa =
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) && \
    defined(__AVX2__) && defined(__FMA__)
    isa::avx512vnni
#elif defined(__AVX2__) && defined(__FMA__)
    isa::avx2
#elif defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
    isa::neon64_dotprod
#elif defined(__aarch64__) && defined(__ARM_NEON)
    isa::neon64
#else
    isa::common
#endif
    ;

/// @brief The algorithm mpq's kernels use for W-bit weights and A-bit activations on ISA `i`.
///
/// Chosen by measurement on the machines in docs/kernel_results.md (the table and the reasoning are
/// in docs/kernels.md). On x86: LUT where the weights have few bit-planes, unpack-to-int8 otherwise.
/// neon64 choices are by operation count, not measured (the only Arm available is qemu).
constexpr algorithm choose_algorithm(isa i, int w_bits, int a_bits) noexcept {
  switch (i) {
    case isa::avx512vnni:
      // One plane pair: popcount(w & a) on zmm (vpopcntq) beats the tables (GEMM W1A1 1.4 against
      // 2.0 ms). Two or more pairs cost more popcounts than LUT lookups.
      // (Without VPOPCNTDQ compiled in, the bitserial kernel counts bytes with vpshufb instead: slower.)
      if (w_bits == 1 && a_bits == 1) return algorithm::bitserial;
      [[fallthrough]];
    case isa::avx2:
      // LUT cost grows with W * ceil(A / 4) table lookups per 128 MACs; unpack cost with the parts
      // of W. LUT wins while the weights have at most 3 planes.
      if (w_bits <= 3) return algorithm::lut;
      if (w_bits == 4 && a_bits <= 2) return algorithm::lut;
      return algorithm::unpack_dot;
    case isa::neon64:
    case isa::neon64_dotprod:
    case isa::common:
      break;
  }
  (void)a_bits;
  return algorithm::unpack_dot;
}

}  // namespace mpq::kernel
