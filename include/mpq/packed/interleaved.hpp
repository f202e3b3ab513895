// The interleaved layout: a row's codes as one little-endian bit stream, code j at bits [jB, jB+B).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/math.hpp"
#include "mpq/packed/byte_order.hpp"
#include "mpq/packed/layout_concepts.hpp"

namespace mpq {

/// @brief Consecutive codes, least significant bit first, in little-endian bytes.
///
/// Code j of a row occupies bits [j*B, j*B + B) of the row, where bit t is bit (t % 8) of byte t / 8.
/// A code may straddle two bytes when B does not divide 8. Rows are padded to a multiple of 64
/// codes, so every row is a whole number of 64-bit words (8*B bytes per 64 codes).
///
/// Worked example, B = 3, codes c0..c7 (bits c_j = c_j2 c_j1 c_j0):
///
///   byte 0: c2_1 c2_0 c1_2 c1_1 c1_0 c0_2 c0_1 c0_0     (bit 7 ... bit 0)
///   byte 1: c5_0 c4_2 c4_1 c4_0 c3_2 c3_1 c3_0 c2_2
///   byte 2: c7_2 c7_1 c7_0 c6_2 c6_1 c6_0 c5_2 c5_1
///
/// so codes {1, 2, 3, 4, 5, 6, 7, 0} pack to bytes 0xD1 0x58 0x1F.
struct interleaved {
  static constexpr const char* name = "interleaved";

  static constexpr std::size_t col_block(int /*bits*/) noexcept { return 64; }

  static constexpr std::size_t row_bytes(int bits, std::size_t padded_cols) noexcept {
    return ceil_div(padded_cols * static_cast<std::size_t>(bits), 8);
  }

  static constexpr void store(std::span<std::uint8_t> row, int bits, std::size_t /*padded_cols*/,
                              std::size_t j, std::uint32_t field) noexcept {
    const std::size_t bit = j * static_cast<std::size_t>(bits);
    const std::size_t byte = bit / 8;
    const unsigned shift = static_cast<unsigned>(bit % 8);
    const std::uint32_t mask = (std::uint32_t{1} << bits) - 1u;
    field &= mask;
    row[byte] = static_cast<std::uint8_t>((row[byte] & ~(mask << shift)) | (field << shift));
    if (shift + static_cast<unsigned>(bits) > 8) {
      const unsigned spill = 8 - shift;  // bits already written into `byte`
      row[byte + 1] = static_cast<std::uint8_t>((row[byte + 1] & ~(mask >> spill)) | (field >> spill));
    }
  }

  static constexpr std::uint32_t load(std::span<const std::uint8_t> row, int bits, std::size_t /*padded_cols*/,
                                      std::size_t j) noexcept {
    const std::size_t bit = j * static_cast<std::size_t>(bits);
    const std::size_t byte = bit / 8;
    const unsigned shift = static_cast<unsigned>(bit % 8);
    std::uint32_t v = row[byte];
    if (shift + static_cast<unsigned>(bits) > 8) v |= static_cast<std::uint32_t>(row[byte + 1]) << 8;
    return (v >> shift) & ((std::uint32_t{1} << bits) - 1u);
  }

  // Bulk paths (the optional members of PackedLayout): 8 codes are exactly Bits bytes, so each
  // group of 8 is assembled in a 64-bit word (compress8/expand8, byte_order.hpp) and moved with one
  // little-endian access.

  template <int Bits, class Int>
  static void pack_cols(std::span<std::uint8_t> row, std::size_t padded_cols, std::size_t j0,
                        std::span<const Int> codes) noexcept {
    const std::size_t n = codes.size();
    const std::size_t end = round_up(j0 + n, col_block(Bits));
    MPQ_ASSERT(j0 % col_block(Bits) == 0 && end <= padded_cols && row.size() >= row_bytes(Bits, end));
    (void)padded_cols;
    std::uint8_t* out = row.data() + j0 / 8 * Bits;
    std::size_t j = 0;
    for (; j < n; j += 8, out += Bits) {
      const std::size_t count = n - j < 8 ? n - j : 8;
      detail::store_le<Bits>(out, detail::compress8<Bits>(detail::gather8<Bits>(codes.data() + j, count)));
    }
    std::uint8_t* const stop = row.data() + end / 8 * Bits;
    for (; out < stop; ++out) *out = 0;
  }

  template <int Bits, signedness S, class Int>
  static void unpack_cols(std::span<const std::uint8_t> row, std::size_t padded_cols, std::size_t j0,
                          std::span<Int> out) noexcept {
    const std::size_t n = out.size();
    MPQ_ASSERT(j0 % col_block(Bits) == 0 && j0 + n <= padded_cols);
    (void)padded_cols;
    const std::uint8_t* in = row.data() + j0 / 8 * Bits;
    for (std::size_t j = 0; j < n; j += 8, in += Bits)
      detail::scatter8<Bits, S>(detail::expand8<Bits>(detail::load_le<Bits>(in)), out.data() + j,
                                n - j < 8 ? n - j : 8);
  }
};

static_assert(PackedLayout<interleaved>);

}  // namespace mpq
