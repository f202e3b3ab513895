// The bit-plane layout: plane k of a row holds bit k of every code (what popcount kernels read).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/math.hpp"
#include "mpq/packed/byte_order.hpp"
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

  // Bulk paths (the optional members of PackedLayout). Eight codes are gathered one per byte of a
  // word x; bit p of all eight is then one byte of plane p. Moving bit 0 of each byte k to bit k of
  // the top byte is a multiply by 0x0102040810204080 (byte k of it is 2^(7-k), so the partial
  // products land on distinct bits and never carry); the reverse spreads a byte with a multiply by
  // 0x0101...01, keeps bit k in byte k, and turns it into 0/1 by adding 0x80 - 2^k to byte k.

  static constexpr std::uint64_t ones8 = 0x0101010101010101ull;

  /// @brief Bit p of each byte of x, as the 8 bits of one byte (byte k -> bit k).
  static constexpr std::uint8_t plane_byte(std::uint64_t x, int p) noexcept {
    return static_cast<std::uint8_t>((((x >> p) & ones8) * 0x0102040810204080ull) >> 56);
  }
  /// @brief The 8 bits of b as bytes of value 0 or 1 (bit k -> byte k).
  static constexpr std::uint64_t spread_byte(std::uint8_t b) noexcept {
    const std::uint64_t x = (b * ones8) & 0x8040201008040201ull;
    return ((x + 0x00406070787C7E7Full) & 0x8080808080808080ull) >> 7;
  }

  template <int Bits, class Int>
  static void pack_cols(std::span<std::uint8_t> row, std::size_t padded_cols, std::size_t j0,
                        std::span<const Int> codes) noexcept {
    const std::size_t n = codes.size();
    const std::size_t end = round_up(j0 + n, col_block(Bits));
    MPQ_ASSERT(j0 % col_block(Bits) == 0 && end <= padded_cols && row.size() >= row_bytes(Bits, padded_cols));
    const std::size_t pb = plane_bytes(padded_cols);
    std::uint8_t* base = row.data() + j0 / 8;
    std::size_t g = 0;  // group of 8 codes = byte g of every plane (from j0)
    for (std::size_t j = 0; j < n; j += 8, ++g) {
      const std::uint64_t x = detail::gather8<Bits>(codes.data() + j, n - j < 8 ? n - j : 8);
      for (int p = 0; p < Bits; ++p) base[static_cast<std::size_t>(p) * pb + g] = plane_byte(x, p);
    }
    const std::size_t groups = (end - j0) / 8;
    for (int p = 0; p < Bits; ++p)
      for (std::size_t h = g; h < groups; ++h) base[static_cast<std::size_t>(p) * pb + h] = 0;
  }

  template <int Bits, signedness S, class Int>
  static void unpack_cols(std::span<const std::uint8_t> row, std::size_t padded_cols, std::size_t j0,
                          std::span<Int> out) noexcept {
    const std::size_t n = out.size();
    MPQ_ASSERT(j0 % col_block(Bits) == 0 && j0 + n <= padded_cols);
    const std::size_t pb = plane_bytes(padded_cols);
    const std::uint8_t* base = row.data() + j0 / 8;
    std::size_t g = 0;
    for (std::size_t j = 0; j < n; j += 8, ++g) {
      std::uint64_t x = 0;
      for (int p = 0; p < Bits; ++p) x |= spread_byte(base[static_cast<std::size_t>(p) * pb + g]) << p;
      detail::scatter8<Bits, S>(x, out.data() + j, n - j < 8 ? n - j : 8);
    }
  }
};

static_assert(PackedLayout<bitplane>);

}  // namespace mpq
