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

namespace detail {

/// @brief The memory of a packed tensor, whatever its width and layout (packed_tensor and
/// any_packed_tensor share it): one 64-byte-aligned block holding the payload (rows * row_stride
/// bytes), padded to 64, then rows scales, then rows zero points (float). Move-only; a moved-from
/// storage is empty (rank 1, no rows).
class packed_storage {
 public:
  packed_storage() noexcept = default;
  packed_storage(packed_storage&& o) noexcept { *this = std::move(o); }
  packed_storage& operator=(packed_storage&& o) noexcept {
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
  ~packed_storage() = default;

  /// @brief Zero payload, scales 1, zero points 0. Checks rank (1 or 2; rank 1 has one row) and
  /// that the sizes fit size_t and memory; padded_cols and row_stride come from the layout.
  static status try_make(const packed_shape& shape, std::size_t padded_cols, std::size_t row_stride,
                         packed_storage& out) noexcept {
    if (shape.rank != 1 && shape.rank != 2)
      return status::failure(errc::invalid_argument, "packed_tensor: rank = %d: must be 1 or 2", shape.rank);
    if (shape.rank == 1 && shape.rows != 1)
      return status::failure(errc::invalid_argument, "packed_tensor: rank 1 with rows = %zu: must be 1", shape.rows);
    std::size_t payload = 0, offset = 0, floats_bytes = 0, total = 0;
    if (!checked_mul(shape.rows, row_stride, payload) || !checked_add(payload, packed_alignment - 1, offset) ||
        !checked_mul(shape.rows, 2 * sizeof(float), floats_bytes) ||
        !checked_add(offset / packed_alignment * packed_alignment, floats_bytes, total))
      return status::failure(errc::overflow, "packed_tensor: shape %zu x %zu: its size overflows size_t", shape.rows,
                             shape.cols);
    packed_storage st;
    MPQ_TRY(aligned_bytes::try_allocate(total, st.buf_));
    st.rank_ = shape.rank;
    st.rows_ = shape.rows;
    st.cols_ = shape.cols;
    st.padded_cols_ = padded_cols;
    st.row_stride_ = row_stride;
    st.scales_offset_ = offset / packed_alignment * packed_alignment;
    for (float& v : st.scales()) v = 1.0f;
    for (float& v : st.zero_points()) v = 0.0f;
    out = std::move(st);
    return {};
  }

  /// @brief A deep copy.
  status try_copy(packed_storage& out) const noexcept {
    packed_storage st;
    MPQ_TRY(aligned_bytes::try_allocate(buf_.size(), st.buf_));
    if (buf_.size() != 0) std::memcpy(st.buf_.data(), buf_.data(), buf_.size());
    st.rank_ = rank_;
    st.rows_ = rows_;
    st.cols_ = cols_;
    st.padded_cols_ = padded_cols_;
    st.row_stride_ = row_stride_;
    st.scales_offset_ = scales_offset_;
    out = std::move(st);
    return {};
  }

  packed_shape shape() const noexcept { return {rank_, rows_, cols_}; }
  int rank() const noexcept { return rank_; }
  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }
  std::size_t padded_cols() const noexcept { return padded_cols_; }
  std::size_t row_stride() const noexcept { return row_stride_; }
  std::size_t payload_bytes() const noexcept { return rows_ * row_stride_; }
  std::uint8_t* data() const noexcept { return buf_.data(); }
  std::span<float> scales() const noexcept { return {floats(), rows_}; }
  std::span<float> zero_points() const noexcept { return {floats() + rows_, rows_}; }

  /// @brief Same shape, payload bytes, scales and zero points.
  friend bool operator==(const packed_storage& a, const packed_storage& b) noexcept {
    if (a.shape() != b.shape() || a.padded_cols_ != b.padded_cols_ || a.row_stride_ != b.row_stride_) return false;
    if (a.payload_bytes() != 0 && std::memcmp(a.data(), b.data(), a.payload_bytes()) != 0) return false;
    for (std::size_t i = 0; i < a.rows_; ++i)
      if (a.scales()[i] != b.scales()[i] || a.zero_points()[i] != b.zero_points()[i]) return false;
    return true;
  }

 private:
  float* floats() const noexcept {
    return rows_ == 0 ? nullptr : reinterpret_cast<float*>(buf_.data() + scales_offset_);
  }

  aligned_bytes buf_;
  int rank_ = 1;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::size_t padded_cols_ = 0;
  std::size_t row_stride_ = 0;
  std::size_t scales_offset_ = 0;
};

}  // namespace detail

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
    // Bound cols so that padding and cols * Bits cannot wrap (that many codes exceed any memory).
    if (shape.cols > std::numeric_limits<std::size_t>::max() / 16)
      return status::failure(errc::overflow, "packed_tensor: cols = %zu: its size overflows size_t", shape.cols);
    const std::size_t padded = view_type::pad_cols(shape.cols);
    packed_tensor t;
    MPQ_TRY(detail::packed_storage::try_make(shape, padded, L::row_bytes(Bits, padded), t.st_));
    return t;
  }
  /// @brief Adopt a storage whose padded_cols and row_stride follow L (any_packed_tensor's way in).
  static packed_tensor adopt(detail::packed_storage&& st) noexcept {
    MPQ_ASSERT(st.padded_cols() == view_type::pad_cols(st.cols()) &&
               st.row_stride() == L::row_bytes(Bits, st.padded_cols()));
    packed_tensor t;
    t.st_ = std::move(st);
    return t;
  }
  /// @brief Give the storage away (the tensor becomes empty).
  detail::packed_storage release() && noexcept { return std::move(st_); }
  const detail::packed_storage& storage() const noexcept { return st_; }

  packed_tensor(const packed_tensor& o) { throw_if_error(o.st_.try_copy(st_)); }
  packed_tensor(packed_tensor&& o) noexcept = default;
  packed_tensor& operator=(const packed_tensor& o) {
    if (this != &o) *this = packed_tensor(o);
    return *this;
  }
  packed_tensor& operator=(packed_tensor&& o) noexcept = default;
  ~packed_tensor() = default;

  // ---- shape ----
  int rank() const noexcept { return st_.rank(); }
  packed_shape shape() const noexcept { return st_.shape(); }
  std::size_t rows() const noexcept { return st_.rows(); }
  std::size_t cols() const noexcept { return st_.cols(); }
  std::size_t size() const noexcept { return rows() * cols(); }
  bool empty() const noexcept { return size() == 0; }
  std::size_t padded_cols() const noexcept { return st_.padded_cols(); }
  /// @brief Bytes from one row to the next (= L::row_bytes(Bits, padded_cols())).
  std::size_t row_stride() const noexcept { return st_.row_stride(); }
  /// @brief Bytes of packed codes, rows() * row_stride().
  std::size_t payload_bytes() const noexcept { return st_.payload_bytes(); }

  // ---- memory ----
  std::uint8_t* data() noexcept { return st_.data(); }
  const std::uint8_t* data() const noexcept { return st_.data(); }
  std::span<std::uint8_t> payload() noexcept { return {data(), payload_bytes()}; }
  std::span<const std::uint8_t> payload() const noexcept { return {data(), payload_bytes()}; }
  view_type view() const noexcept { return {data(), rows(), cols(), padded_cols(), row_stride()}; }
  span_type span() noexcept { return {data(), rows(), cols(), padded_cols(), row_stride()}; }
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
    if (i < rows() && j < cols()) return {};
    return status::failure(errc::out_of_range, "packed_tensor: index (%zu, %zu) outside the shape %zu x %zu", i, j,
                           rows(), cols());
  }
  iterator begin() noexcept { return span().begin(); }
  iterator end() noexcept { return span().end(); }
  const_iterator begin() const noexcept { return view().begin(); }
  const_iterator end() const noexcept { return view().end(); }
  const_iterator cbegin() const noexcept { return begin(); }
  const_iterator cend() const noexcept { return end(); }

  // ---- per-row scale and zero point ----
  std::span<float> scales() noexcept { return st_.scales(); }
  std::span<const float> scales() const noexcept { return st_.scales(); }
  std::span<float> zero_points() noexcept { return st_.zero_points(); }
  std::span<const float> zero_points() const noexcept { return st_.zero_points(); }
  /// @brief The real value code (i, j) stands for: scales()[i] * (code - zero_points()[i]).
  float value(std::size_t i, std::size_t j) const noexcept {
    return scales()[i] * (static_cast<float>((*this)(i, j)) - zero_points()[i]);
  }

  /// @brief Same shape, codes, scales and zero points.
  friend bool operator==(const packed_tensor& a, const packed_tensor& b) noexcept { return a.st_ == b.st_; }

 private:
  detail::packed_storage st_;
};

}  // namespace mpq
