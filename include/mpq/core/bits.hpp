// Bit widths and the integer code range of a B-bit code, signed (two's complement) or unsigned.
#pragma once

#include <cstdint>

#include "mpq/core/error.hpp"

namespace mpq {

/// @brief Whether B-bit codes are two's complement (signed) or plain binary (unsigned).
enum class signedness : std::uint8_t { unsigned_ = 0, signed_ = 1 };

inline constexpr signedness unsigned_codes = signedness::unsigned_;
inline constexpr signedness signed_codes = signedness::signed_;

constexpr const char* to_string(signedness s) noexcept {
  return s == signedness::signed_ ? "signed" : "unsigned";
}

/// @brief Largest code width a packed tensor or kernel stores (codes of 1..8 bits).
inline constexpr int max_packed_bits = 8;

/// @brief True for the widths a packed tensor stores: 1..8.
constexpr bool is_packable_bits(int bits) noexcept { return bits >= 1 && bits <= max_packed_bits; }

/// @brief True for the widths a quantizer may produce: 1..8 and 16.
constexpr bool is_quantizer_bits(int bits) noexcept { return is_packable_bits(bits) || bits == 16; }

/// @brief Smallest code of a `bits`-bit code: -2^(bits-1) if signed, else 0.
/// A 1-bit signed code is {-1, 0}; a binary {-1, +1} weight is the mid-rise reading 2c+1 of it.
constexpr std::int32_t code_min(int bits, signedness s) noexcept {
  return s == signedness::signed_ ? -(std::int32_t{1} << (bits - 1)) : 0;
}

/// @brief Largest code of a `bits`-bit code: 2^(bits-1)-1 if signed, else 2^bits-1.
constexpr std::int32_t code_max(int bits, signedness s) noexcept {
  return s == signedness::signed_ ? (std::int32_t{1} << (bits - 1)) - 1 : (std::int32_t{1} << bits) - 1;
}

/// @brief The `bits` low bits of a code, as stored in a packed field.
constexpr std::uint32_t code_to_field(std::int32_t code, int bits) noexcept {
  return static_cast<std::uint32_t>(code) & ((std::uint32_t{1} << bits) - 1u);
}

/// @brief The code a `bits`-bit field holds (sign-extended when signed).
constexpr std::int32_t field_to_code(std::uint32_t field, int bits, signedness s) noexcept {
  if (s == signedness::signed_) {
    const std::uint32_t sign_bit = std::uint32_t{1} << (bits - 1);
    return static_cast<std::int32_t>(field ^ sign_bit) - static_cast<std::int32_t>(sign_bit);
  }
  return static_cast<std::int32_t>(field);
}

/// @brief The compile-time facts of a `Bits`-bit code; instantiating it with Bits outside 1..8
/// or 16 is a compile error naming the rule.
template <int Bits, signedness S>
struct code_traits {
  static_assert(is_quantizer_bits(Bits), "mpq: code width must be 1..8 or 16 bits");
  static constexpr int bits = Bits;
  static constexpr signedness sign = S;
  static constexpr bool is_signed = S == signedness::signed_;
  static constexpr std::int32_t min = code_min(Bits, S);
  static constexpr std::int32_t max = code_max(Bits, S);
  static constexpr std::uint32_t levels = std::uint32_t{1} << Bits;
};

/// @brief Checked: ok if `bits` is 1..8, else an error naming the value and the rule.
inline status check_packable_bits(int bits, const char* what = "bits") noexcept {
  if (is_packable_bits(bits)) return {};
  return status::failure(errc::invalid_argument, "%s = %d: packed codes must be 1..8 bits wide", what,
                         bits);
}

/// @brief Checked: ok if `bits` is 1..8 or 16, else an error naming the value and the rule.
inline status check_quantizer_bits(int bits, const char* what = "bits") noexcept {
  if (is_quantizer_bits(bits)) return {};
  return status::failure(errc::invalid_argument, "%s = %d: a quantizer's codes must be 1..8 or 16 bits wide",
                         what, bits);
}

}  // namespace mpq
