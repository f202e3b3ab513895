// The bit-plane layout: plane k of a row holds bit k of every code (what popcount kernels read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/packed/layout_concepts.hpp"

namespace mpq {

/// @brief Plane k (k = 0 .. B-1, least significant first) of a row is a bit vector over the row's
/// codes: bit j of the plane (bit j % 8 of byte j / 8 of the plane) is bit k of code j. A row is its
/// B planes one after another; rows are padded to a multiple of 64 codes, so each plane is a whole
/// number of 64-bit words (padded_cols / 8 bytes).
///
/// Worked example, B = 2, 64 padded codes, codes c0 = 1, c1 = 2, c2 = 3, the rest 0:
///
///   plane 0 (bytes 0..7):  byte 0 = 0b0000'0101  (bit 0 of c0 = 1, of c1 = 0, of c2 = 1)
///   plane 1 (bytes 8..15): byte 8 = 0b0000'0110  (bit 1 of c0 = 0, of c1 = 1, of c2 = 1)
struct bitplane {
  static constexpr const char* name = "bitplane";

  static constexpr std::size_t col_block(int /*bits*/) noexcept { return 64; }

  /// @brief Bytes of one plane of a row.
  static constexpr std::size_t plane_bytes(std::size_t padded_cols) noexcept { return padded_cols / 8; }

  static constexpr std::size_t row_bytes(int bits, std::size_t padded_cols) noexcept {
    return static_cast<std::size_t>(bits) * plane_bytes(padded_cols);
  }

  static constexpr void store(std::span<std::uint8_t> row, int bits, std::size_t padded_cols, std::size_t j,
                              std::uint32_t field) noexcept {
    const std::size_t pb = plane_bytes(padded_cols);
    const auto mask = static_cast<std::uint8_t>(1u << (j % 8));
    for (int k = 0; k < bits; ++k) {
      std::uint8_t& b = row[static_cast<std::size_t>(k) * pb + j / 8];
      b = static_cast<std::uint8_t>(((field >> k) & 1u) ? (b | mask) : (b & ~mask));
    }
  }

  static constexpr std::uint32_t load(std::span<const std::uint8_t> row, int bits, std::size_t padded_cols,
                                      std::size_t j) noexcept {
    const std::size_t pb = plane_bytes(padded_cols);
    std::uint32_t field = 0;
    for (int k = 0; k < bits; ++k)
      field |= static_cast<std::uint32_t>((row[static_cast<std::size_t>(k) * pb + j / 8] >> (j % 8)) & 1u) << k;
    return field;
  }
};

static_assert(PackedLayout<bitplane>);

}  // namespace mpq
