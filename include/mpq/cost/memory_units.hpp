// The unit a memory cost model reports in: bits or bytes (8 bits).
#pragma once

#include <cstdint>

namespace mpq {

/// @brief Unit of a memory cost: bits, or bytes (= bits / 8, fractional for odd bit counts).
enum class memory_unit : std::uint8_t { bits, bytes };

/// @brief Bits per unit: 1 or 8.
constexpr double bits_per(memory_unit u) noexcept { return u == memory_unit::bits ? 1.0 : 8.0; }

}  // namespace mpq
