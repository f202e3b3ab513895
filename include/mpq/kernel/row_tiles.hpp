// The row_tiles format: weights in tiles of 32 rows, bit-plane by bit-plane, the order the LUT
// kernels read (one byte per row holds the plane bits of 8 consecutive codes).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mpq::kernel {

/// @brief Tiles of 32 weight rows for the lookup-table (T-MAC style) kernels (docs/kernels.md).
///
/// Rows are grouped in tiles of 32 (the last tile padded with zero rows) and K is padded to a
/// multiple of 64. A tile is K / 8 chunks of 8 codes; a chunk is W planes (least significant
/// first) of 32 bytes; byte r of plane p of chunk c holds bit p of codes 8c .. 8c + 7 of row r of
/// the tile, code 8c + i at bit i. The low nibble of a byte is thus the 4-bit index of activations
/// 8c .. 8c + 3 in plane p, the high nibble that of activations 8c + 4 .. 8c + 7: one `vpshufb`
/// looks up one group of 4 activations for 32 rows at once.
///
/// Worked example, W = 2, rows r0, r1 of a tile, first chunk, codes (two's complement 2-bit):
///
///   r0: k0..k7 =  1  -1   0  -2   1   1   0   0    plane 0 bits 1 1 0 0 1 1 0 0, plane 1 bits 0 1 0 1 0 0 0 0
///   r1: k0..k7 = -1  -1  -1  -1   0   0   0   1    plane 0 bits 1 1 1 1 0 0 0 1, plane 1 bits 1 1 1 1 0 0 0 0
///
///   plane 0: byte 0 = 0b0011'0011, byte 1 = 0b1000'1111;   (bytes 32 .. 63 of the chunk: plane 1)
///   plane 1: byte 0 = 0b0000'1010, byte 1 = 0b0000'1111.
struct row_tiles {
  static constexpr const char* name = "row_tiles";
  static constexpr std::size_t tile_rows = 32;
  static constexpr std::size_t chunk_cols = 8;
  static constexpr std::size_t col_block = 64;

  /// @brief Bytes of one tile for `bits`-bit codes over padded_cols (a multiple of 64) columns.
  static constexpr std::size_t tile_bytes(int bits, std::size_t padded_cols) noexcept {
    return padded_cols / chunk_cols * static_cast<std::size_t>(bits) * tile_rows;
  }

  /// @brief Byte offset, within a tile, of plane p of the chunk holding column k, for tile row r.
  static constexpr std::size_t offset(int bits, std::size_t r, std::size_t k, int p) noexcept {
    return (k / chunk_cols * static_cast<std::size_t>(bits) + static_cast<std::size_t>(p)) * tile_rows + r;
  }

  /// @brief Write the `bits`-bit field of (tile row r, column k).
  static constexpr void store(std::uint8_t* tile, int bits, std::size_t r, std::size_t k,
                              std::uint32_t field) noexcept {
    const auto mask = static_cast<std::uint8_t>(1u << (k % chunk_cols));
    for (int p = 0; p < bits; ++p) {
      std::uint8_t& b = tile[offset(bits, r, k, p)];
      b = static_cast<std::uint8_t>(((field >> p) & 1u) ? (b | mask) : (b & ~mask));
    }
  }

  /// @brief Read the `bits`-bit field of (tile row r, column k).
  static constexpr std::uint32_t load(const std::uint8_t* tile, int bits, std::size_t r, std::size_t k) noexcept {
    std::uint32_t field = 0;
    for (int p = 0; p < bits; ++p)
      field |= static_cast<std::uint32_t>((tile[offset(bits, r, k, p)] >> (k % chunk_cols)) & 1u) << p;
    return field;
  }
};

}  // namespace mpq::kernel
