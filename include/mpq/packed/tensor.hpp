// packed_tensor<Bits, Signedness, Layout>: an owning, 64-byte-aligned matrix (or vector) of packed
// codes with one scale and zero point per row (per output channel).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <utility>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/packed/aligned_bytes.hpp"
#include "mpq/packed/element_access.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/packed/view.hpp"

namespace mpq {

/// @brief The shape of a packed tensor: rank 1 (a vector of `cols` codes, stored as one row) or
/// rank 2 (`rows` output channels x `cols` inputs).
struct packed_shape {
  int rank = 1;
  std::size_t rows = 0;
  std::size_t cols = 0;
  friend constexpr bool operator==(const packed_shape&, const packed_shape&) = default;
};

/// @brief Owning packed codes: rows x cols Bits-bit codes in layout L, rows padded with zero codes to
/// a multiple of L::col_block(Bits) and stored back to back (row_stride = L::row_bytes), the first
/// row 64-byte aligned. Row i has a scale and a zero point: the value of code c in row i is
///
///   scales()[i] * (c - zero_points()[i])
///
/// (zero_point = -code_offset in the quantizer's terms; it may be fractional, e.g. -0.5 for mid-rise
/// binary weights). A new tensor holds zero codes, scale 1 and zero point 0. A default-constructed or
/// moved-from tensor is empty (rank 1, no rows). Element access goes through packed_reference, whose
/// writes check the code's range; view()/span() hand the memory to kernels.
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved>
class packed_tensor {
  static_assert(is_packable_bits(Bits), "mpq::packed_tensor: Bits must be 1..8");
  static_assert(layout_supports<L>(Bits, S),
                "mpq::packed_tensor: the layout does not hold codes of this width and signedness");

 public:
  using layout = L;
  using view_type = packed_view<Bits, S, L>;
  using span_type = packed_span<Bits, S, L>;
  using reference = packed_reference<Bits, S, L>;
  using iterator = typename span_type::iterator;
  using const_iterator = typename view_type::iterator;
  static constexpr int bits = Bits;
  static constexpr signedness sign = S;
  static constexpr std::int32_t code_min = layout_code_min<L>(Bits, S);
  static constexpr std::int32_t code_max = layout_code_max<L>(Bits, S);

  packed_tensor() noexcept = default;
  /// @brief A rank-1 tensor of n zero codes. Raises errc::overflow if it does not fit in memory.
  explicit packed_tensor(std::size_t n) : packed_tensor(try_make(n).value()) {}
  /// @brief A rows x cols tensor of zero codes.
  packed_tensor(std::size_t rows, std::size_t cols) : packed_tensor(try_make(rows, cols).value()) {}

  static expected<packed_tensor> try_make(std::size_t n) noexcept { return try_make(packed_shape{1, 1, n}); }
  static expected<packed_tensor> try_make(std::size_t rows, std::size_t cols) noexcept {
    return try_make(packed_shape{2, rows, cols});
  }
  /// @brief Checked: rank 1 (rows must be 1) or 2; sizes that fit in memory.
  static expected<packed_tensor> try_make(const packed_shape& shape) noexcept {
    if (shape.rank != 1 && shape.rank != 2)
      return status::failure(errc::invalid_argument, "packed_tensor: rank = %d: must be 1 or 2", shape.rank);
    if (shape.rank == 1 && shape.rows != 1)
      return status::failure(errc::invalid_argument, "packed_tensor: rank 1 with rows = %zu: must be 1",
                             shape.rows);
    packed_tensor t;
    t.rank_ = shape.rank;
    t.rows_ = shape.rows;
    t.cols_ = shape.cols;
    std::size_t total = 0;
    if (!t.compute_sizes(total))
      return status::failure(errc::overflow, "packed_tensor: shape %zu x %zu: its size overflows size_t",
                             shape.rows, shape.cols);
    if (status s = detail::aligned_bytes::try_allocate(total, t.buf_); !s.ok()) return s;
    t.fill_default_scales();
    return t;
  }

  packed_tensor(const packed_tensor& o)
      : rank_(o.rank_), rows_(o.rows_), cols_(o.cols_), padded_cols_(o.padded_cols_),
        row_stride_(o.row_stride_), scales_offset_(o.scales_offset_) {
    throw_if_error(detail::aligned_bytes::try_allocate(o.buf_.size(), buf_));
    if (o.buf_.size() != 0) std::memcpy(buf_.data(), o.buf_.data(), o.buf_.size());
  }
  packed_tensor(packed_tensor&& o) noexcept
      : buf_(std::move(o.buf_)), rank_(std::exchange(o.rank_, 1)), rows_(std::exchange(o.rows_, 0)),
        cols_(std::exchange(o.cols_, 0)), padded_cols_(std::exchange(o.padded_cols_, 0)),
        row_stride_(std::exchange(o.row_stride_, 0)), scales_offset_(std::exchange(o.scales_offset_, 0)) {}
  packed_tensor& operator=(const packed_tensor& o) {
    if (this != &o) *this = packed_tensor(o);
    return *this;
  }
  packed_tensor& operator=(packed_tensor&& o) noexcept {
    if (this != &o) {
      buf_ = std::move(o.buf_);
      rank_ = std::exchange(o.rank_, 1);
      rows_ = std::exchange(o.rows_, 0);
      cols_ = std::exchange(o.cols_, 0);
      padded_cols_ = std::exchange(o.padded_cols_, 0);
      row_stride_ = std::exchange(o.row_stride_, 0);
      scales_offset_ = std::exchange(o.scales_offset_, 0);
    }
    return *this;
  }
  ~packed_tensor() = default;

  // ---- shape ----
  int rank() const noexcept { return rank_; }
  packed_shape shape() const noexcept { return {rank_, rows_, cols_}; }
  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t size() const noexcept { return rows_ * cols_; }
  bool empty() const noexcept { return size() == 0; }
  std::size_t padded_cols() const noexcept { return padded_cols_; }
  /// @brief Bytes from one row to the next (= L::row_bytes(Bits, padded_cols())).
  std::size_t row_stride() const noexcept { return row_stride_; }
  /// @brief Bytes of packed codes, rows() * row_stride().
  std::size_t payload_bytes() const noexcept { return rows_ * row_stride_; }

  // ---- memory ----
  std::uint8_t* data() noexcept { return buf_.data(); }
  const std::uint8_t* data() const noexcept { return buf_.data(); }
  std::span<std::uint8_t> payload() noexcept { return {buf_.data(), payload_bytes()}; }
  std::span<const std::uint8_t> payload() const noexcept { return {buf_.data(), payload_bytes()}; }
  view_type view() const noexcept { return {data(), rows_, cols_, padded_cols_, row_stride_}; }
  span_type span() noexcept { return {data(), rows_, cols_, padded_cols_, row_stride_}; }
  /// @brief Row i (an output channel) as a 1 x cols view / span.
  view_type row(std::size_t i) const noexcept { return view().row_view(i); }
  span_type row(std::size_t i) noexcept { return span().row_view(i); }

  // ---- elements ----
  reference operator()(std::size_t i, std::size_t j) noexcept { return span()(i, j); }
  std::int32_t operator()(std::size_t i, std::size_t j) const noexcept { return view()(i, j); }
  /// @brief Element n in row-major order (for rank 1, simply element n).
  reference operator[](std::size_t n) noexcept { return begin()[static_cast<std::ptrdiff_t>(n)]; }
  std::int32_t operator[](std::size_t n) const noexcept { return begin()[static_cast<std::ptrdiff_t>(n)]; }
  /// @brief Checked element access: raises errc::out_of_range for an index outside the shape.
  reference at(std::size_t i, std::size_t j) {
    throw_if_error(check_index(i, j));
    return (*this)(i, j);
  }
  std::int32_t at(std::size_t i, std::size_t j) const {
    throw_if_error(check_index(i, j));
    return (*this)(i, j);
  }
  status check_index(std::size_t i, std::size_t j) const noexcept {
    if (i < rows_ && j < cols_) return {};
    return status::failure(errc::out_of_range, "packed_tensor: index (%zu, %zu) outside the shape %zu x %zu", i, j,
                           rows_, cols_);
  }
  iterator begin() noexcept { return span().begin(); }
  iterator end() noexcept { return span().end(); }
  const_iterator begin() const noexcept { return view().begin(); }
  const_iterator end() const noexcept { return view().end(); }
  const_iterator cbegin() const noexcept { return begin(); }
  const_iterator cend() const noexcept { return end(); }

  // ---- per-row scale and zero point ----
  std::span<float> scales() noexcept { return {floats(), rows_}; }
  std::span<const float> scales() const noexcept { return {floats(), rows_}; }
  std::span<float> zero_points() noexcept { return {floats() + rows_, rows_}; }
  std::span<const float> zero_points() const noexcept { return {floats() + rows_, rows_}; }
  /// @brief The real value code (i, j) stands for: scales()[i] * (code - zero_points()[i]).
  float value(std::size_t i, std::size_t j) const noexcept {
    return scales()[i] * (static_cast<float>((*this)(i, j)) - zero_points()[i]);
  }

  /// @brief Same shape, codes, scales and zero points.
  friend bool operator==(const packed_tensor& a, const packed_tensor& b) noexcept {
    if (a.shape() != b.shape()) return false;
    if (a.payload_bytes() != 0 && std::memcmp(a.data(), b.data(), a.payload_bytes()) != 0) return false;
    for (std::size_t i = 0; i < a.rows_; ++i)
      if (a.scales()[i] != b.scales()[i] || a.zero_points()[i] != b.zero_points()[i]) return false;
    return true;
  }

 private:
  // Layout of buf_: payload (rows * row_stride bytes), padded to 64, then rows scales, rows zero points.
  bool compute_sizes(std::size_t& total) noexcept {
    // Bound cols so that padding and cols * Bits cannot wrap (that many codes exceed any memory).
    if (cols_ > std::numeric_limits<std::size_t>::max() / 16) return false;
    padded_cols_ = view_type::pad_cols(cols_);
    row_stride_ = L::row_bytes(Bits, padded_cols_);
    std::size_t payload = 0, floats_bytes = 0;
    if (!detail::checked_mul(rows_, row_stride_, payload) ||
        !detail::checked_add(payload, packed_alignment - 1, scales_offset_) ||
        !detail::checked_mul(rows_, 2 * sizeof(float), floats_bytes))
      return false;
    scales_offset_ = scales_offset_ / packed_alignment * packed_alignment;
    return detail::checked_add(scales_offset_, floats_bytes, total);
  }
  void fill_default_scales() noexcept {
    for (float& s : scales()) s = 1.0f;
    for (float& z : zero_points()) z = 0.0f;
  }
  float* floats() const noexcept {
    return rows_ == 0 ? nullptr : reinterpret_cast<float*>(buf_.data() + scales_offset_);
  }

  detail::aligned_bytes buf_;
  int rank_ = 1;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::size_t padded_cols_ = 0;
  std::size_t row_stride_ = 0;
  std::size_t scales_offset_ = 0;
};

}  // namespace mpq
