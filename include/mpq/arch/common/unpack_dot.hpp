// Portable unpack-to-int8 kernel on xsimd batches: split_planes weights decoded to offset-binary
// bytes, multiplied by uint8 activations in uint16 lanes and summed in uint32 (every ISA xsimd knows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "mpq/arch/isa.hpp"
#include "mpq/config.hpp"
#include "mpq/kernel/microkernel_args.hpp"
#include "mpq/kernel/split_planes.hpp"

namespace mpq::kernel {

namespace detail_common {

/// The xsimd arch the portable kernels use for Arch: its own, but at most 32 bytes wide (a
/// split_planes chunk is 32 bytes and its codes are not contiguous beyond it).
template <class Arch>
using chunk_arch =
    std::conditional_t<(xsimd::batch<std::uint8_t, typename Arch::xsimd_arch>::size > 32),
#if defined(__AVX2__)
                       xsimd::avx2,
#else
                       typename Arch::xsimd_arch,
#endif
                       typename Arch::xsimd_arch>;

}  // namespace detail_common

/// @brief Portable unpack_dot: offset-binary weights (u = w + 2^(W-1)), uint8 activations.
template <int W, int A, class Arch>
constexpr unpack_traits unpack_dot_traits(Arch, arch::requires_arch<arch::common>) noexcept {
  unpack_traits t;
  t.weight_offset = 1 << (W - 1);
  t.mr = 1;
  t.nr = 4;
  return t;
}

/// @brief common_unpack_dot_w{W}a{A}: S for MR x NR (unpack_block_args), uint16 products, uint32 sums.
template <int W, int A, int MR, int NR, class Arch>
void unpack_dot_block(const unpack_block_args& g, Arch, arch::requires_arch<arch::common>) noexcept {
  using X = detail_common::chunk_arch<Arch>;
  using b8 = xsimd::batch<std::uint8_t, X>;
  using b16 = xsimd::batch<std::uint16_t, X>;
  using b32 = xsimd::batch<std::uint32_t, X>;
  constexpr std::size_t lanes = b8::size;
  static_assert(32 % lanes == 0, "mpq: portable kernels need batches that divide a 32-byte chunk");
  constexpr std::size_t block = split_planes::col_block(W);
  constexpr std::size_t block_bytes = split_planes::row_bytes(W, block);
  constexpr field_split fs = field_split::of(W);
  constexpr std::size_t regions[3] = {0, block * static_cast<std::size_t>(fs.width[0]) / 8,
                                      block * static_cast<std::size_t>(fs.width[0] + fs.width[1]) / 8};

  b32 acc[MR][NR];
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < NR; ++n) acc[m][n] = b32(0u);
  const b16 low_byte(0x00FFu);
  const b32 low_half(0xFFFFu);
  const b8 flip(static_cast<std::uint8_t>(1u << (W - 1)));

  for (std::size_t b = 0; b < g.padded_cols; b += block) {
    for (std::size_t s = 0; s < block / 32; ++s)
      for (std::size_t piece = 0; piece < 32; piece += lanes) {
        b8 av[MR];
        for (int m = 0; m < MR; ++m) av[m] = b8::load_aligned(g.a + m * g.a_stride + b + 32 * s + piece);
        for (int n = 0; n < NR; ++n) {
          const std::uint8_t* wb = g.w + n * g.w_stride + b / block * block_bytes;
          b8 u(std::uint8_t{0});
          for (int q = 0; q < fs.count; ++q) {
            const int p = fs.width[q];
            const std::size_t per_chunk = static_cast<std::size_t>(8 / p);
            const std::size_t chunk = s / per_chunk, t = s % per_chunk;
            const b8 v = b8::load_aligned(wb + regions[q] + chunk * 32 + piece);
            const b8 mask(static_cast<std::uint8_t>((1u << p) - 1u));
            u = u | (((v >> static_cast<int>(t * static_cast<std::size_t>(p))) & mask) << fs.shift[q]);
          }
          u = u ^ flip;  // two's complement -> offset binary
          const b16 u16 = xsimd::bitwise_cast<b16>(u);
          for (int m = 0; m < MR; ++m) {
            const b16 a16 = xsimd::bitwise_cast<b16>(av[m]);
            // even and odd bytes as uint16; each product <= 255 * 255 fits.
            const b16 even = (u16 & low_byte) * (a16 & low_byte);
            const b16 odd = (u16 >> 8) * (a16 >> 8);
            const b32 e32 = xsimd::bitwise_cast<b32>(even), o32 = xsimd::bitwise_cast<b32>(odd);
            acc[m][n] = acc[m][n] + (e32 & low_half) + (e32 >> 16) + (o32 & low_half) + (o32 >> 16);
          }
        }
      }
  }
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < NR; ++n) g.s[m * g.lds + n] = static_cast<std::int32_t>(xsimd::hadd(acc[m][n]));
}

}  // namespace mpq::kernel
