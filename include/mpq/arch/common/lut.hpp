// Portable lookup-table kernel: the row_tiles contract of the SIMD LUT kernels in plain loops (the
// fallback for ISAs without a table shuffle kernel, and an independent check of the table layout).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "mpq/arch/isa.hpp"
#include "mpq/config.hpp"
#include "mpq/kernel/microkernel_args.hpp"
#include "mpq/kernel/row_tiles.hpp"

namespace mpq::kernel {

/// @brief common_lut_tables: entry i of a group's table = sum of the group's codes whose bit is set in i.
template <class Arch>
void build_lut_tables(const lut_table_args& g, Arch, arch::requires_arch<arch::common>) noexcept {
  const int tables = g.bits <= 4 ? 1 : 2;
  for (std::size_t grp = 0; grp < g.groups; ++grp) {
    unsigned x[2][4] = {};
    for (std::size_t i = 0; i < 4; ++i) {
      const unsigned u = g.a[4 * grp + i];
      x[0][i] = tables == 1 ? u : (u & 15u);
      x[1][i] = u >> 4;
    }
    for (int t = 0; t < tables; ++t) {
      std::uint8_t* tab = g.tables + (grp * static_cast<std::size_t>(tables) + static_cast<std::size_t>(t)) * 16;
      tab[0] = 0;
      for (unsigned idx = 1; idx < 16; ++idx)
        tab[idx] = static_cast<std::uint8_t>(tab[idx & (idx - 1)] + x[t][std::countr_zero(idx)]);
    }
  }
}

template <int W, int A, class Arch>
constexpr int lut_rows_per_block(Arch, arch::requires_arch<arch::common>) noexcept {
  return 1;
}

/// @brief common_lut_w{W}a{A}: S for the 32 rows of one tile and MR activation rows (lut_block_args).
template <int W, int A, int MR, class Arch>
void lut_block(const lut_block_args& g, Arch, arch::requires_arch<arch::common>) noexcept {
  constexpr int T = A <= 4 ? 1 : 2;
  constexpr std::size_t table_bytes = 16 * T;
  std::int32_t acc[MR][row_tiles::tile_rows] = {};
  for (std::size_t c = 0; c < g.chunks; ++c)
    for (int p = 0; p < W; ++p) {
      const std::int32_t coef = p == W - 1 ? -(1 << p) : (1 << p);
      const std::uint8_t* plane = g.tile + (c * W + static_cast<std::size_t>(p)) * row_tiles::tile_rows;
      for (int m = 0; m < MR; ++m) {
        const std::uint8_t* t0 = g.tables + m * g.table_stride + 2 * c * table_bytes;
        const std::uint8_t* t1 = t0 + table_bytes;
        for (std::size_t r = 0; r < row_tiles::tile_rows; ++r) {
          const unsigned i0 = plane[r] & 15u, i1 = plane[r] >> 4;
          std::int32_t v = t0[i0] + t1[i1];
          if constexpr (T == 2) v += 16 * (t0[16 + i0] + t1[16 + i1]);
          acc[m][r] += coef * v;
        }
      }
    }
  for (int m = 0; m < MR; ++m)
    for (std::size_t r = 0; r < row_tiles::tile_rows; ++r) g.s[m * g.lds + r] = acc[m][r];
}

}  // namespace mpq::kernel
