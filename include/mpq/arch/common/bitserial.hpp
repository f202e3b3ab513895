// Portable bit-serial kernel: popcount(w_plane & a_plane) over every pair of bit-planes, weighted by
// the planes' place values (std::popcount: popcnt on x86, cnt on Arm).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "mpq/arch/isa.hpp"
#include "mpq/config.hpp"
#include "mpq/kernel/microkernel_args.hpp"

namespace mpq::kernel {

namespace detail_common {
/// 8 bytes as a little-endian word: bit i of the result is code i of a bitplane byte run.
MPQ_ALWAYS_INLINE std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}
/// Weight of popcount(w_i & a_j) in the dot product: c_i 2^j, where c_i = 2^i except for the top
/// weight plane, which counts negative in two's complement (-2^(W-1)).
template <int W>
constexpr std::int64_t plane_pair_weight(int i, int j) noexcept {
  const std::int64_t ci = i == W - 1 ? -(std::int64_t{1} << i) : (std::int64_t{1} << i);
  return ci * (std::int64_t{1} << j);
}
}  // namespace detail_common

/// @brief Register block of the portable bitserial kernel: one row of each.
template <int W, int A, class Arch>
constexpr bitserial_traits bitserial_block_traits(Arch, arch::requires_arch<arch::common>) noexcept {
  return {1, 1};
}

/// @brief common_bitserial_w{W}a{A}: S for MR x NR (bitserial_block_args).
template <int W, int A, int MR, int NR, class Arch>
void bitserial_block(const bitserial_block_args& g, Arch, arch::requires_arch<arch::common>) noexcept {
  const std::size_t plane_bytes = g.words * 8;
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < NR; ++n) {
      const std::uint8_t* w = g.w + static_cast<std::size_t>(n) * g.w_stride;
      const std::uint64_t* a = g.a + static_cast<std::size_t>(m) * g.a_stride;
      std::int64_t s = 0;
      for (int i = 0; i < W; ++i) {
        for (int j = 0; j < A; ++j) {
          std::int64_t count = 0;
          for (std::size_t k = 0; k < g.words; ++k)
            count += std::popcount(detail_common::load_le64(w + static_cast<std::size_t>(i) * plane_bytes + 8 * k) &
                                   a[static_cast<std::size_t>(j) * g.words + k]);
          s += detail_common::plane_pair_weight<W>(i, j) * count;
        }
      }
      g.s[m * g.lds + n] = static_cast<std::int32_t>(s);
    }
}

}  // namespace mpq::kernel
