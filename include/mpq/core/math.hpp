// Small constexpr numeric helpers shared by every layer (the <cmath> ones are not constexpr in C++20).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mpq {

/// @brief True for NaN. constexpr, and not folded away by -ffast-math style assumptions on x != x.
constexpr bool is_nan(float x) noexcept { return x != x; }
constexpr bool is_nan(double x) noexcept { return x != x; }

/// @brief True unless x is NaN or +-Inf. Comparisons only, so it is a constant expression for every x
/// (x - x is not: Inf - Inf is NaN, which GCC refuses in constant evaluation).
constexpr bool is_finite(float x) noexcept { return x >= -3.40282347e+38f && x <= 3.40282347e+38f; }
constexpr bool is_finite(double x) noexcept { return x >= -1.7976931348623157e+308 && x <= 1.7976931348623157e+308; }

/// @brief ceil(a / b) for b > 0.
constexpr std::size_t ceil_div(std::size_t a, std::size_t b) noexcept { return (a + b - 1) / b; }

/// @brief The smallest multiple of b that is >= a (b > 0).
constexpr std::size_t round_up(std::size_t a, std::size_t b) noexcept { return ceil_div(a, b) * b; }

/// @brief True for 1, 2, 4, 8, ...
constexpr bool is_power_of_two(std::size_t v) noexcept { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace mpq
