// Arm NEON lookup-table kernels (T-MAC's idea, Wei et al., EuroSys 2025): tbl looks up 16-entry tables
// of activation subset sums with the weights' bit-plane nibbles, 16 weight rows per instruction.
#pragma once

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "mpq/arch/common/lut.hpp"
#include "mpq/arch/isa.hpp"
#include "mpq/config.hpp"
#include "mpq/kernel/microkernel_args.hpp"
#include "mpq/kernel/row_tiles.hpp"

namespace mpq::kernel {

namespace detail_neon {

/// The exact-arithmetic schedule of the NEON LUT kernel for W-bit weights, A-bit activations a_u.
///
/// Table entries are bytes: one table of a_u when A <= 4 (entries <= 4 (2^A - 1) <= 60), else two,
/// of the low nibbles (<= 60) and of the high parts (<= 4 (2^(A-4) - 1), at most the low bound).
/// `tbl` lookups (TBL: index bytes >= 16 give 0, so the nibbles always hit; Arm ARM, "TBL") of
/// `groups` groups are summed in uint8 (<= 255). A flush then weights plane p by c_p = 2^p
/// (c_(W-1) = -2^(W-1)) with umlal / umlsl (byte times byte into 16-bit lanes, modulo 2^16) into one
/// int16 sum per table; the true value of that sum stays within int16 for `flushes` flushes, so the
/// modular lanes read as int16 are exact. Then they are widened to int32 (the high table's x 16 there).
template <int W, int A>
struct lut_plan {
  static constexpr int tables = A <= 4 ? 1 : 2;
  static constexpr int tmax = 4 * ((1 << (A <= 4 ? A : 4)) - 1);  // the larger (low) table's bound
  static constexpr int sum_c = (1 << W) - 1;                        // sum over planes of |c_p|
  static constexpr int per_group_int16 = tmax * sum_c;
  static constexpr int groups_u8 = 255 / tmax;
  static constexpr int groups_i16 = 32767 / per_group_int16;
  static constexpr int groups_raw = groups_u8 < groups_i16 ? groups_u8 : groups_i16;
  static constexpr int groups = (groups_raw > 64 ? 64 : groups_raw) / 2 * 2;  // a chunk is 2 groups
  static_assert(groups >= 2, "mpq: a LUT flush must cover at least one chunk");
  static constexpr int chunks_per_flush = groups / 2;
  static constexpr int flushes = 32767 / (groups * per_group_int16);
  static_assert(flushes >= 1);
  static constexpr int table_bytes = 16 * tables;
};

}  // namespace detail_neon

/// @brief Activation rows per gemm register block of the NEON LUT kernel: as many as keep the
/// uint8 sums (W planes x tables x 2 q registers per row), tables and int16 sums within NEON's 32
/// q registers.
template <int W, int A, class Arch>
constexpr int lut_rows_per_block(Arch, arch::requires_arch<arch::neon64_dotprod>) noexcept {
  constexpr int T = detail_neon::lut_plan<W, A>::tables;
  constexpr int live = 2 * W * T + 2 * T + 4 * T;  // uint8 sums, tables, int16 sums
  constexpr int mr = 28 / live;
  return mr < 1 ? 1 : (mr > 4 ? 4 : mr);
}

/// @brief neon64_dotprod_lut_w{W}a{A}: S for the 32 rows of one tile and MR activation rows
/// (lut_block_args).
template <int W, int A, int MR, class Arch>
void lut_block(const lut_block_args& g, Arch, arch::requires_arch<arch::neon64_dotprod>) noexcept {
  using plan = detail_neon::lut_plan<W, A>;
  constexpr int T = plan::tables;
  constexpr std::size_t R = row_tiles::tile_rows;
  static_assert(R == 32, "mpq: the NEON LUT kernel holds a tile's rows in two q registers");
  const uint8x16_t low4 = vdupq_n_u8(0x0F);

  // uint8 sums: [m][table][plane][rows 16h ..]; int16 sums: [m][table][rows 8q ..]; int32 in memory.
  uint8x16_t sum8[MR][T][W][2];
  uint16x8_t sum16[MR][T][4];
  alignas(16) std::int32_t acc32[MR][R] = {};
  for (int m = 0; m < MR; ++m)
    for (int t = 0; t < T; ++t)
      for (int q = 0; q < 4; ++q) sum16[m][t][q] = vdupq_n_u16(0);

  int chunk_in_flush = 0, flush_in_widen = 0;
  for (std::size_t c = 0; c < g.chunks; ++c) {
    if (chunk_in_flush == 0)
      for (int m = 0; m < MR; ++m)
        for (int t = 0; t < T; ++t)
          for (int p = 0; p < W; ++p) sum8[m][t][p][0] = sum8[m][t][p][1] = vdupq_n_u8(0);
    const std::uint8_t* planes = g.tile + c * W * R;
    // The tables of this chunk's two groups (low nibbles index the first, high nibbles the second).
    uint8x16_t tab[MR][T][2];
    for (int m = 0; m < MR; ++m)
      for (int t = 0; t < T; ++t) {
        const std::uint8_t* base = g.tables + m * g.table_stride + 2 * c * plan::table_bytes + 16 * t;
        tab[m][t][0] = vld1q_u8(base);
        tab[m][t][1] = vld1q_u8(base + plan::table_bytes);
      }
    for (int p = 0; p < W; ++p)
      for (int h = 0; h < 2; ++h) {
        const uint8x16_t v = vld1q_u8(planes + p * R + 16 * h);
        const uint8x16_t i0 = vandq_u8(v, low4), i1 = vshrq_n_u8(v, 4);
        for (int m = 0; m < MR; ++m)
          for (int t = 0; t < T; ++t)
            sum8[m][t][p][h] =
                vaddq_u8(sum8[m][t][p][h], vaddq_u8(vqtbl1q_u8(tab[m][t][0], i0), vqtbl1q_u8(tab[m][t][1], i1)));
      }
    if (++chunk_in_flush < plan::chunks_per_flush && c + 1 < g.chunks) continue;
    chunk_in_flush = 0;
    // Flush: sum16 += sum_p c_p * sum8[p], rows 8q .. 8q+7 in sum16[q] (q = 2h for the low 8 bytes).
    for (int m = 0; m < MR; ++m)
      for (int t = 0; t < T; ++t)
        for (int p = 0; p < W; ++p) {
          const std::uint8_t mag = static_cast<std::uint8_t>(1u << p);
          for (int h = 0; h < 2; ++h) {
            uint16x8_t& lo = sum16[m][t][2 * h];
            uint16x8_t& hi = sum16[m][t][2 * h + 1];
            const uint8x16_t s = sum8[m][t][p][h];
            if (p == W - 1) {
              lo = vmlsl_u8(lo, vget_low_u8(s), vdup_n_u8(mag));
              hi = vmlsl_high_u8(hi, s, vdupq_n_u8(mag));
            } else {
              lo = vmlal_u8(lo, vget_low_u8(s), vdup_n_u8(mag));
              hi = vmlal_high_u8(hi, s, vdupq_n_u8(mag));
            }
          }
        }
    if (++flush_in_widen < plan::flushes && c + 1 < g.chunks) continue;
    flush_in_widen = 0;
    // Widen: sign-extend the int16 sums (the high table's times 16) and add them to the rows.
    for (int m = 0; m < MR; ++m)
      for (int t = 0; t < T; ++t)
        for (int q = 0; q < 4; ++q) {
          const int16x8_t s = vreinterpretq_s16_u16(sum16[m][t][q]);
          int32x4_t a0 = vmovl_s16(vget_low_s16(s)), a1 = vmovl_high_s16(s);
          if (t == 1) {
            a0 = vshlq_n_s32(a0, 4);
            a1 = vshlq_n_s32(a1, 4);
          }
          std::int32_t* r = acc32[m] + 8 * q;
          vst1q_s32(r, vaddq_s32(vld1q_s32(r), a0));
          vst1q_s32(r + 4, vaddq_s32(vld1q_s32(r + 4), a1));
          sum16[m][t][q] = vdupq_n_u16(0);
        }
  }
  for (int m = 0; m < MR; ++m)
    for (std::size_t r = 0; r < R; ++r) g.s[m * g.lds + r] = acc32[m][r];
}

}  // namespace mpq::kernel

#endif  // __aarch64__ && __ARM_FEATURE_DOTPROD
