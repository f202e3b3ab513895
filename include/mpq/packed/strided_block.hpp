// strided_block<N>: a kernel-blocked layout where one shift and one mask unpack a whole register.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/bits.hpp"
#include "mpq/core/math.hpp"
#include "mpq/packed/layout_concepts.hpp"

namespace mpq {

/// @brief Blocks of BlockBytes bytes (a SIMD register: 16, 32 or 64); for B in {1, 2, 4, 8} a block
/// holds P = 8 / B codes per byte, BlockBytes * P codes in all. Code c of a block (c = j mod its size)
/// sits in byte c % BlockBytes, in bit slot c / BlockBytes (bits [slot*B, slot*B + B) of the byte).
/// So a register loaded from a block gives codes [s*BlockBytes, (s+1)*BlockBytes) in byte order after
/// `(v >> s*B) & (2^B - 1)`: no shuffles, whatever the ISA.
///
/// Worked example, strided_block<16>, B = 4 (32 codes per block, c0..c31):
///
///   byte  0 = c16 c0    (high nibble, low nibble)
///   byte  1 = c17 c1
///   ...
///   byte 15 = c31 c15
///
/// so codes 0..31 = 0, 1, ..., 15, then 0, 1, ..., 15 give bytes 0x00, 0x11, ..., 0xFF.
/// B = 3, 5, 6, 7 do not divide a byte and are not supported (supports() says so; the tensor and
/// the packing functions refuse them at compile time). Rows are padded to one block.
/// This is an example of the kernel-blocked mechanism; kernels declare their own layouts the same way.
template <std::size_t BlockBytes>
struct strided_block {
  static_assert(BlockBytes == 16 || BlockBytes == 32 || BlockBytes == 64,
                "mpq::strided_block: BlockBytes must be 16, 32 or 64 (one SIMD register)");

  static constexpr const char* name = BlockBytes == 16   ? "strided_block16"
                                      : BlockBytes == 32 ? "strided_block32"
                                                         : "strided_block64";

  static constexpr bool supports(int bits, signedness /*s*/) noexcept { return bits > 0 && 8 % bits == 0; }

  static constexpr std::size_t col_block(int bits) noexcept {
    return BlockBytes * 8 / static_cast<std::size_t>(supports(bits, signed_codes) ? bits : 8);
  }
  static constexpr std::size_t row_bytes(int bits, std::size_t padded_cols) noexcept {
    return ceil_div(padded_cols * static_cast<std::size_t>(bits), 8);
  }

  /// @brief Byte index and bit shift of code j.
  struct position {
    std::size_t byte;
    unsigned shift;
  };
  static constexpr position locate(int bits, std::size_t j) noexcept {
    const std::size_t per_block = col_block(bits);
    const std::size_t c = j % per_block;
    return {j / per_block * BlockBytes + c % BlockBytes, static_cast<unsigned>(c / BlockBytes) * static_cast<unsigned>(bits)};
  }

  static constexpr void store(std::span<std::uint8_t> row, int bits, std::size_t /*padded_cols*/, std::size_t j,
                              std::uint32_t field) noexcept {
    MPQ_ASSERT(supports(bits, signed_codes));
    const position p = locate(bits, j);
    const std::uint32_t mask = ((1u << bits) - 1u) << p.shift;
    row[p.byte] = static_cast<std::uint8_t>((row[p.byte] & ~mask) | ((field << p.shift) & mask));
  }

  static constexpr std::uint32_t load(std::span<const std::uint8_t> row, int bits, std::size_t /*padded_cols*/,
                                      std::size_t j) noexcept {
    const position p = locate(bits, j);
    return (static_cast<std::uint32_t>(row[p.byte]) >> p.shift) & ((1u << bits) - 1u);
  }

  template <int Bits, class Int>
  static void pack_cols(std::span<std::uint8_t> row, std::size_t padded_cols, std::size_t j0,
                        std::span<const Int> codes) noexcept {
    static_assert(8 % Bits == 0, "mpq::strided_block holds 1, 2, 4 or 8-bit codes");
    constexpr std::size_t per_block = BlockBytes * 8 / Bits;
    constexpr std::uint32_t mask = (1u << Bits) - 1u;
    const std::size_t n = codes.size();
    MPQ_ASSERT(j0 % per_block == 0 && round_up(j0 + n, per_block) <= padded_cols);
    (void)padded_cols;
    std::uint8_t* out = row.data() + j0 / per_block * BlockBytes;
    for (std::size_t b = 0; b < n; b += per_block, out += BlockBytes) {
      std::uint8_t block[BlockBytes] = {};
      const std::size_t count = n - b < per_block ? n - b : per_block;
      for (std::size_t c = 0; c < count; ++c)
        block[c % BlockBytes] = static_cast<std::uint8_t>(
            block[c % BlockBytes] | ((static_cast<std::uint32_t>(codes[b + c]) & mask) << (c / BlockBytes * Bits)));
      for (std::size_t k = 0; k < BlockBytes; ++k) out[k] = block[k];
    }
  }

  template <int Bits, signedness S, class Int>
  static void unpack_cols(std::span<const std::uint8_t> row, std::size_t padded_cols, std::size_t j0,
                          std::span<Int> out) noexcept {
    static_assert(8 % Bits == 0, "mpq::strided_block holds 1, 2, 4 or 8-bit codes");
    constexpr std::size_t per_block = BlockBytes * 8 / Bits;
    constexpr std::uint32_t mask = (1u << Bits) - 1u;
    const std::size_t n = out.size();
    MPQ_ASSERT(j0 % per_block == 0 && j0 + n <= padded_cols);
    (void)padded_cols;
    const std::uint8_t* in = row.data() + j0 / per_block * BlockBytes;
    for (std::size_t b = 0; b < n; b += per_block, in += BlockBytes) {
      const std::size_t count = n - b < per_block ? n - b : per_block;
      for (std::size_t c = 0; c < count; ++c)
        out[b + c] = static_cast<Int>(
            field_to_code((static_cast<std::uint32_t>(in[c % BlockBytes]) >> (c / BlockBytes * Bits)) & mask, Bits, S));
    }
  }
};

static_assert(PackedLayout<strided_block<32>>);

}  // namespace mpq
