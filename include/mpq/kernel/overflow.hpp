// The K up to which a W-bit x A-bit integer dot product is exact in int32, and its check.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"

namespace mpq::kernel {

/// @brief The largest K for which every kernel's int32 accumulation of a W-bit x A-bit dot product
/// is exact, for signed or unsigned activations.
///
/// Kernels may hold a code in an offset form (signed weight w as w + 2^(W-1), signed activation a as
/// a + 2^(A-1), see docs/kernels.md), so the magnitude they accumulate per product is at most
/// (2^W - 1)(2^A - 1). Every partial sum stays in int32 when
///
///     K * (2^W - 1) * (2^A - 1) <= 2^31 - 1,
///
/// e.g. 33025 for W8A8, 140 M for W4A4, 2^31 - 1 for W1A1. The bound is the same for every ISA,
/// so a shape accepted on one machine is accepted on all.
constexpr std::size_t max_exact_k(int w_bits, int a_bits) noexcept {
  const std::uint64_t wmax = (std::uint64_t{1} << w_bits) - 1u;
  const std::uint64_t amax = (std::uint64_t{1} << a_bits) - 1u;
  return static_cast<std::size_t>(std::uint64_t{0x7fffffff} / (wmax * amax));
}

/// @brief ok if a dot product of length k at (w_bits, a_bits) is exact in int32, else errc::overflow
/// naming k, the pair and the bound. Bits outside 1..8 are errc::invalid_argument.
inline status check_exact_k(int w_bits, int a_bits, std::size_t k) noexcept {
  MPQ_TRY(check_packable_bits(w_bits, "weight bits"));
  MPQ_TRY(check_packable_bits(a_bits, "activation bits"));
  const std::size_t bound = max_exact_k(w_bits, a_bits);
  if (k > bound)
    return status::failure(errc::overflow,
                           "K = %zu: a W%dA%d dot product is exact in int32 only for K <= %zu "
                           "(K * (2^W - 1) * (2^A - 1) must not exceed 2^31 - 1)",
                           k, w_bits, a_bits, bound);
  return {};
}

}  // namespace mpq::kernel
