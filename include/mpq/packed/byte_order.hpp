// Little-endian byte loads and stores, and the 8-codes-in-a-word helpers the bulk row codecs share.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "mpq/core/bits.hpp"

namespace mpq::detail {

/// @brief The first `n` (0..8) bytes at p as a little-endian integer; the other bytes are 0.
inline std::uint64_t load_le(const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t w = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&w, p, n);
  } else {
    for (std::size_t i = 0; i < n; ++i) w |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  }
  return w;
}

/// @brief Store the `n` (0..8) low bytes of w at p, least significant first.
inline void store_le(std::uint8_t* p, std::uint64_t w, std::size_t n) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &w, n);
  } else {
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(w >> (8 * i));
  }
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
  for (std::size_t k = 0; k < count; ++k)
    out[k] = static_cast<Int>(field_to_code(static_cast<std::uint32_t>((x >> (8 * k)) & 0xFFu), Bits, S));
}

}  // namespace mpq::detail
