// The PackedLayout concept: where the B bits of code j of a row sit in that row's bytes.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

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
/// Satisfied by interleaved, bitplane and the kernel-blocked layouts that kernels declare.
template <class L>
concept PackedLayout = requires(std::span<std::uint8_t> row, std::span<const std::uint8_t> crow, int bits,
                                std::size_t padded_cols, std::size_t j, std::uint32_t field) {
  { L::name } -> std::convertible_to<const char*>;
  { L::col_block(bits) } -> std::same_as<std::size_t>;
  { L::row_bytes(bits, padded_cols) } -> std::same_as<std::size_t>;
  { L::store(row, bits, padded_cols, j, field) } -> std::same_as<void>;
  { L::load(crow, bits, padded_cols, j) } -> std::same_as<std::uint32_t>;
};

}  // namespace mpq
