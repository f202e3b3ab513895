// AVX2 lookup-table kernels (T-MAC's idea, Wei et al. 2024): vpshufb looks up 16-entry tables of
// activation subset sums with the weights' bit-plane nibbles, 32 weight rows per instruction.
#pragma once

#if defined(__AVX2__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "mpq/arch/avx512/instructions.hpp"
#include "mpq/arch/common/lut.hpp"
#include "mpq/arch/isa.hpp"
#include "mpq/config.hpp"
#include "mpq/kernel/microkernel_args.hpp"
#include "mpq/kernel/row_tiles.hpp"

namespace mpq::kernel {

namespace detail_avx2 {

/// The exact-arithmetic schedule of the LUT kernel for W-bit weights, A-bit activations a_u, in
/// mode LoHi (see lut_plan).
///
/// A table entry sums up to 4 activations: with A <= 4 one table of a_u (entries <= 4 (2^A - 1) <= 60),
/// with A > 4 two, of the low nibbles (<= 60) and of the high parts (<= 4 (2^(A-4) - 1)), so every
/// entry is a byte. Lookups of `groups` groups are summed in uint8 (<= 255), then a vpmaddubsw
/// weights each plane p by c_p = 2^p (c_(W-1) = -2^(W-1)) and pairs it with another byte sum:
///   lohi mode (two tables, W <= 4): (low-table sum, high-table sum) x (c_p, 16 c_p)
///   plane mode: (plane p, plane p+1) x (c_p, c_(p+1)), per table (high ones scaled by 16 in int32)
/// int16 sums take `flushes` such steps before widening to int32. Everything is derived below from
/// the byte and int16 bounds; no step can saturate.
template <int W, int A, bool LoHi>
struct lut_schedule {
  static constexpr int tables = A <= 4 ? 1 : 2;
  static constexpr int tmax_lo = 4 * ((1 << (A <= 4 ? A : 4)) - 1);
  static constexpr int tmax_hi = A <= 4 ? 0 : 4 * ((1 << (A - 4)) - 1);
  static constexpr bool lohi = LoHi;  // valid with two tables, W <= 4 (16 c_p must be an int8)
  static constexpr int sum_c = (1 << W) - 1;  // sum over planes of |c_p|
  static constexpr int per_group_int16 = lohi ? (tmax_lo + 16 * tmax_hi) * sum_c : tmax_lo * sum_c;
  static constexpr int groups_u8 = 255 / tmax_lo;
  static constexpr int groups_i16 = 32767 / per_group_int16;
  static constexpr int groups_raw = groups_u8 < groups_i16 ? groups_u8 : groups_i16;
  static constexpr int groups = (groups_raw > 64 ? 64 : groups_raw) / 2 * 2;  // a chunk is 2 groups
  static constexpr int chunks_per_flush = groups / 2;
  static constexpr int flushes = groups < 2 ? 0 : 32767 / (groups * per_group_int16);
  static constexpr int table_bytes = 16 * tables;
  static constexpr int coefficient(int p) noexcept { return p == W - 1 ? -(1 << p) : (1 << p); }
  /// Vector ops per chunk besides the lookups (which both modes share): a flush is 6 ops
  /// (2 unpacks, 2 vpmaddubsw, 2 adds) per pair of byte sums, a widening ~5 per int16 sum and half.
  static constexpr double extra_ops_per_chunk() noexcept {
    if ((lohi && (tables != 2 || W > 4)) || groups < 2 || flushes < 1) return 1e9;  // not valid
    const int pairs = lohi ? W : tables * ((W + 1) / 2);
    const int sums16 = lohi ? 1 : tables;
    return 6.0 * pairs / chunks_per_flush + 10.0 * sums16 / (chunks_per_flush * flushes);
  }
};

/// The schedule the AVX2 LUT kernel runs: with two tables, lohi mode needs W pairs per flush but
/// its int16 sums hold 16x larger values, so it widens often at large A; plane mode pairs planes
/// (half the pairs per table) and widens rarely. The mode with fewer extra ops per chunk wins:
/// lohi for W1A8 (3.6 against 6.1), plane for W2A8 (6.2 against 8.5; measured 1.2-1.8x faster).
template <int W, int A>
struct lut_plan
    : lut_schedule<W, A,
                   (lut_schedule<W, A, true>::extra_ops_per_chunk() <=
                    lut_schedule<W, A, false>::extra_ops_per_chunk())> {
  static_assert(lut_plan::groups >= 2, "mpq: a LUT flush must cover at least one chunk");
  static_assert(lut_plan::flushes >= 1);
};

/// The vpmaddubsw multiplier pairing byte sums x (even byte) and y (odd byte) with weights cx, cy.
MPQ_ALWAYS_INLINE __m256i pair_multiplier(int cx, int cy) noexcept {
  return _mm256_set1_epi16(static_cast<short>((static_cast<unsigned>(static_cast<std::uint8_t>(cy)) << 8) |
                                              static_cast<std::uint8_t>(cx)));
}

MPQ_ALWAYS_INLINE __m256i broadcast_table(const std::uint8_t* p) noexcept {
  return _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
}

/// zmm for 2-bit weights on real AVX-512: a chunk's two planes are one 64-byte load, and one vpshufb
/// per group and table looks up both planes' nibbles in the table broadcast to all four 128-bit lanes.
template <class Arch, int W>
inline constexpr bool zmm_lut = W == 2 && arch::real_avx512<Arch>;

/// The LUT kernels' loop over a tile's chunks: windows of PerFlush chunks (byte sums: start_flush()
/// clears them, flush() folds them into int16) inside windows of PerFlush * Flushes chunks (int16
/// sums: start_widen() clears them, widen() folds them into int32). Full windows run with constant
/// trip counts; the last ones are cut at `chunks`.
template <std::size_t PerFlush, std::size_t Flushes, class StartWiden, class StartFlush, class Chunk, class Flush,
          class Widen>
MPQ_ALWAYS_INLINE void for_each_lut_window(std::size_t chunks, StartWiden&& start_widen, StartFlush&& start_flush,
                                           Chunk&& chunk, Flush&& flush, Widen&& widen) {
  constexpr std::size_t per_widen = PerFlush * Flushes;
  for (std::size_t c = 0; c < chunks;) {
    const std::size_t widen_end = chunks - c < per_widen ? chunks : c + per_widen;
    start_widen();
    while (c < widen_end) {
      start_flush();
      if (widen_end - c >= PerFlush) {
        for (std::size_t i = 0; i < PerFlush; ++i) chunk(c + i);
        c += PerFlush;
      } else {
        for (; c < widen_end; ++c) chunk(c);
      }
      flush();
    }
    widen();
  }
}

/// How far ahead of a tile stream the LUT kernels prefetch, in bytes. GEMV at 16384^2 on the Zen 5
/// (docs/kernel_results.md), GB/s of weights for W1A8 / W2A4 / W3A8: 2 KiB 19 / - / 24, 4 KiB
/// 28 / 34 / 30, 8 KiB 34 / 43 / 35, 16 KiB 33 / 49 / 40, 32 KiB 30 / 48 / 41. (4 KiB was chosen on
/// the Zen 3, where the kernels were compute-bound and 1-16 KiB ran alike.)
inline constexpr std::size_t lut_prefetch_distance = 16384;

/// vpermb (AVX-512 VBMI) for A > 4 with W <= vbmi_lut_max_w on real AVX-512. vpermb looks up 64-byte
/// tables, so one instruction reads both tables of both groups of a chunk: index bits 4-5 pick the
/// table (group 0 low, group 0 high, group 1 low, group 1 high: the prepared layout as it is). Each
/// weight byte is duplicated, its even copy indexing a low table and its odd copy the high table, so
/// a row's low and high sums land in adjacent bytes and one vpmaddubsw by (c_p, 16 c_p) weights and
/// pairs them, with no unpacks. Per chunk and plane: 4 index ops, then 2 vpermb and 2 adds per
/// activation row (the ymm kernel: 3 index ops, then 4 vpshufb, 4 adds and 3 flush ops per chunk).
inline constexpr int vbmi_lut_max_w = 3;

template <class Arch, int W, int A>
inline constexpr bool vbmi_lut =
#if defined(__AVX512VBMI__)
    A > 4 && W <= vbmi_lut_max_w && arch::real_avx512<Arch>;
#else
    false;
#endif

/// The exact-arithmetic schedule of the vpermb kernel: a chunk adds two lookups (<= 2 * 60 low,
/// 2 * 4 (2^(A-4) - 1) high) to each byte, so bytes take `chunks_per_flush` chunks; a flush adds
/// sum_p |c_p| (low + 16 high) <= per_flush_int16 to each int16 sum, which takes `flushes` flushes
/// before widening to int32.
template <int W, int A>
struct vbmi_lut_plan {
  static constexpr int chunk_lo = 2 * 4 * 15;
  static constexpr int chunk_hi = 2 * 4 * ((1 << (A - 4)) - 1);
  static constexpr int chunks_per_flush = 255 / chunk_lo;  // chunk_hi <= chunk_lo
  static constexpr int per_flush_int16 = chunks_per_flush * (chunk_lo + 16 * chunk_hi) * ((1 << W) - 1);
  static constexpr int flushes = 32767 / per_flush_int16;
  static_assert(chunks_per_flush >= 1 && flushes >= 1, "mpq: no exact vpermb LUT schedule for this W");
};

/// Activation rows per gemm register block of the vpermb kernel: W byte sums, an int16 sum and two
/// int32 sums per row, next to 2 W indexes and 5 constants, in 32 zmm registers.
template <int W>
inline constexpr int vbmi_lut_rows = 20 / (W + 3) > 4 ? 4 : 20 / (W + 3);

#if defined(__AVX512VBMI__) && defined(__AVX512BW__)
/// byte j = j / 2: a ymm's bytes each duplicated into a zmm by vpermb.
alignas(64) inline constexpr std::uint8_t vbmi_duplicate_bytes[64] = {
    0,  0,  1,  1,  2,  2,  3,  3,  4,  4,  5,  5,  6,  6,  7,  7,  8,  8,  9,  9,  10, 10,
    11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 21, 21,
    22, 22, 23, 23, 24, 24, 25, 25, 26, 26, 27, 27, 28, 28, 29, 29, 30, 30, 31, 31};

/// S for the 32 rows of one tile and MR activation rows, with vpermb (see vbmi_lut).
template <int W, int A, int MR>
void lut_block_vbmi(const lut_block_args& g) noexcept {
  using plan = vbmi_lut_plan<W, A>;
  using schedule = lut_schedule<W, A, true>;  // for the plane coefficients
  constexpr std::size_t prefetch_distance = lut_prefetch_distance;
  const __m512i duplicate = _mm512_load_si512(vbmi_duplicate_bytes);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  // Table selectors in index bits 4-5: even bytes low table, odd bytes high table, of group 0 / 1.
  const __m512i group0 = _mm512_set1_epi16(0x1000), group1 = _mm512_set1_epi16(0x3020);
  constexpr int or_of_and = 0xEA;  // vpternlogd: (a & b) | c

  __m512i sum8[MR][W];  // bytes 2r, 2r+1: row r's low and high sums, per plane
  __m512i sum16[MR];    // word r: row r
  __m512i acc[MR][2];   // rows 0-15, 16-31
  for (int m = 0; m < MR; ++m) acc[m][0] = acc[m][1] = _mm512_setzero_si512();

  auto chunk = [&](std::size_t c) {
    const std::uint8_t* planes = g.tile + c * W * row_tiles::tile_rows;
    for (int p = 0; p < W; p += 2)
      _mm_prefetch(reinterpret_cast<const char*>(planes + prefetch_distance + 32 * p), _MM_HINT_T0);
    __m512i idx[W][2];
    for (int p = 0; p < W; ++p) {
      const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(planes + p * row_tiles::tile_rows));
      const __m512i y = _mm512_permutexvar_epi8(duplicate, _mm512_castsi256_si512(v));
      idx[p][0] = _mm512_ternarylogic_epi32(y, low4, group0, or_of_and);
      idx[p][1] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(y, 4), low4, group1, or_of_and);
    }
    for (int m = 0; m < MR; ++m) {
      const __m512i t = _mm512_loadu_si512(g.tables + m * g.table_stride + 2 * c * schedule::table_bytes);
      for (int p = 0; p < W; ++p)
        sum8[m][p] = _mm512_add_epi8(
            sum8[m][p], _mm512_add_epi8(_mm512_permutexvar_epi8(idx[p][0], t), _mm512_permutexvar_epi8(idx[p][1], t)));
    }
  };
  auto flush = [&] {
    for (int p = 0; p < W; ++p) {
      const __m512i mul = _mm512_set1_epi16(static_cast<short>(
          (static_cast<unsigned>(static_cast<std::uint8_t>(16 * schedule::coefficient(p))) << 8) |
          static_cast<std::uint8_t>(schedule::coefficient(p))));
      for (int m = 0; m < MR; ++m) sum16[m] = _mm512_add_epi16(sum16[m], _mm512_maddubs_epi16(sum8[m][p], mul));
    }
  };
  auto widen = [&] {
    for (int m = 0; m < MR; ++m) {
      acc[m][0] = _mm512_add_epi32(acc[m][0], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(sum16[m])));
      acc[m][1] = _mm512_add_epi32(acc[m][1], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(sum16[m], 1)));
    }
  };

  for_each_lut_window<plan::chunks_per_flush, plan::flushes>(
      g.chunks,
      [&] {
        for (int m = 0; m < MR; ++m) sum16[m] = _mm512_setzero_si512();
      },
      [&] {
        for (int m = 0; m < MR; ++m)
          for (int p = 0; p < W; ++p) sum8[m][p] = _mm512_setzero_si512();
      },
      chunk, flush, widen);
  for (int m = 0; m < MR; ++m)
    for (int h = 0; h < 2; ++h)
      _mm512_storeu_si512(g.s + m * g.lds + 16 * static_cast<std::size_t>(h), acc[m][h]);
}
#endif

}  // namespace detail_avx2

/// @brief avx2_lut_tables: two groups' tables per step, entry i = sum over set bits of i of vpshufb
/// selections of the group's 4 bytes (low nibbles and high parts first when A > 4).
template <class Arch>
void build_lut_tables(const lut_table_args& g, Arch, arch::requires_arch<arch::avx2>) noexcept {
  // sel[i]: byte idx of lane L takes code 4L + i when bit i of idx is set, else zero (0x80).
  alignas(32) std::uint8_t sel[4][32];
  for (int i = 0; i < 4; ++i)
    for (int lane = 0; lane < 2; ++lane)
      for (int idx = 0; idx < 16; ++idx)
        sel[i][16 * lane + idx] = (idx >> i) & 1 ? static_cast<std::uint8_t>(4 * lane + i) : 0x80;
  __m256i s[4];
  for (int i = 0; i < 4; ++i) s[i] = _mm256_load_si256(reinterpret_cast<const __m256i*>(sel[i]));
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  auto table = [&](__m256i v) {
    return _mm256_add_epi8(_mm256_add_epi8(_mm256_shuffle_epi8(v, s[0]), _mm256_shuffle_epi8(v, s[1])),
                           _mm256_add_epi8(_mm256_shuffle_epi8(v, s[2]), _mm256_shuffle_epi8(v, s[3])));
  };
  std::size_t grp = 0;
  for (; grp + 2 <= g.groups; grp += 2) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(g.a + 4 * grp)));
    if (g.bits <= 4) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(g.tables + grp * 16), table(v));
    } else {
      const __m256i lo = table(_mm256_and_si256(v, low4));
      const __m256i hi = table(_mm256_and_si256(_mm256_srli_epi16(v, 4), low4));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(g.tables + grp * 32), _mm256_permute2x128_si256(lo, hi, 0x20));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(g.tables + grp * 32 + 32), _mm256_permute2x128_si256(lo, hi, 0x31));
    }
  }
  if (grp < g.groups) {
    lut_table_args rest = g;
    rest.a = g.a + 4 * grp;
    rest.groups = g.groups - grp;
    rest.tables = g.tables + grp * (g.bits <= 4 ? 16 : 32);
    build_lut_tables(rest, Arch{}, arch::common{});  // the tail, portable code instantiated for Arch
  }
}

/// @brief Activation rows per gemm register block of the AVX2 LUT kernel.
template <int W, int A, class Arch>
constexpr int lut_rows_per_block(Arch, arch::requires_arch<arch::avx2>) noexcept {
  if constexpr (detail_avx2::vbmi_lut<Arch, W, A>) return detail_avx2::vbmi_lut_rows<W>;
  constexpr int live = W * detail_avx2::lut_plan<W, A>::tables;  // uint8 sums per activation row
  constexpr int mr = 8 / live;
  return mr < 1 ? 1 : (mr > 4 ? 4 : mr);
}

/// @brief avx2_lut_w{W}a{A}: S for the 32 rows of one tile and MR activation rows (lut_block_args).
template <int W, int A, int MR, class Arch>
void lut_block(const lut_block_args& g, Arch, arch::requires_arch<arch::avx2>) noexcept {
#if defined(__AVX512VBMI__) && defined(__AVX512BW__)
  if constexpr (detail_avx2::vbmi_lut<Arch, W, A>) return detail_avx2::lut_block_vbmi<W, A, MR>(g);
#endif
  using plan = detail_avx2::lut_plan<W, A>;
  constexpr int T = plan::tables;
  constexpr int T16 = plan::lohi ? 1 : T;  // int16 sums per activation row and half
  constexpr std::size_t prefetch_distance = detail_avx2::lut_prefetch_distance;
  const __m256i low4 = _mm256_set1_epi8(0x0F);

  // uint8 sums: [m][table][plane]; int16 sums: [m][table or 0][half]; int32: [m][rows 8q .. 8q+7].
  [[maybe_unused]] constexpr bool zmm = detail_avx2::zmm_lut<Arch, W>;  // used only in AVX-512 BW builds
  __m256i sum8[MR][T][W];
#if defined(__AVX512F__) && defined(__AVX512BW__)
  __m512i sum8z[MR][T];  // zmm: sum8[m][t][0] and [1] as one register until the flush splits it
#endif
  __m256i sum16[MR][T16][2];
  __m256i acc[MR][4];
  for (int m = 0; m < MR; ++m)
    for (int q = 0; q < 4; ++q) acc[m][q] = _mm256_setzero_si256();

  // One chunk: 8 codes of the 32 rows, every plane, looked up in the two groups' tables.
  auto chunk = [&](std::size_t c) {
    const std::uint8_t* planes = g.tile + c * W * row_tiles::tile_rows;
    // A tile is one sequential stream (and the next tile follows it); the hardware prefetchers
    // alone run too few lines ahead of it (measured: +50 % at W1A8 from DRAM with this prefetch).
    for (int p = 0; p < W; p += 2)
      _mm_prefetch(reinterpret_cast<const char*>(planes + prefetch_distance + 32 * p), _MM_HINT_T0);
#if defined(__AVX512F__) && defined(__AVX512BW__)
    if constexpr (zmm) {  // planes 0 and 1 in the low and high 256 bits of one register
      const __m512i low4z = _mm512_set1_epi8(0x0F);
      const __m512i v = _mm512_loadu_si512(planes);
      const __m512i i0 = _mm512_and_si512(v, low4z);
      const __m512i i1 = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4z);
      for (int m = 0; m < MR; ++m)
        for (int t = 0; t < T; ++t) {
          const std::uint8_t* base = g.tables + m * g.table_stride + 2 * c * plan::table_bytes + 16 * t;
          const __m512i t0 = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(base)));
          const __m512i t1 = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(base + plan::table_bytes)));
          sum8z[m][t] = _mm512_add_epi8(sum8z[m][t], _mm512_add_epi8(_mm512_shuffle_epi8(t0, i0), _mm512_shuffle_epi8(t1, i1)));
        }
      return;
    }
#endif
    __m256i tab[MR][T][2];
    for (int m = 0; m < MR; ++m)
      for (int t = 0; t < T; ++t) {
        const std::uint8_t* base = g.tables + m * g.table_stride + 2 * c * plan::table_bytes + 16 * t;
        tab[m][t][0] = detail_avx2::broadcast_table(base);
        tab[m][t][1] = detail_avx2::broadcast_table(base + plan::table_bytes);
      }
    for (int p = 0; p < W; ++p) {
      const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(planes + p * row_tiles::tile_rows));
      const __m256i i0 = _mm256_and_si256(v, low4);
      const __m256i i1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
      for (int m = 0; m < MR; ++m)
        for (int t = 0; t < T; ++t)
          sum8[m][t][p] = _mm256_add_epi8(sum8[m][t][p], _mm256_add_epi8(_mm256_shuffle_epi8(tab[m][t][0], i0),
                                                                         _mm256_shuffle_epi8(tab[m][t][1], i1)));
    }
  };
  // Flush: weight the planes and pair byte sums into int16 with vpmaddubsw.
  auto flush = [&] {
#if defined(__AVX512F__) && defined(__AVX512BW__)
    if constexpr (zmm)
      for (int m = 0; m < MR; ++m)
        for (int t = 0; t < T; ++t) {
          sum8[m][t][0] = _mm512_castsi512_si256(sum8z[m][t]);
          sum8[m][t][1] = _mm512_extracti64x4_epi64(sum8z[m][t], 1);
        }
#endif
    for (int m = 0; m < MR; ++m) {
      if constexpr (plan::lohi) {
        for (int p = 0; p < W; ++p) {
          const __m256i mul = detail_avx2::pair_multiplier(plan::coefficient(p), 16 * plan::coefficient(p));
          sum16[m][0][0] = _mm256_add_epi16(
              sum16[m][0][0], _mm256_maddubs_epi16(_mm256_unpacklo_epi8(sum8[m][0][p], sum8[m][1][p]), mul));
          sum16[m][0][1] = _mm256_add_epi16(
              sum16[m][0][1], _mm256_maddubs_epi16(_mm256_unpackhi_epi8(sum8[m][0][p], sum8[m][1][p]), mul));
        }
      } else {
        for (int t = 0; t < T; ++t)
          for (int p = 0; p < W; p += 2) {
            const bool pair = p + 1 < W;
            const __m256i y = pair ? sum8[m][t][p + 1] : _mm256_setzero_si256();
            const __m256i mul = detail_avx2::pair_multiplier(plan::coefficient(p), pair ? plan::coefficient(p + 1) : 0);
            sum16[m][t][0] = _mm256_add_epi16(sum16[m][t][0],
                                              _mm256_maddubs_epi16(_mm256_unpacklo_epi8(sum8[m][t][p], y), mul));
            sum16[m][t][1] = _mm256_add_epi16(sum16[m][t][1],
                                              _mm256_maddubs_epi16(_mm256_unpackhi_epi8(sum8[m][t][p], y), mul));
          }
      }
    }
  };
  // Widen: int16 lanes of half h hold rows 8h .. 8h+7 (low 128 bits) and 16+8h .. 23+8h (high).
  auto widen = [&] {
    for (int m = 0; m < MR; ++m)
      for (int t = 0; t < T16; ++t)
        for (int h = 0; h < 2; ++h) {
          __m256i lo = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(sum16[m][t][h]));
          __m256i hi = _mm256_cvtepi16_epi32(_mm256_extracti128_si256(sum16[m][t][h], 1));
          if (!plan::lohi && t == 1) {
            lo = _mm256_slli_epi32(lo, 4);
            hi = _mm256_slli_epi32(hi, 4);
          }
          acc[m][h] = _mm256_add_epi32(acc[m][h], lo);
          acc[m][2 + h] = _mm256_add_epi32(acc[m][2 + h], hi);
        }
  };

  detail_avx2::for_each_lut_window<plan::chunks_per_flush, plan::flushes>(
      g.chunks,
      [&] {
        for (int m = 0; m < MR; ++m)
          for (int t = 0; t < T16; ++t) sum16[m][t][0] = sum16[m][t][1] = _mm256_setzero_si256();
      },
      [&] {
        for (int m = 0; m < MR; ++m)
          for (int t = 0; t < T; ++t)
            for (int p = 0; p < W; ++p) sum8[m][t][p] = _mm256_setzero_si256();
#if defined(__AVX512F__) && defined(__AVX512BW__)
        if constexpr (zmm)
          for (int m = 0; m < MR; ++m)
            for (int t = 0; t < T; ++t) sum8z[m][t] = _mm512_setzero_si512();
#endif
      },
      chunk, flush, widen);
  for (int m = 0; m < MR; ++m)
    for (int q = 0; q < 4; ++q)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(g.s + m * g.lds + 8 * static_cast<std::size_t>(q)), acc[m][q]);
}

}  // namespace mpq::kernel

#endif  // __AVX2__
