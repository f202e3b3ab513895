// Non-owning views of packed B-bit matrices: what kernels take, what packed tensors hand out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "mpq/core/bits.hpp"
#include "mpq/core/math.hpp"
#include "mpq/packed/element_access.hpp"
#include "mpq/packed/layout_concepts.hpp"

namespace mpq {

/// @brief A rows x cols matrix of Bits-bit codes stored row-major in layout L, not owned.
///
/// Row i starts at data + i * row_stride bytes and holds padded_cols codes (cols real ones, then zero
/// codes up to a multiple of L::col_block(Bits)). row_stride >= L::row_bytes(Bits, padded_cols).
/// Byte is `const std::uint8_t` for a read-only view, `std::uint8_t` for a writable one.
template <int Bits, signedness S, PackedLayout L, class Byte = const std::uint8_t>
struct basic_packed_view {
  static_assert(is_packable_bits(Bits), "mpq::basic_packed_view: Bits must be 1..8");
  static_assert(std::is_same_v<std::remove_const_t<Byte>, std::uint8_t>, "Byte must be (const) std::uint8_t");

  using layout = L;
  using traits = code_traits<Bits, S>;
  static constexpr int bits = Bits;
  static constexpr signedness sign = S;

  Byte* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t padded_cols = 0;
  std::size_t row_stride = 0;  // bytes

  /// @brief padded_cols for `cols` codes in this layout.
  static constexpr std::size_t pad_cols(std::size_t cols) noexcept { return round_up(cols, L::col_block(Bits)); }
  /// @brief Bytes of one padded row (the tightest row_stride).
  static constexpr std::size_t bytes_per_row(std::size_t cols) noexcept { return L::row_bytes(Bits, pad_cols(cols)); }

  constexpr Byte* row(std::size_t i) const noexcept { return data + i * row_stride; }
  constexpr std::span<Byte> row_span(std::size_t i) const noexcept {
    return {row(i), L::row_bytes(Bits, padded_cols)};
  }

  /// @brief Code (i, j), sign-extended when signed. Scalar; for tests and small loops.
  constexpr std::int32_t get(std::size_t i, std::size_t j) const noexcept {
    return field_to_code(L::load(std::span<const std::uint8_t>(row_span(i)), Bits, padded_cols, j), Bits, S);
  }
  constexpr void set(std::size_t i, std::size_t j, std::int32_t code) const noexcept
    requires(!std::is_const_v<Byte>)
  {
    L::store(row_span(i), Bits, padded_cols, j, code_to_field(code, Bits));
  }

  /// @brief Number of real codes, rows * cols.
  constexpr std::size_t size() const noexcept { return rows * cols; }

  using iterator = packed_iterator<Bits, S, L, Byte>;
  /// @brief Code (i, j): a packed_reference (checked writes) for a writable view, the code otherwise.
  constexpr typename iterator::reference operator()(std::size_t i, std::size_t j) const noexcept {
    MPQ_ASSERT(i < rows && j < cols);
    if constexpr (std::is_const_v<Byte>) {
      return get(i, j);
    } else {
      return {row(i), L::row_bytes(Bits, padded_cols), padded_cols, j};
    }
  }
  /// @brief Row-major over the real codes (padding skipped).
  constexpr iterator begin() const noexcept { return {data, cols, padded_cols, row_stride, 0}; }
  constexpr iterator end() const noexcept {
    return {data, cols, padded_cols, row_stride, static_cast<std::ptrdiff_t>(size())};
  }
  /// @brief Rows [first, first + count) as a view of the same memory.
  constexpr basic_packed_view row_range(std::size_t first, std::size_t count) const noexcept {
    MPQ_ASSERT(first + count <= rows);
    return {data + first * row_stride, count, cols, padded_cols, row_stride};
  }
  /// @brief Row i as a 1 x cols view.
  constexpr basic_packed_view row_view(std::size_t i) const noexcept { return row_range(i, 1); }

  /// @brief The read-only view of the same memory.
  constexpr operator basic_packed_view<Bits, S, L, const std::uint8_t>() const noexcept  // NOLINT(implicit)
    requires(!std::is_const_v<Byte>)
  {
    return {data, rows, cols, padded_cols, row_stride};
  }
};

template <int Bits, signedness S, PackedLayout L>
using packed_view = basic_packed_view<Bits, S, L, const std::uint8_t>;

template <int Bits, signedness S, PackedLayout L>
using packed_span = basic_packed_view<Bits, S, L, std::uint8_t>;

}  // namespace mpq
