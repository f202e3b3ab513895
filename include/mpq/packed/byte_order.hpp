// Little-endian byte loads and stores, and the 8-codes-in-a-word helpers the bulk row codecs share.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "mpq/core/bits.hpp"

#if defined(__BMI2__)
#include <immintrin.h>
#endif

namespace mpq::detail {

/// @brief The first `n` (0..8) bytes at p as a little-endian integer; the other bytes are 0.
constexpr std::uint64_t load_le(const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t w = 0;
  for (std::size_t i = 0; i < n; ++i) w |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return w;
}

/// @brief load_le with the count N known at compile time, and its store: on little-endian hosts a
/// fixed-size copy, which the compiler turns into one or two moves.
template <std::size_t N>
MPQ_ALWAYS_INLINE std::uint64_t load_le(const std::uint8_t* p) noexcept {
  static_assert(N <= 8);
  if constexpr (std::endian::native != std::endian::little) return load_le(p, N);
  std::uint64_t w = 0;
  std::memcpy(&w, p, N);
  return w;
}
template <std::size_t N>
MPQ_ALWAYS_INLINE void store_le(std::uint8_t* p, std::uint64_t w) noexcept {
  static_assert(N <= 8);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &w, N);
  } else {
    for (std::size_t i = 0; i < N; ++i) p[i] = static_cast<std::uint8_t>(w >> (8 * i));
  }
}

/// @brief A word whose every `lane`-bit lane (8, 16, 32 or 64) holds v.
constexpr std::uint64_t repeat_lanes(std::uint64_t v, int lane) noexcept {
  std::uint64_t w = 0;
  for (int at = 0; at < 64; at += lane) w |= v << at;
  return w;
}

// Eight Bits-bit fields, one in the low bits of each byte of x, <-> the same fields as one
// little-endian bit string (field k at bits [k*Bits, k*Bits + Bits)), the interleaved layout of 8
// codes. Three rounds each merge neighbouring lanes (16, 32, 64 bits wide): the upper field moves
// down next to the lower one, masks keep both and drop what a shift brings in from the next lane.
//
// With BMI2 (outside constant evaluation) each direction is one instruction: pext gathers the bits
// under the byte-lane field mask, pdep scatters them back (1 cycle on Zen 3 and later and on Intel;
// Zen 1-2 microcode them, slowly).
template <int Bits>
constexpr std::uint64_t compress8(std::uint64_t x) noexcept {
#if defined(__BMI2__)
  if (!std::is_constant_evaluated()) return _pext_u64(x, repeat_lanes((std::uint64_t{1} << Bits) - 1, 8));
#endif
  constexpr std::uint64_t f1 = (std::uint64_t{1} << Bits) - 1, f2 = (std::uint64_t{1} << (2 * Bits)) - 1,
                          f4 = (std::uint64_t{1} << (4 * Bits)) - 1;
  x = (x & repeat_lanes(f1, 16)) | ((x >> (8 - Bits)) & repeat_lanes(f1 << Bits, 16));
  x = (x & repeat_lanes(f2, 32)) | ((x >> (16 - 2 * Bits)) & repeat_lanes(f2 << (2 * Bits), 32));
  return (x & f4) | ((x >> (32 - 4 * Bits)) & (f4 << (4 * Bits)));
}
template <int Bits>
constexpr std::uint64_t expand8(std::uint64_t w) noexcept {
#if defined(__BMI2__)
  if (!std::is_constant_evaluated()) return _pdep_u64(w, repeat_lanes((std::uint64_t{1} << Bits) - 1, 8));
#endif
  constexpr std::uint64_t f1 = (std::uint64_t{1} << Bits) - 1, f2 = (std::uint64_t{1} << (2 * Bits)) - 1,
                          f4 = (std::uint64_t{1} << (4 * Bits)) - 1;
  w = (w & f4) | ((w << (32 - 4 * Bits)) & (f4 << 32));
  w = (w & repeat_lanes(f2, 32)) | ((w << (16 - 2 * Bits)) & repeat_lanes(f2 << 16, 32));
  return (w & repeat_lanes(f1, 16)) | ((w << (8 - Bits)) & repeat_lanes(f1 << 8, 16));
}

/// @brief Each byte of x a Bits-bit two's complement field -> the same value as an int8 byte:
/// (f ^ sign) - sign per byte, with the subtraction done as an addition that carries into no
/// neighbouring byte (add the low 7 bits, then xor in the top bits).
template <int Bits>
constexpr std::uint64_t sign_extend_bytes(std::uint64_t x) noexcept {
  constexpr std::uint64_t sign = repeat_lanes(std::uint64_t{1} << (Bits - 1), 8);
  constexpr std::uint64_t minus_sign = repeat_lanes((0x100u - (std::uint64_t{1} << (Bits - 1))) & 0xFFu, 8);
  constexpr std::uint64_t low7 = repeat_lanes(0x7F, 8), top = repeat_lanes(0x80, 8);
  const std::uint64_t a = x ^ sign;
  return ((a & low7) + (minus_sign & low7)) ^ ((a ^ minus_sign) & top);
}

/// @brief Up to 8 codes as a word whose byte k is the Bits-bit field of codes[k] (0 past count).
template <int Bits, class Int>
MPQ_ALWAYS_INLINE std::uint64_t gather8(const Int* codes, std::size_t count) noexcept {
  constexpr std::uint64_t mask = (std::uint64_t{1} << Bits) - 1u;
  std::uint64_t x = 0;
  if constexpr (sizeof(Int) == 1) {
    if (count == 8) {
      std::memcpy(&x, codes, 8);
      if constexpr (std::endian::native != std::endian::little) x = __builtin_bswap64(x);
      return x & (mask * 0x0101010101010101ull);
    }
  }
  for (std::size_t k = 0; k < count; ++k)
    x |= (static_cast<std::uint64_t>(static_cast<std::make_unsigned_t<Int>>(codes[k])) & mask) << (8 * k);
  return x;
}

/// @brief The inverse of gather8: byte k of x (a Bits-bit field) to out[k] as a code, k < count.
template <int Bits, signedness S, class Int>
MPQ_ALWAYS_INLINE void scatter8(std::uint64_t x, Int* out, std::size_t count) noexcept {
  if constexpr (S == signed_codes) x = sign_extend_bytes<Bits>(x);  // every byte now an int8 code
  if constexpr (sizeof(Int) == 1 && std::endian::native == std::endian::little) {
    if (count == 8) {
      std::memcpy(out, &x, 8);
      return;
    }
  }
  for (std::size_t k = 0; k < count; ++k) {
    const auto byte = static_cast<std::uint8_t>(x >> (8 * k));
    if constexpr (S == signed_codes) out[k] = static_cast<Int>(static_cast<std::int8_t>(byte));
    else out[k] = static_cast<Int>(byte);
  }
}

}  // namespace mpq::detail
