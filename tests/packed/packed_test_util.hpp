// Shared helpers of the packed tests: a test-only kernel-blocked layout, bit/sign sweeps, random codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "mpq/core/bits.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/layout_concepts.hpp"

namespace mpq_test {

/// A layout defined outside mpq, with only the required members (no bulk paths): blocks of 128 codes
/// stored back to front through the interleaved layout. Everything in packed/ must work with it
/// unchanged, as with a kernel engineer's blocked layout.
struct reversed128 {
  static constexpr const char* name = "test_reversed128";
  static constexpr std::size_t col_block(int /*bits*/) noexcept { return 128; }
  static constexpr std::size_t row_bytes(int bits, std::size_t padded_cols) noexcept {
    return mpq::interleaved::row_bytes(bits, padded_cols);
  }
  static constexpr std::size_t position(std::size_t j) noexcept { return j / 128 * 128 + 127 - j % 128; }
  static constexpr void store(std::span<std::uint8_t> row, int bits, std::size_t padded_cols, std::size_t j,
                              std::uint32_t field) noexcept {
    mpq::interleaved::store(row, bits, padded_cols, position(j), field);
  }
  static constexpr std::uint32_t load(std::span<const std::uint8_t> row, int bits, std::size_t padded_cols,
                                      std::size_t j) noexcept {
    return mpq::interleaved::load(row, bits, padded_cols, position(j));
  }
};
static_assert(mpq::PackedLayout<reversed128>);

/// Calls f.template operator()<Bits, S>() for every Bits 1..8 and both signednesses layout L holds.
template <class L, class F>
void for_each_width(F&& f) {
  [&]<int... B>(std::integer_sequence<int, B...>) {
    auto one = [&]<int Bits>() {
      if constexpr (mpq::layout_supports<L>(Bits, mpq::signed_codes)) f.template operator()<Bits, mpq::signed_codes>();
      if constexpr (mpq::layout_supports<L>(Bits, mpq::unsigned_codes))
        f.template operator()<Bits, mpq::unsigned_codes>();
    };
    (one.template operator()<B + 1>(), ...);
  }(std::make_integer_sequence<int, 8>{});
}

/// n random codes in [lo, hi], fixed seed, with both extremes present when n >= 2.
inline std::vector<std::int32_t> random_codes(std::size_t n, std::int32_t lo, std::int32_t hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int32_t> d(lo, hi);
  std::vector<std::int32_t> v(n);
  for (auto& c : v) c = d(rng);
  if (n >= 1) v[0] = hi;
  if (n >= 2) v[n - 1] = lo;
  if (n >= 4) v[n / 2] = lo;
  return v;
}

/// The column counts every round trip covers.
inline constexpr std::size_t odd_cols[] = {1, 7, 63, 65, 1000};

}  // namespace mpq_test
