// Element access into packed rows: the proxy reference to one code and the row-major iterator.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <type_traits>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/packed/layout_concepts.hpp"

namespace mpq {

/// @brief Checked: ok if `code` is a code layout L stores at Bits bits, signedness S.
template <int Bits, signedness S, PackedLayout L>
status check_code(std::int32_t code) noexcept {
  constexpr std::int32_t lo = layout_code_min<L>(Bits, S), hi = layout_code_max<L>(Bits, S);
  if (code >= lo && code <= hi) return {};
  return status::failure(errc::out_of_range, "code = %d: %d-bit %s codes in layout %s must lie in [%d, %d]",
                         static_cast<int>(code), Bits, to_string(S), L::name, static_cast<int>(lo),
                         static_cast<int>(hi));
}

/// @brief A writable reference to code j of a packed row. Reads give the code (sign-extended when
/// signed); writes check the code's range and raise errc::out_of_range if it does not fit.
/// Like std::vector<bool>::reference it is a proxy: `auto r = t(i, j)` refers, it does not copy.
template <int Bits, signedness S, PackedLayout L>
class packed_reference {
 public:
  constexpr packed_reference(std::uint8_t* row, std::size_t row_bytes, std::size_t padded_cols,
                             std::size_t j) noexcept
      : row_(row), row_bytes_(row_bytes), padded_cols_(padded_cols), j_(j) {}
  packed_reference(const packed_reference&) = default;

  constexpr operator std::int32_t() const noexcept {  // NOLINT(implicit)
    return field_to_code(L::load(std::span<const std::uint8_t>(row_, row_bytes_), Bits, padded_cols_, j_), Bits, S);
  }
  /// @brief Store a code; raises errc::out_of_range (and stores nothing) if it does not fit.
  const packed_reference& operator=(std::int32_t code) const {
    throw_if_error(check_code<Bits, S, L>(code));
    L::store(std::span<std::uint8_t>(row_, row_bytes_), Bits, padded_cols_, j_, code_to_field(code, Bits));
    return *this;
  }
  const packed_reference& operator=(const packed_reference& other) const {
    return *this = static_cast<std::int32_t>(other);
  }

 private:
  std::uint8_t* row_;
  std::size_t row_bytes_;
  std::size_t padded_cols_;
  std::size_t j_;
};

/// @brief Random-access iterator over the real codes of a packed matrix in row-major order
/// (padding is skipped). Dereferencing gives a packed_reference for writable bytes, a code otherwise.
template <int Bits, signedness S, PackedLayout L, class Byte>
class packed_iterator {
  static constexpr bool writable = !std::is_const_v<Byte>;

 public:
  using value_type = std::int32_t;
  using difference_type = std::ptrdiff_t;
  using reference = std::conditional_t<writable, packed_reference<Bits, S, L>, std::int32_t>;
  using iterator_category = std::random_access_iterator_tag;
  using iterator_concept = std::random_access_iterator_tag;

  constexpr packed_iterator() noexcept = default;
  constexpr packed_iterator(Byte* data, std::size_t cols, std::size_t padded_cols, std::size_t row_stride,
                            difference_type index) noexcept
      : data_(data), cols_(cols), padded_cols_(padded_cols), row_stride_(row_stride), n_(index) {}

  constexpr reference operator*() const noexcept {
    const auto n = static_cast<std::size_t>(n_);
    Byte* row = data_ + (n / cols_) * row_stride_;
    const std::size_t row_bytes = L::row_bytes(Bits, padded_cols_);
    if constexpr (writable) {
      return reference(row, row_bytes, padded_cols_, n % cols_);
    } else {
      return field_to_code(L::load(std::span<const std::uint8_t>(row, row_bytes), Bits, padded_cols_, n % cols_),
                           Bits, S);
    }
  }
  constexpr reference operator[](difference_type k) const noexcept { return *(*this + k); }

  constexpr packed_iterator& operator++() noexcept { ++n_; return *this; }
  constexpr packed_iterator operator++(int) noexcept { auto t = *this; ++n_; return t; }
  constexpr packed_iterator& operator--() noexcept { --n_; return *this; }
  constexpr packed_iterator operator--(int) noexcept { auto t = *this; --n_; return t; }
  constexpr packed_iterator& operator+=(difference_type k) noexcept { n_ += k; return *this; }
  constexpr packed_iterator& operator-=(difference_type k) noexcept { n_ -= k; return *this; }
  friend constexpr packed_iterator operator+(packed_iterator it, difference_type k) noexcept { return it += k; }
  friend constexpr packed_iterator operator+(difference_type k, packed_iterator it) noexcept { return it += k; }
  friend constexpr packed_iterator operator-(packed_iterator it, difference_type k) noexcept { return it -= k; }
  friend constexpr difference_type operator-(const packed_iterator& a, const packed_iterator& b) noexcept {
    return a.n_ - b.n_;
  }
  friend constexpr bool operator==(const packed_iterator& a, const packed_iterator& b) noexcept {
    return a.n_ == b.n_;
  }
  friend constexpr std::strong_ordering operator<=>(const packed_iterator& a, const packed_iterator& b) noexcept {
    return a.n_ <=> b.n_;
  }

 private:
  Byte* data_ = nullptr;
  std::size_t cols_ = 0;
  std::size_t padded_cols_ = 0;
  std::size_t row_stride_ = 0;
  difference_type n_ = 0;
};

}  // namespace mpq
