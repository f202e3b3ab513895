// The gemm driver every arch shares: prepares activations for the weights' algorithm, cuts the output
// channels into tasks and register blocks, calls the arch's micro-kernels, applies the epilogue.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <type_traits>
#include <vector>

#include "mpq/core/bits.hpp"
#include "mpq/core/math.hpp"
#include "mpq/kernel/algorithm.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/kernel/executor.hpp"
#include "mpq/kernel/microkernel_args.hpp"
#include "mpq/kernel/operands.hpp"
#include "mpq/kernel/packed_weights.hpp"
#include "mpq/kernel/row_tiles.hpp"
#include "mpq/packed/byte_order.hpp"

namespace mpq::kernel {

namespace detail {

/// Activations in the form one algorithm reads (a_u = a + offset, zero past K), and their sums.
struct prepared_activations {
  aligned_buffer storage;
  const std::uint8_t* data = nullptr;
  std::size_t stride = 0;             ///< bytes between rows (bitserial: 64-bit words)
  std::vector<std::int32_t> sums_u;   ///< sum_k a_u[m][k] over the real K
  std::int32_t offset = 0;            ///< a_u = a + offset: 2^(A-1) for signed activations, else 0
};

/// The sums of a_u over the real K, with no rows yet. (Templates on Arch, like everything the kernels
/// run, so each runtime-dispatch TU keeps its own copy.)
template <class Arch>
prepared_activations prepared_sums(const decoded_activations& a) {
  prepared_activations p;
  p.offset = a.offset;
  p.sums_u.resize(a.rows);
  for (std::size_t m = 0; m < a.rows; ++m)
    p.sums_u[m] = a.sums[m] + static_cast<std::int32_t>(a.cols) * p.offset;
  return p;
}

/// The sums and a zeroed buffer of `row_bytes` per activation row, for the prepare_* below to fill.
template <class Arch>
prepared_activations begin_prepared(const decoded_activations& a, std::size_t row_bytes) {
  prepared_activations p = prepared_sums<Arch>(a);
  p.stride = round_up(row_bytes, kernel_alignment);
  p.storage = allocate_zeroed(a.rows * p.stride);
  p.data = p.storage.get();
  return p;
}

/// The sums and rows read in place from `data`, `stride` apart (in the kernel's units).
template <class Arch>
prepared_activations prepared_in_place(const decoded_activations& a, const std::uint8_t* data, std::size_t stride) {
  prepared_activations p = prepared_sums<Arch>(a);
  p.data = data;
  p.stride = stride;
  return p;
}

/// Template on Arch so every runtime-dispatch translation unit has its own copy (no ODR mixing).
/// uint8 activations whose decoded rows already cover padded_cols (zero past K) are read in place.
template <class Arch>
prepared_activations prepare_unpack(const decoded_activations& a, std::size_t padded_cols, bool int16) {
  if (!int16 && padded_cols <= a.stride) {
    return prepared_in_place<Arch>(a, a.codes, a.stride);
  }
  prepared_activations p = begin_prepared<Arch>(a, padded_cols * (int16 ? 2 : 1));
  for (std::size_t m = 0; m < a.rows; ++m) {
    const std::uint8_t* src = a.codes + m * a.stride;
    std::uint8_t* dst = p.storage.get() + m * p.stride;
    if (int16) {
      auto* d16 = reinterpret_cast<std::int16_t*>(dst);
      for (std::size_t k = 0; k < a.cols; ++k) d16[k] = static_cast<std::int16_t>(src[k]);
    } else {
      for (std::size_t k = 0; k < a.cols; ++k) dst[k] = src[k];
    }
  }
  return p;
}

/// Per group of 4 codes, the 16 subset sums of a_u (A <= 4), or of a_u's low nibbles then of its high
/// parts (A > 4): entry i = sum of the codes whose bit is set in i (row_tiles' nibble order).
template <class Arch>
prepared_activations prepare_lut(const decoded_activations& a, std::size_t padded_cols) {
  const std::size_t tables = a.bits <= 4 ? 1 : 2;
  prepared_activations p = begin_prepared<Arch>(a, padded_cols / 4 * 16 * tables);
  for (std::size_t m = 0; m < a.rows; ++m) {
    lut_table_args t;
    t.a = a.codes + m * a.stride;  // zero past K, and the stride covers padded_cols
    t.groups = padded_cols / 4;
    t.bits = a.bits;
    t.tables = p.storage.get() + m * p.stride;
    build_lut_tables(t, Arch{}, Arch{});
  }
  return p;
}

/// A bit-planes of a_u per row, each padded_cols / 64 words (bit i of word w = code 64 w + i).
/// Per word of 64 codes and plane j, bit j of each group of 8 codes' bytes, masked to bit 0 of the
/// byte, is gathered into one byte by a multiply (byte t goes to bit 56 + t; no two partial products
/// meet or carry), and the 8 bytes make the word, stored once.
template <class Arch>
prepared_activations prepare_bitserial(const decoded_activations& a, std::size_t padded_cols) {
  const std::size_t words = padded_cols / 64;
  if (a.planes != nullptr) {  // 1-bit rows read in place (activation_codes::decode)
    MPQ_ASSERT(a.plane_words >= words);
    return prepared_in_place<Arch>(a, reinterpret_cast<const std::uint8_t*>(a.planes), a.plane_stride);
  }
  prepared_activations p = begin_prepared<Arch>(a, words * static_cast<std::size_t>(a.bits) * 8);
  p.stride /= 8;  // in words
  auto* planes = reinterpret_cast<std::uint64_t*>(p.storage.get());
  constexpr std::uint64_t lane_bit0 = 0x0101010101010101u, gather = 0x0102040810204080u;
  const std::size_t used_words = ceil_div(a.cols, 64);  // zero past cols, up to the stride (a multiple of 64)
  for (std::size_t m = 0; m < a.rows; ++m) {
    const std::uint8_t* src = a.codes + m * a.stride;
    std::uint64_t* row = planes + m * p.stride;
    for (std::size_t w = 0; w < used_words; ++w) {
      std::uint64_t x[8];  // codes 64 w + 8 t .. + 7, one per byte
      for (int t = 0; t < 8; ++t) x[t] = mpq::detail::load_le<8>(src + 64 * w + 8 * static_cast<std::size_t>(t));
      for (int j = 0; j < a.bits; ++j) {
        std::uint64_t plane = 0;
        for (int t = 0; t < 8; ++t) plane |= ((((x[t] >> j) & lane_bit0) * gather) >> 56) << (8 * t);
        row[static_cast<std::size_t>(j) * words + w] = plane;
      }
    }
  }
  return p;
}

/// Everything the epilogue of one call needs besides the block's sums.
struct epilogue_context {
  const packed_weights* w = nullptr;
  const decoded_activations* a = nullptr;
  const prepared_activations* pa = nullptr;
  const output_spec* out = nullptr;
  std::int32_t weight_offset = 0;  ///< the kernel summed (w + weight_offset) * a_u
  doubled_offsets user{};          ///< the dequantization's code offsets, doubled
};

/// Row m, columns [n0, n0 + count) of the output from the kernel sums s[0 .. count): the exact
/// accumulator acc = s - weight_offset * sum a_u - activation_offset * sum w (int32 arithmetic wraps,
/// and acc itself fits, so it is exact), then the epilogue of output_spec. codes: count ints of scratch.
template <class Arch>
void finish_row(const epilogue_context& e, std::size_t m, std::size_t n0, const std::int32_t* s, std::size_t count,
                std::int32_t* scratch) noexcept {
  const output_spec& out = *e.out;
  const std::int32_t* sum_w = e.w->row_sums().data() + n0;
  const std::uint32_t a_term = static_cast<std::uint32_t>(e.weight_offset) * static_cast<std::uint32_t>(e.pa->sums_u[m]);
  const auto w_mul = static_cast<std::uint32_t>(e.pa->offset);
  if (out.what == output_spec::kind::int32) {
    std::int32_t* dst = out.acc + m * out.ldc + n0;
    for (std::size_t i = 0; i < count; ++i)
      dst[i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(s[i]) - a_term -
                                         w_mul * static_cast<std::uint32_t>(sum_w[i]));
    return;
  }
  const dequantization& dq = *out.dq;
  if (e.user.none()) {  // the common case, vectorized by the arch
    epilogue_row_args g;
    g.s = s;
    g.sum_w = sum_w;
    g.a_term = a_term;
    g.w_mul = w_mul;
    g.scale = dq.scale.size() == 1 ? dq.scale.data() : dq.scale.data() + n0;
    g.scale_per_tensor = dq.scale.size() == 1;
    g.bias = dq.bias.empty() ? nullptr : (dq.bias.size() == 1 ? dq.bias.data() : dq.bias.data() + n0);
    g.bias_per_tensor = dq.bias.size() == 1;
    g.count = count;
    if (out.what == output_spec::kind::float32) {
      g.values = out.values + m * out.ldc + n0;
    } else {
      g.codes = scratch;
      g.inverse_step = out.rq->inverse_step;
      g.zero_point = out.rq->zero_point;
      g.code_lo = out.rq->code_lo;
      g.code_hi = out.rq->code_hi;
    }
    epilogue_row(g, Arch{}, Arch{});
    if (out.what == output_spec::kind::requantized) out.writer.write(out.writer.ctx, m, n0, scratch, count);
    return;
  }
  for (std::size_t i = 0; i < count; ++i)
    scratch[i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(s[i]) - a_term -
                                           w_mul * static_cast<std::uint32_t>(sum_w[i]));
  const std::size_t k = e.a->cols;
  const std::int64_t sum_a = e.a->sums[m];
  float* values = out.what == output_spec::kind::float32 ? out.values + m * out.ldc + n0 : nullptr;
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t r4 = corrected_sum_x4(scratch[i], sum_w[i], sum_a, k, e.user);
    const float v = dequantize_channel(dq, n0 + i, r4);
    if (values)
      values[i] = v;
    else
      scratch[i] = requantize_output(v, *out.rq);
  }
  if (!values) out.writer.write(out.writer.ctx, m, n0, scratch, count);
}

}  // namespace detail

/// @brief The gemm of one bit pair on one arch: C[m][n] = epilogue(sum_k A[m][k] W[n][k]) for the
/// weights' algorithm (DotKernel). Operands are validated by the front end.
template <int W, int A, class Arch>
struct gemm_kernel {
  static constexpr int w_bits = W;
  static constexpr int a_bits = A;
  static constexpr const char* name() noexcept { return Arch::name(); }
  using arch_type = Arch;

  static void run(const packed_weights& w, const decoded_activations& a, const output_spec& out,
                  const executor_ref& ex) {
    MPQ_ASSERT(w.bits() == W && a.bits == A && w.cols() == a.cols);
    switch (w.algorithm()) {
      case algorithm::unpack_dot: return run_unpack(w, a, out, ex);
      case algorithm::lut: return run_lut(w, a, out, ex);
      case algorithm::bitserial: return run_bitserial(w, a, out, ex);
    }
  }

 private:
  static constexpr std::size_t chunk_cols = 128;  // output channels per block of the n loop

  static detail::epilogue_context context(const packed_weights& w, const decoded_activations& a,
                                          const detail::prepared_activations& pa, const output_spec& out,
                                          std::int32_t weight_offset) noexcept {
    detail::epilogue_context e{&w, &a, &pa, &out, weight_offset, {}};
    if (out.what != output_spec::kind::int32) e.user = doubled(*out.dq);
    return e;
  }
  /// Output channels per pass over the activations: a multiple of the task unit whose weights
  /// (bytes_per_row each) fit a 256 KiB share of L2, so each chunk is read from memory once.
  static std::size_t chunk_rows(std::size_t unit, std::size_t bytes_per_row) noexcept {
    const std::size_t fit = (std::size_t{256} << 10) / (bytes_per_row == 0 ? 1 : bytes_per_row) / unit * unit;
    return std::clamp<std::size_t>(fit, unit, 16 * unit);
  }
  static std::size_t task_unit(const output_spec& out) noexcept {
    std::size_t unit = chunk_cols;
    if (out.what == output_spec::kind::requantized) unit = std::lcm(unit, out.writer.block);
    return unit;
  }

  /// The loop of the register-blocked algorithms (unpack_dot, bitserial): tasks of output channels,
  /// chunks of them whose weights fit a share of L2, MR activation rows at a time, then each row's
  /// epilogue. Inside a chunk, MR x NR blocks where both fit, else 1 x NR per activation row, and
  /// 1 x 1 for the last channels: block(rows, cols, m, n, s, lds) writes the sums of activation
  /// rows m.. and weight rows n.. to s[i * lds + j] (rows, cols: std::integral_constant).
  template <int MR, int NR, class Block>
  static void run_blocks(const packed_weights& w, const decoded_activations& a, const detail::epilogue_context& ctx,
                         const output_spec& out, const executor_ref& ex, Block&& block) {
    using full_rows = std::integral_constant<int, MR>;
    using one = std::integral_constant<int, 1>;
    using full_cols = std::integral_constant<int, NR>;
    const std::size_t unit = task_unit(out), chunk = chunk_rows(unit, w.stride());
    detail::for_each_task(ex, w.rows(), unit, [&](std::size_t nb, std::size_t ne) {
      std::vector<std::int32_t> s(static_cast<std::size_t>(MR) * chunk), scratch(chunk);
      for (std::size_t c0 = nb; c0 < ne; c0 += chunk) {
        const std::size_t cn = std::min(chunk, ne - c0);
        for (std::size_t m0 = 0; m0 < a.rows; m0 += MR) {
          const std::size_t mr = std::min<std::size_t>(MR, a.rows - m0);
          for (std::size_t n = 0; n < cn;) {
            if (cn - n >= static_cast<std::size_t>(NR)) {
              if (mr == static_cast<std::size_t>(MR))
                block(full_rows{}, full_cols{}, m0, c0 + n, s.data() + n, chunk);
              else
                for (std::size_t i = 0; i < mr; ++i) block(one{}, full_cols{}, m0 + i, c0 + n, s.data() + i * chunk + n, chunk);
              n += NR;
            } else {
              for (std::size_t i = 0; i < mr; ++i) block(one{}, one{}, m0 + i, c0 + n, s.data() + i * chunk + n, chunk);
              n += 1;
            }
          }
          for (std::size_t i = 0; i < mr; ++i)
            detail::finish_row<Arch>(ctx, m0 + i, c0, s.data() + i * chunk, cn, scratch.data());
        }
      }
    });
  }

  static void run_unpack(const packed_weights& w, const decoded_activations& a, const output_spec& out,
                         const executor_ref& ex) {
    constexpr unpack_traits tr = unpack_dot_traits<W, A>(Arch{}, Arch{});
    const detail::prepared_activations pa = detail::prepare_unpack<Arch>(a, w.padded_cols(), tr.int16_activations);
    const detail::epilogue_context ctx = context(w, a, pa, out, tr.weight_offset);
    run_blocks<tr.mr, tr.nr>(w, a, ctx, out, ex,
                             [&](auto rows, auto cols, std::size_t m, std::size_t n, std::int32_t* s, std::size_t lds) {
                               unpack_block_args g;
                               g.w = w.data() + n * w.stride();
                               g.w_stride = w.stride();
                               g.a = pa.data + m * pa.stride;
                               g.a_stride = pa.stride;
                               g.padded_cols = w.padded_cols();
                               g.s = s;
                               g.lds = lds;
                               unpack_dot_block<W, A, decltype(rows)::value, decltype(cols)::value>(g, Arch{}, Arch{});
                             });
  }

  static void run_lut(const packed_weights& w, const decoded_activations& a, const output_spec& out,
                      const executor_ref& ex) {
    constexpr int MR = lut_rows_per_block<W, A>(Arch{}, Arch{});
    constexpr std::size_t R = row_tiles::tile_rows;
    const detail::prepared_activations pa = detail::prepare_lut<Arch>(a, w.padded_cols());
    const detail::epilogue_context ctx = context(w, a, pa, out, 0);
    const std::size_t unit = task_unit(out), chunk = chunk_rows(unit, w.stride() / R);
    detail::for_each_task(ex, w.rows(), unit, [&](std::size_t nb, std::size_t ne) {
      std::vector<std::int32_t> s(static_cast<std::size_t>(MR) * chunk), scratch(chunk);
      for (std::size_t c0 = nb; c0 < ne; c0 += chunk) {
        const std::size_t cn = std::min(chunk, ne - c0);
        for (std::size_t m0 = 0; m0 < a.rows; m0 += MR) {
          const std::size_t mr = std::min<std::size_t>(MR, a.rows - m0);
          lut_block_args g;
          g.tables = pa.data + m0 * pa.stride;
          g.table_stride = pa.stride;
          g.chunks = w.padded_cols() / row_tiles::chunk_cols;
          g.lds = chunk;
          for (std::size_t n = 0; n < cn; n += R) {
            g.tile = w.data() + (c0 + n) / R * w.stride();
            g.s = s.data() + n;
            if (mr == static_cast<std::size_t>(MR)) {
              lut_block<W, A, MR>(g, Arch{}, Arch{});
            } else {
              for (std::size_t i = 0; i < mr; ++i) {
                lut_block_args gi = g;
                gi.tables = g.tables + i * pa.stride;
                gi.s = g.s + i * chunk;
                lut_block<W, A, 1>(gi, Arch{}, Arch{});
              }
            }
          }
          for (std::size_t i = 0; i < mr; ++i)
            detail::finish_row<Arch>(ctx, m0 + i, c0, s.data() + i * chunk, cn, scratch.data());
        }
      }
    });
  }

  static void run_bitserial(const packed_weights& w, const decoded_activations& a, const output_spec& out,
                            const executor_ref& ex) {
    constexpr bitserial_traits tr = bitserial_block_traits<W, A>(Arch{}, Arch{});
    const detail::prepared_activations pa = detail::prepare_bitserial<Arch>(a, w.padded_cols());
    const detail::epilogue_context ctx = context(w, a, pa, out, 0);
    run_blocks<tr.mr, tr.nr>(w, a, ctx, out, ex,
                             [&](auto rows, auto cols, std::size_t m, std::size_t n, std::int32_t* s, std::size_t lds) {
                               bitserial_block_args g;
                               g.w = w.data() + n * w.stride();
                               g.w_stride = w.stride();
                               g.a = reinterpret_cast<const std::uint64_t*>(pa.data) + m * pa.stride;
                               g.a_stride = pa.stride;
                               g.words = w.padded_cols() / 64;
                               g.s = s;
                               g.lds = lds;
                               bitserial_block<W, A, decltype(rows)::value, decltype(cols)::value>(g, Arch{}, Arch{});
                             });
  }
};

}  // namespace mpq::kernel
