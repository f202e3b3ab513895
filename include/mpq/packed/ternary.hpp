// Ternary weights {-1, 0, +1}: 2-bit codes, and the 1.6-bit base-3 layout (5 trits per byte).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/bits.hpp"
#include "mpq/core/math.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/packed/tensor.hpp"

namespace mpq {

/// @brief Ternary codes at 2 bits: the interleaved layout's bytes (code j = bits [2j, 2j+2) of the
/// row, -1 = 0b11, 0 = 0b00, +1 = 0b01), restricted to the codes -1, 0, +1. The type tells kernels
/// that the fourth 2-bit code (-2) never occurs; packing, element writes and loading check it.
struct ternary2 : interleaved {
  static constexpr const char* name = "ternary2";
  static constexpr bool supports(int bits, signedness s) noexcept { return bits == 2 && s == signed_codes; }
  static constexpr std::int32_t code_min(int /*bits*/, signedness /*s*/) noexcept { return -1; }
  static constexpr std::int32_t code_max(int /*bits*/, signedness /*s*/) noexcept { return 1; }
};

namespace detail {
constexpr std::uint32_t base3_pow3(std::size_t k) noexcept {
  constexpr std::uint32_t p[5] = {1, 3, 9, 27, 81};
  return p[k];
}
/// @brief Base-3 digit of a ternary code: 0 -> 0, +1 -> 1, -1 -> 2.
constexpr std::uint32_t base3_digit_of(std::int32_t code) noexcept {
  return code < 0 ? 2u : static_cast<std::uint32_t>(code);
}
constexpr std::int32_t base3_code_of(std::uint32_t digit) noexcept {
  return digit == 2 ? -1 : static_cast<std::int32_t>(digit);
}
/// @brief The five codes of every byte value (bytes >= 243 decode their digits mod 3; never stored).
inline constexpr std::array<std::array<std::int8_t, 5>, 256> base3_decode_table = [] {
  std::array<std::array<std::int8_t, 5>, 256> t{};
  for (std::uint32_t b = 0; b < 256; ++b)
    for (std::size_t k = 0; k < 5; ++k) t[b][k] = static_cast<std::int8_t>(base3_code_of((b / base3_pow3(k)) % 3));
  return t;
}();
}  // namespace detail

/// @brief Five ternary codes t0..t4 in {-1, 0, +1} per byte, as base-3 digits:
///
///   byte = d0 + 3 d1 + 9 d2 + 27 d3 + 81 d4,   d = t mod 3  (0 -> 0, +1 -> 1, -1 -> 2)
///
/// 3^5 = 243 <= 256, so a byte holds 5 trits: 1.6 bits per weight, the density of ternary LLM
/// formats (BitNet b1.58; ggml's TQ1_0 also packs 5 trits per byte, with its own digit order).
/// The digit map keeps an all-zero byte = five zero codes, so zero bytes are zero padding, as in the
/// other layouts. Bytes 243..255 never occur (a loaded file is checked).
///
/// Code j of a row is digit j % 5 of byte j / 5. Rows are padded to 320 codes = 64 bytes (one
/// cache line, one zmm register of trit bytes).
///
/// Worked example, codes c0..c6 = {+1, -1, 0, 0, +1, -1, -1} (then zero padding):
///
///   byte 0 = d0 + 3 d1 + 9 d2 + 27 d3 + 81 d4 = 1 + 3*2 + 0 + 0 + 81*1 = 88   (c0..c4)
///   byte 1 = 2 + 3*2 = 8                                                        (c5, c6, 0, 0, 0)
///   bytes 2..63 = 0
///
/// Only 2-bit signed codes (supports()); the codes are -1, 0, +1 (code_min/code_max).
struct ternary_base3 {
  static constexpr const char* name = "ternary_base3";

  static constexpr bool supports(int bits, signedness s) noexcept { return bits == 2 && s == signed_codes; }
  static constexpr std::int32_t code_min(int /*bits*/, signedness /*s*/) noexcept { return -1; }
  static constexpr std::int32_t code_max(int /*bits*/, signedness /*s*/) noexcept { return 1; }

  static constexpr std::size_t col_block(int /*bits*/) noexcept { return 320; }
  static constexpr std::size_t row_bytes(int /*bits*/, std::size_t padded_cols) noexcept {
    return ceil_div(padded_cols, 5);
  }

  static constexpr std::uint32_t pow3(std::size_t k) noexcept { return detail::base3_pow3(k); }
  static constexpr std::uint32_t digit_of(std::int32_t code) noexcept { return detail::base3_digit_of(code); }
  static constexpr std::int32_t code_of(std::uint32_t digit) noexcept { return detail::base3_code_of(digit); }

  static constexpr void store(std::span<std::uint8_t> row, int bits, std::size_t /*padded_cols*/, std::size_t j,
                              std::uint32_t field) noexcept {
    const std::int32_t code = field_to_code(field & 3u, bits, signed_codes);
    MPQ_ASSERT(bits == 2 && code >= -1);
    std::uint8_t& b = row[j / 5];
    const std::uint32_t p = pow3(j % 5);
    const std::uint32_t old_digit = (b / p) % 3;
    b = static_cast<std::uint8_t>(b - old_digit * p + digit_of(code) * p);
  }

  static constexpr std::uint32_t load(std::span<const std::uint8_t> row, int bits, std::size_t /*padded_cols*/,
                                      std::size_t j) noexcept {
    return code_to_field(code_of((row[j / 5] / pow3(j % 5)) % 3), bits);
  }

  static constexpr bool valid_bytes(std::span<const std::uint8_t> row, int /*bits*/,
                                    std::size_t /*padded_cols*/) noexcept {
    for (std::uint8_t b : row)
      if (b >= 243) return false;
    return true;
  }

  template <int Bits, class Int>
  static void pack_cols(std::span<std::uint8_t> row, std::size_t padded_cols, std::size_t j0,
                        std::span<const Int> codes) noexcept {
    static_assert(Bits == 2, "mpq::ternary_base3 holds 2-bit signed codes only");
    const std::size_t n = codes.size();
    const std::size_t end = round_up(j0 + n, col_block(Bits));
    MPQ_ASSERT(j0 % col_block(Bits) == 0 && end <= padded_cols);
    (void)padded_cols;
    std::uint8_t* out = row.data() + j0 / 5;
    std::size_t j = 0;
    for (; j + 5 <= n; j += 5) {
      std::uint32_t b = 0;
      for (std::size_t k = 5; k-- > 0;) b = 3 * b + digit_of(static_cast<std::int32_t>(codes[j + k]));
      *out++ = static_cast<std::uint8_t>(b);
    }
    if (j < n) {
      std::uint32_t b = 0;
      for (std::size_t k = n - j; k-- > 0;) b = 3 * b + digit_of(static_cast<std::int32_t>(codes[j + k]));
      *out++ = static_cast<std::uint8_t>(b);
    }
    for (std::uint8_t* stop = row.data() + end / 5; out < stop; ++out) *out = 0;
  }

  template <int Bits, signedness S, class Int>
  static void unpack_cols(std::span<const std::uint8_t> row, std::size_t padded_cols, std::size_t j0,
                          std::span<Int> out) noexcept {
    static_assert(Bits == 2 && S == signed_codes, "mpq::ternary_base3 holds 2-bit signed codes only");
    const std::size_t n = out.size();
    MPQ_ASSERT(j0 % col_block(Bits) == 0 && j0 + n <= padded_cols);
    (void)padded_cols;
    const std::uint8_t* in = row.data() + j0 / 5;
    for (std::size_t j = 0; j < n; j += 5, ++in) {
      const auto& d = detail::base3_decode_table[*in];
      const std::size_t count = n - j < 5 ? n - j : 5;
      for (std::size_t k = 0; k < count; ++k) out[j + k] = static_cast<Int>(d[k]);
    }
  }
};

static_assert(PackedLayout<ternary2> && PackedLayout<ternary_base3>);

/// @brief A ternary tensor at 2 bits per weight.
using ternary2_tensor = packed_tensor<2, signed_codes, ternary2>;
/// @brief A ternary tensor at 1.6 bits per weight (5 trits per byte).
using ternary_base3_tensor = packed_tensor<2, signed_codes, ternary_base3>;

}  // namespace mpq
