// The PackedLayout concept: where the B bits of code j of a row sit in that row's bytes.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/bits.hpp"

namespace mpq {

/// @brief Alignment (bytes) of the first row of every owning packed tensor: one cache line, one zmm.
inline constexpr std::size_t packed_alignment = 64;

/// @brief A packed layout describes one row of B-bit codes (B = 1..8) as bytes.
///
/// Rows are independent and have the same size; a row of `cols` codes is padded up to
/// `padded_cols = round_up(cols, L::col_block(bits))` codes, and the padding codes are 0, so a dot
/// product over the padded row equals the dot product over the real one. A layout gives:
///   - L::name                          a stable identifier (also written to files)
///   - L::col_block(bits)               the padding granularity in codes
///   - L::row_bytes(bits, padded_cols)  bytes of one padded row
///   - L::store(row, bits, padded_cols, j, field) / L::load(row, bits, padded_cols, j)
///                                      write / read the `bits`-bit field of code j (scalar, constexpr)
/// Satisfied by interleaved, bitplane, ternary_base3, strided_block<N> and the kernel-blocked layouts
/// that kernels declare. Every packing, conversion, tensor and file function in packed/ takes any
/// PackedLayout; the optional members below only make it faster or narrower (docs/packed_layouts.md).
template <class L>
concept PackedLayout = requires(std::span<std::uint8_t> row, std::span<const std::uint8_t> crow, int bits,
                                std::size_t padded_cols, std::size_t j, std::uint32_t field) {
  { L::name } -> std::convertible_to<const char*>;
  { L::col_block(bits) } -> std::same_as<std::size_t>;
  { L::row_bytes(bits, padded_cols) } -> std::same_as<std::size_t>;
  { L::store(row, bits, padded_cols, j, field) } -> std::same_as<void>;
  { L::load(crow, bits, padded_cols, j) } -> std::same_as<std::uint32_t>;
};

// ---- optional members of a layout ---------------------------------------------------------------
//
//   static constexpr bool supports(int bits, signedness s)
//       which (bits, signedness) the layout can hold; absent = every width 1..8, both signednesses.
//   static constexpr std::int32_t code_min(int bits, signedness s), code_max(int bits, signedness s)
//       a narrower code range than the width's (ternary_base3 holds only -1, 0, +1); absent = full.
//   template <int Bits, class Int> static void pack_cols(std::span<std::uint8_t> row,
//       std::size_t padded_cols, std::size_t j0, std::span<const Int> codes) noexcept
//       bulk store of codes j0 .. j0 + n - 1 (j0 a multiple of col_block(Bits)); the codes from
//       j0 + n up to the next multiple of col_block(Bits) are written as 0. Codes are in range.
//   template <int Bits, signedness S, class Int> static void unpack_cols(std::span<const std::uint8_t> row,
//       std::size_t padded_cols, std::size_t j0, std::span<Int> out) noexcept
//       bulk load of codes j0 .. j0 + out.size() - 1 (j0 a multiple of col_block(Bits)).
//   static constexpr bool valid_bytes(std::span<const std::uint8_t> row, int bits, std::size_t padded_cols)
//       false if the row holds a byte no sequence of codes produces (ternary_base3: bytes >= 243);
//       absent = every byte is valid. Loading a file checks it.
// The scalar store/load are the reference the bulk members are tested against.

/// @brief L declares which (bits, signedness) it holds.
template <class L>
concept LayoutWithSupports = requires(int bits, signedness s) {
  { L::supports(bits, s) } -> std::convertible_to<bool>;
};

/// @brief L declares a code range narrower than the full range of the width.
template <class L>
concept LayoutWithCodeRange = requires(int bits, signedness s) {
  { L::code_min(bits, s) } -> std::same_as<std::int32_t>;
  { L::code_max(bits, s) } -> std::same_as<std::int32_t>;
};

/// @brief L has a bulk store for Bits-bit codes given as Int.
template <class L, int Bits, class Int>
concept LayoutWithPackCols = requires(std::span<std::uint8_t> row, std::size_t n, std::span<const Int> codes) {
  { L::template pack_cols<Bits>(row, n, n, codes) } -> std::same_as<void>;
};

/// @brief L has a bulk load of Bits-bit codes of signedness S into Int.
template <class L, int Bits, signedness S, class Int>
concept LayoutWithUnpackCols = requires(std::span<const std::uint8_t> row, std::size_t n, std::span<Int> out) {
  { L::template unpack_cols<Bits, S>(row, n, n, out) } -> std::same_as<void>;
};

/// @brief L can tell bytes no code sequence produces.
template <class L>
concept LayoutWithByteCheck = requires(std::span<const std::uint8_t> row, int bits, std::size_t n) {
  { L::valid_bytes(row, bits, n) } -> std::convertible_to<bool>;
};

/// @brief Whether layout L holds `bits`-bit codes of signedness s (bits must also be 1..8).
template <PackedLayout L>
constexpr bool layout_supports(int bits, signedness s) noexcept {
  if (!is_packable_bits(bits)) return false;
  if constexpr (LayoutWithSupports<L>) return L::supports(bits, s);
  return true;
}

/// @brief Smallest code layout L stores at this width: the layout's own range if it declares one.
template <PackedLayout L>
constexpr std::int32_t layout_code_min(int bits, signedness s) noexcept {
  if constexpr (LayoutWithCodeRange<L>) return L::code_min(bits, s);
  return code_min(bits, s);
}

/// @brief Largest code layout L stores at this width.
template <PackedLayout L>
constexpr std::int32_t layout_code_max(int bits, signedness s) noexcept {
  if constexpr (LayoutWithCodeRange<L>) return L::code_max(bits, s);
  return code_max(bits, s);
}

}  // namespace mpq
