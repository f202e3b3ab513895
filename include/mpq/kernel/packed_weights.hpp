// packed_weights: a weight matrix prepared once for the SIMD kernels (kernel-blocked format, row sums).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <utility>
#include <vector>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/kernel/algorithm.hpp"
#include "mpq/kernel/operands.hpp"
#include "mpq/kernel/row_tiles.hpp"
#include "mpq/kernel/split_planes.hpp"
#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/packed/view.hpp"

namespace mpq::kernel {

/// @brief Alignment of packed_weights' rows and tiles (a cache line; aligned loads never split it).
inline constexpr std::size_t weights_alignment = kernel_alignment;

namespace detail {

/// split_planes row from codes[0 .. padded_cols) (zero beyond the real ones).
inline void encode_split_planes(const std::int8_t* codes, int bits, std::size_t padded_cols, std::uint8_t* row) noexcept {
  const field_split fs = field_split::of(bits);
  const std::size_t block = split_planes::col_block(bits);
  std::uint8_t* out = row;
  for (std::size_t b0 = 0; b0 < padded_cols; b0 += block) {
    for (int q = 0; q < fs.count; ++q) {
      const int p = fs.width[q];
      const std::uint32_t mask = (1u << p) - 1u;
      const std::size_t per_chunk = static_cast<std::size_t>(32 * 8 / p);
      for (std::size_t c0 = 0; c0 < block; c0 += per_chunk, out += 32)
        for (std::size_t j = 0; j < 32; ++j) {
          std::uint32_t byte = 0;
          for (std::size_t t = 0; t < per_chunk / 32; ++t) {
            const auto field = static_cast<std::uint32_t>(static_cast<std::uint8_t>(codes[b0 + c0 + 32 * t + j]));
            byte |= ((field >> fs.shift[q]) & mask) << (t * static_cast<std::size_t>(p));
          }
          out[j] = static_cast<std::uint8_t>(byte);
        }
    }
  }
}

/// bitplane row from codes[0 .. padded_cols).
inline void encode_bitplane(const std::int8_t* codes, int bits, std::size_t padded_cols, std::uint8_t* row) noexcept {
  const std::size_t pb = bitplane::plane_bytes(padded_cols);
  for (int p = 0; p < bits; ++p)
    for (std::size_t g = 0; g < pb; ++g) {
      std::uint32_t byte = 0;
      for (std::size_t i = 0; i < 8; ++i)
        byte |= ((static_cast<std::uint32_t>(static_cast<std::uint8_t>(codes[8 * g + i])) >> p) & 1u) << i;
      row[static_cast<std::size_t>(p) * pb + g] = static_cast<std::uint8_t>(byte);
    }
}

/// One row_tiles tile from 32 rows of codes (row r at codes + r * ld, padded_cols each).
inline void encode_row_tile(const std::int8_t* codes, std::size_t ld, int bits, std::size_t padded_cols,
                            std::uint8_t* tile) noexcept {
  for (std::size_t c = 0; c < padded_cols / row_tiles::chunk_cols; ++c)
    for (int p = 0; p < bits; ++p)
      for (std::size_t r = 0; r < row_tiles::tile_rows; ++r) {
        const std::int8_t* src = codes + r * ld + c * row_tiles::chunk_cols;
        std::uint32_t byte = 0;
        for (std::size_t i = 0; i < 8; ++i)
          byte |= ((static_cast<std::uint32_t>(static_cast<std::uint8_t>(src[i])) >> p) & 1u) << i;
        tile[row_tiles::offset(bits, r, c * row_tiles::chunk_cols, p)] = static_cast<std::uint8_t>(byte);
      }
}

}  // namespace detail

/// @brief A signed W-bit weight matrix (N output channels x K) in the format one kernel algorithm
/// reads, with its row sums; built once (at model load) by prepack(), used by every gemv/gemm call.
///
/// Formats: algorithm::unpack_dot reads split_planes rows, algorithm::bitserial reads bitplane rows
/// (both PackedLayouts, rows 64-byte aligned, row_stride a multiple of 64), algorithm::lut reads
/// row_tiles (32-row tiles). Every kernel ISA accepts every format; the format only decides speed.
/// Owning (prepack) or borrowing (borrow: the caller's split_planes or bitplane rows, which must be
/// 64-byte aligned). Immutable after construction, so one object may serve many threads.
class packed_weights {
 public:
  packed_weights() = default;

  int bits() const noexcept { return bits_; }
  kernel::algorithm algorithm() const noexcept { return algorithm_; }
  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t padded_cols() const noexcept { return padded_cols_; }
  /// @brief Bytes between rows (split_planes, bitplane) or between tiles (row_tiles).
  std::size_t stride() const noexcept { return stride_; }
  /// @brief Number of 32-row tiles (row_tiles only; 0 otherwise).
  std::size_t tiles() const noexcept { return algorithm_ == algorithm::lut ? ceil_div(rows_, row_tiles::tile_rows) : 0; }
  const std::uint8_t* data() const noexcept { return data_; }
  /// @brief sum_k W[n][k] over the real columns: the correction for activation offsets.
  std::span<const std::int32_t> row_sums() const noexcept { return row_sums_; }
  bool owning() const noexcept { return static_cast<bool>(storage_); }

  /// @brief Code (n, k), decoded from whichever format holds it (scalar; for tests and tools).
  std::int32_t code(std::size_t n, std::size_t k) const noexcept {
    std::uint32_t field = 0;
    switch (algorithm_) {
      case algorithm::unpack_dot:
        field = split_planes::load({data_ + n * stride_, stride_}, bits_, padded_cols_, k);
        break;
      case algorithm::bitserial:
        field = bitplane::load({data_ + n * stride_, stride_}, bits_, padded_cols_, k);
        break;
      case algorithm::lut:
        field = row_tiles::load(data_ + n / row_tiles::tile_rows * stride_, bits_, n % row_tiles::tile_rows, k);
        break;
    }
    return field_to_code(field, bits_, signed_codes);
  }

  /// @brief Weights `w` (any layout) in the format of algorithm `algo`.
  template <int W, PackedLayout L>
  static expected<packed_weights> try_prepack(const packed_view<W, signed_codes, L>& w, kernel::algorithm algo) {
    if (w.data == nullptr && w.rows != 0 && w.cols != 0)
      return status::failure(errc::invalid_argument, "prepack: weight data is null for a %zu x %zu view", w.rows,
                             w.cols);
    packed_weights p;
    p.bits_ = W;
    p.algorithm_ = algo;
    p.rows_ = w.rows;
    p.cols_ = w.cols;
    std::size_t block = 64;
    if (algo == algorithm::unpack_dot) block = split_planes::col_block(W);
    p.padded_cols_ = round_up(w.cols == 0 ? 1 : w.cols, block);
    p.row_sums_.assign(w.rows, 0);
    // Rows are decoded to int8 in groups of 32 (a tile), then encoded.
    const std::size_t group = row_tiles::tile_rows;
    std::vector<std::int8_t> codes(group * p.padded_cols_, 0);
    std::size_t total = 0;
    if (algo == algorithm::lut) {
      p.stride_ = round_up(row_tiles::tile_bytes(W, p.padded_cols_), weights_alignment);
      total = ceil_div(w.rows, group) * p.stride_;
    } else {
      const std::size_t row_bytes = algo == algorithm::unpack_dot ? split_planes::row_bytes(W, p.padded_cols_)
                                                                  : bitplane::row_bytes(W, p.padded_cols_);
      p.stride_ = round_up(row_bytes, weights_alignment);
      // Rows a multiple of 4 KiB apart share L1 sets, and a GEMV reads NR rows while it prefetches
      // NR more at the same offsets. One more cache line per row keeps them apart (measured at
      // 16384^2, where W4 rows are 8 KiB: GEMV W4A8 5.0 -> 3.7-4.3 ms; W6 and W8 unchanged).
      if (p.stride_ % 4096 == 0) p.stride_ += weights_alignment;
      total = w.rows * p.stride_;
    }
    p.storage_ = detail::allocate_zeroed(total);
    p.data_ = p.storage_.get();
    for (std::size_t n0 = 0; n0 < w.rows; n0 += group) {
      const std::size_t count = w.rows - n0 < group ? w.rows - n0 : group;
      for (auto& c : codes) c = 0;
      for (std::size_t r = 0; r < count; ++r) {
        std::int8_t* row = codes.data() + r * p.padded_cols_;
        detail::decode_row(w, n0 + r, row);
        std::int64_t s = 0;
        for (std::size_t k = 0; k < w.cols; ++k) s += row[k];
        p.row_sums_[n0 + r] = static_cast<std::int32_t>(s);  // exact for every K a kernel accepts
      }
      if (algo == algorithm::lut) {
        detail::encode_row_tile(codes.data(), p.padded_cols_, W, p.padded_cols_, p.storage_.get() + n0 / group * p.stride_);
      } else {
        for (std::size_t r = 0; r < count; ++r) {
          std::uint8_t* dst = p.storage_.get() + (n0 + r) * p.stride_;
          if (algo == algorithm::unpack_dot)
            detail::encode_split_planes(codes.data() + r * p.padded_cols_, W, p.padded_cols_, dst);
          else
            detail::encode_bitplane(codes.data() + r * p.padded_cols_, W, p.padded_cols_, dst);
        }
      }
    }
    return p;
  }

  /// @brief Weights in the format the choice table picks for activations of `a_bits` bits on `target`
  /// (the ISA these translation units were compiled for, by default).
  template <int W, PackedLayout L>
  static expected<packed_weights> try_prepack_for(const packed_view<W, signed_codes, L>& w, int a_bits,
                                                  isa target = compiled_isa) {
    MPQ_TRY(check_packable_bits(a_bits, "activation bits"));
    return try_prepack(w, choose_algorithm(target, W, a_bits));
  }

  /// @brief Use the caller's rows in place (no copy; the caller keeps them alive and unchanged).
  /// The rows must start 64-byte aligned and be a multiple of 64 bytes apart (errc::misaligned).
  template <int W, PackedLayout L>
    requires(std::is_same_v<L, split_planes> || std::is_same_v<L, bitplane>)
  static expected<packed_weights> try_borrow(const packed_view<W, signed_codes, L>& w) {
    if (w.data == nullptr && w.rows != 0 && w.cols != 0)
      return status::failure(errc::invalid_argument, "borrow: weight data is null for a %zu x %zu view", w.rows,
                             w.cols);
    if (reinterpret_cast<std::uintptr_t>(w.data) % weights_alignment != 0)
      return status::failure(errc::misaligned,
                             "borrow: weight rows start at %p: kernels read %s rows at 64-byte aligned addresses",
                             static_cast<const void*>(w.data), L::name);
    if (w.rows > 1 && w.row_stride % weights_alignment != 0)
      return status::failure(errc::misaligned,
                             "borrow: row_stride = %zu bytes: kernels need rows a multiple of 64 bytes apart",
                             w.row_stride);
    if (w.padded_cols % L::col_block(W) != 0 || w.padded_cols < w.cols)
      return status::failure(errc::invalid_argument,
                             "borrow: padded_cols = %zu is not a multiple of %s's block of %zu codes", w.padded_cols,
                             L::name, L::col_block(W));
    packed_weights p;
    p.bits_ = W;
    p.algorithm_ = std::is_same_v<L, split_planes> ? algorithm::unpack_dot : algorithm::bitserial;
    p.rows_ = w.rows;
    p.cols_ = w.cols;
    p.padded_cols_ = w.padded_cols;
    p.stride_ = w.rows > 1 ? w.row_stride : round_up(L::row_bytes(W, w.padded_cols), weights_alignment);
    p.data_ = w.data;
    p.row_sums_.assign(w.rows, 0);
    std::vector<std::int8_t> row(w.cols == 0 ? 1 : w.cols);
    for (std::size_t n = 0; n < w.rows; ++n) {
      detail::decode_row(w, n, row.data());
      std::int64_t s = 0;
      for (std::size_t k = 0; k < w.cols; ++k) s += row[k];
      p.row_sums_[n] = static_cast<std::int32_t>(s);
    }
    return p;
  }

  /// @brief Rows [first, first + count) as a borrowing packed_weights over the same memory. For
  /// row_tiles weights `first` must be a multiple of 32 (a tile), else errc::invalid_argument.
  expected<packed_weights> try_slice(std::size_t first, std::size_t count) const {
    if (first > rows_ || count > rows_ - first)
      return status::failure(errc::out_of_range, "slice: rows [%zu, %zu) outside the %zu rows", first, first + count,
                             rows_);
    if (algorithm_ == algorithm::lut && first % row_tiles::tile_rows != 0)
      return status::failure(errc::invalid_argument,
                             "slice: first row %zu: row_tiles weights are cut at multiples of 32 rows", first);
    packed_weights p;
    p.bits_ = bits_;
    p.algorithm_ = algorithm_;
    p.rows_ = count;
    p.cols_ = cols_;
    p.padded_cols_ = padded_cols_;
    p.stride_ = stride_;
    p.data_ = data_ + (algorithm_ == algorithm::lut ? first / row_tiles::tile_rows : first) * stride_;
    p.row_sums_.assign(row_sums_.begin() + static_cast<std::ptrdiff_t>(first),
                       row_sums_.begin() + static_cast<std::ptrdiff_t>(first + count));
    return p;
  }

  /// @brief Throwing forms.
  template <int W, PackedLayout L>
  static packed_weights prepack(const packed_view<W, signed_codes, L>& w, kernel::algorithm algo) {
    return try_prepack(w, algo).value();
  }
  template <int W, PackedLayout L>
  static packed_weights prepack_for(const packed_view<W, signed_codes, L>& w, int a_bits,
                                    isa target = compiled_isa) {
    return try_prepack_for(w, a_bits, target).value();
  }

 private:
  int bits_ = 0;
  kernel::algorithm algorithm_ = algorithm::unpack_dot;
  std::size_t rows_ = 0, cols_ = 0, padded_cols_ = 0, stride_ = 0;
  const std::uint8_t* data_ = nullptr;
  detail::aligned_buffer storage_;
  std::vector<std::int32_t> row_sums_;
};

namespace detail {
/// Words per activation plane a bitserial kernel reads for w (0 for the other algorithms): what the
/// front end tells activation_codes::decode so it can hand 1-bit rows over in place.
inline std::size_t bitserial_words(const packed_weights& w) noexcept {
  return w.algorithm() == algorithm::bitserial ? w.padded_cols() / 64 : 0;
}
}  // namespace detail

}  // namespace mpq::kernel
