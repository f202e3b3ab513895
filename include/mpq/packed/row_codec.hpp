// Codes <-> packed rows for any PackedLayout: the layout's bulk members if it has them, else store/load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "mpq/core/bits.hpp"
#include "mpq/core/math.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/quant/span.hpp"

namespace mpq {

/// @brief True if Int holds every code layout L stores at Bits bits, signedness S.
template <class Int, int Bits, signedness S, class L>
inline constexpr bool holds_codes_v =
    CodeType<Int> && std::numeric_limits<Int>::min() <= layout_code_min<L>(Bits, S) &&
    static_cast<std::int64_t>(std::numeric_limits<Int>::max()) >= layout_code_max<L>(Bits, S);

/// @brief Write codes j0 .. j0+n-1 of a row (j0 a multiple of L::col_block(Bits)) and zero codes
/// from j0+n up to the next block boundary. Codes must be in the layout's range (not checked here).
template <int Bits, PackedLayout L, CodeType Int>
void pack_cols(std::span<std::uint8_t> row, std::size_t padded_cols, std::size_t j0,
               std::span<const Int> codes) noexcept {
  if constexpr (LayoutWithPackCols<L, Bits, Int>) {
    L::template pack_cols<Bits>(row, padded_cols, j0, codes);
  } else {
    const std::size_t end = round_up(j0 + codes.size(), L::col_block(Bits));
    MPQ_ASSERT(end <= padded_cols);
    for (std::size_t j = j0; j < end; ++j) {
      const std::int32_t c = j - j0 < codes.size() ? static_cast<std::int32_t>(codes[j - j0]) : 0;
      L::store(row, Bits, padded_cols, j, code_to_field(c, Bits));
    }
  }
}

/// @brief Read codes j0 .. j0+out.size()-1 of a row (j0 a multiple of L::col_block(Bits)).
template <int Bits, signedness S, PackedLayout L, CodeType Int>
void unpack_cols(std::span<const std::uint8_t> row, std::size_t padded_cols, std::size_t j0,
                 std::span<Int> out) noexcept {
  static_assert(holds_codes_v<Int, Bits, S, L>, "mpq::unpack: the integer type cannot hold every code");
  if constexpr (LayoutWithUnpackCols<L, Bits, S, Int>) {
    L::template unpack_cols<Bits, S>(row, padded_cols, j0, out);
  } else {
    for (std::size_t k = 0; k < out.size(); ++k)
      out[k] = static_cast<Int>(field_to_code(L::load(row, Bits, padded_cols, j0 + k), Bits, S));
  }
}

/// @brief Pack one whole row: codes.size() <= padded_cols real codes, zero codes after them.
template <int Bits, PackedLayout L, CodeType Int>
void pack_row(std::span<std::uint8_t> row, std::size_t padded_cols, std::span<const Int> codes) noexcept {
  MPQ_ASSERT(codes.size() <= padded_cols);
  pack_cols<Bits, L>(row, padded_cols, 0, codes);
  // Whole blocks past the codes (only when fewer than cols codes were given): zero, one by one.
  for (std::size_t j = round_up(codes.size(), L::col_block(Bits)); j < padded_cols; ++j)
    L::store(row, Bits, padded_cols, j, 0);
}

/// @brief Unpack the first out.size() codes of a row.
template <int Bits, signedness S, PackedLayout L, CodeType Int>
void unpack_row(std::span<const std::uint8_t> row, std::size_t padded_cols, std::span<Int> out) noexcept {
  unpack_cols<Bits, S, L>(row, padded_cols, 0, out);
}

/// @brief True if a row is what packing `cols` codes produces: every code inside the layout's
/// range, the padding codes (cols .. padded_cols-1) zero, and (if L can tell) no impossible byte.
/// This is what a loaded file must satisfy before kernels may read it.
template <int Bits, signedness S, PackedLayout L>
constexpr bool row_is_canonical(std::span<const std::uint8_t> row, std::size_t padded_cols,
                                std::size_t cols) noexcept {
  if constexpr (LayoutWithByteCheck<L>) {
    if (!L::valid_bytes(row, Bits, padded_cols)) return false;
  }
  constexpr std::int32_t lo = layout_code_min<L>(Bits, S), hi = layout_code_max<L>(Bits, S);
  if constexpr (lo > code_min(Bits, S) || hi < code_max(Bits, S)) {
    for (std::size_t j = 0; j < cols; ++j) {
      const std::int32_t c = field_to_code(L::load(row, Bits, padded_cols, j), Bits, S);
      if (c < lo || c > hi) return false;
    }
  }
  for (std::size_t j = cols; j < padded_cols; ++j)
    if (L::load(row, Bits, padded_cols, j) != 0) return false;
  return true;
}

}  // namespace mpq
