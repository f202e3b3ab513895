// The split_planes layout: the per-row order the unpack-to-int8 kernels read (4/2/1-bit parts in
// 32-byte chunks, so 32 consecutive codes come out of one chunk with one shift and one mask).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/bits.hpp"
#include "mpq/packed/layout_concepts.hpp"

namespace mpq::kernel {

/// @brief How a W-bit field is split into parts of 8, 4, 2 or 1 bits (low bits first).
///
///   W:      1    2    3      4    5      6      7        8
///   parts:  1    2    2+1    4    4+1    4+2    4+2+1    8
struct field_split {
  int count = 0;
  int width[3] = {0, 0, 0};  ///< bits of each part
  int shift[3] = {0, 0, 0};  ///< position of the part's lowest bit in the field

  /// @brief The split of a `bits`-bit field (1..8).
  static constexpr field_split of(int bits) noexcept {
    field_split s;
    if (bits == 8) {
      s.count = 1;
      s.width[0] = 8;
      return s;
    }
    int off = 0;
    for (int p : {4, 2, 1}) {
      if (bits - off >= p) {
        s.width[s.count] = p;
        s.shift[s.count] = off;
        ++s.count;
        off += p;
      }
    }
    return s;
  }
  /// @brief The narrowest part: it sets the block length.
  constexpr int narrowest() const noexcept { return width[count - 1]; }
};

/// @brief Per-row kernel-blocked layout for the unpack-to-int8 kernels (docs/kernels.md).
///
/// A row is cut into blocks of `col_block(W)` codes: 64 for W = 4, 8; 128 for W = 2, 6; 256 for
/// W = 1, 3, 5, 7 (32 codes per chunk step times 8 / narrowest part). A block holds its parts one
/// after the other (field_split order), each part as 32-byte chunks: in a chunk of a p-bit part,
/// byte j holds 8 / p sub-fields, sub-field t (bits [t p, t p + p)) being that part of code
/// 32 t + j of the chunk's 32 * 8 / p codes. A kernel gets codes 32 t .. 32 t + 31 of a chunk with one
/// 16-bit shift and one byte mask, for every part, and ORs the parts together.
///
/// Worked example, W = 3 (parts: 2 bits at shift 0, then 1 bit at shift 2), one block of 256 codes
/// c0 .. c255 = 96 bytes:
///
///   bytes  0..31  (2-bit part, chunk 0): byte j = c(96+j)[1:0] c(64+j)[1:0] c(32+j)[1:0] c(j)[1:0]
///   bytes 32..63  (2-bit part, chunk 1): byte j = c(224+j)[1:0] c(192+j)[1:0] c(160+j)[1:0] c(128+j)[1:0]
///   bytes 64..95  (1-bit part, chunk 0): byte j = c(224+j)[2] c(192+j)[2] ... c(32+j)[2] c(j)[2]
///
/// (bit 7 on the left), so codes c0 = 5 (0b101), c32 = 2, c64 = 7 give byte 0 = 0b0011'1001 and
/// byte 64 = 0b0000'0101. The fields are the codes' two's complement bits, zero codes pad the row.
struct split_planes {
  static constexpr const char* name = "split_planes";

  static constexpr std::size_t col_block(int bits) noexcept {
    const std::size_t b = static_cast<std::size_t>(32 * 8 / field_split::of(bits).narrowest());
    return b < 64 ? 64 : b;
  }

  static constexpr std::size_t row_bytes(int bits, std::size_t padded_cols) noexcept {
    return padded_cols * static_cast<std::size_t>(bits) / 8;
  }

  /// @brief Where part `part` of code j sits: byte offset in the row and bit shift in the byte.
  struct position {
    std::size_t byte;
    unsigned bit;
  };
  static constexpr position locate(int bits, std::size_t j, int part) noexcept {
    const field_split fs = field_split::of(bits);
    const std::size_t block = col_block(bits);
    const std::size_t b = j / block, s = j % block;
    std::size_t off = b * row_bytes(bits, block);
    for (int q = 0; q < part; ++q) off += block * static_cast<std::size_t>(fs.width[q]) / 8;
    const std::size_t p = static_cast<std::size_t>(fs.width[part]);
    const std::size_t per_chunk = 32 * 8 / p;  // codes per chunk of this part
    const std::size_t chunk = s / per_chunk, t = (s % per_chunk) / 32;
    return {off + chunk * 32 + s % 32, static_cast<unsigned>(t * p)};
  }

  static constexpr void store(std::span<std::uint8_t> row, int bits, std::size_t /*padded_cols*/, std::size_t j,
                              std::uint32_t field) noexcept {
    const field_split fs = field_split::of(bits);
    for (int q = 0; q < fs.count; ++q) {
      const position at = locate(bits, j, q);
      const std::uint32_t mask = ((1u << fs.width[q]) - 1u) << at.bit;
      const std::uint32_t v = ((field >> fs.shift[q]) << at.bit) & mask;
      row[at.byte] = static_cast<std::uint8_t>((row[at.byte] & ~mask) | v);
    }
  }

  static constexpr std::uint32_t load(std::span<const std::uint8_t> row, int bits, std::size_t /*padded_cols*/,
                                      std::size_t j) noexcept {
    const field_split fs = field_split::of(bits);
    std::uint32_t field = 0;
    for (int q = 0; q < fs.count; ++q) {
      const position at = locate(bits, j, q);
      field |= ((static_cast<std::uint32_t>(row[at.byte]) >> at.bit) & ((1u << fs.width[q]) - 1u)) << fs.shift[q];
    }
    return field;
  }
};

static_assert(PackedLayout<split_planes>);

}  // namespace mpq::kernel
