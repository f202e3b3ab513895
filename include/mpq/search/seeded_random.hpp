// Deterministic, seedable random numbers for the search layer (Hutchinson probes, synthetic
// sensitivities): splitmix64, uniform and standard-normal draws. No <random> state to carry.
#pragma once

#include <cmath>
#include <cstdint>

namespace mpq::detail {

/// splitmix64 (Steele, Lea & Flood 2014): advances `state` and returns 64 well-mixed bits.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  state += 0x9e3779b97f4a7c15ull;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// Uniform in (0, 1): the top 53 bits, offset by half a unit so that 0 never comes out.
inline double uniform_open01(std::uint64_t& state) noexcept {
  return (static_cast<double>(splitmix64(state) >> 11) + 0.5) * 0x1.0p-53;
}

/// Standard normal by Box-Muller.
inline double standard_normal(std::uint64_t& state) noexcept {
  const double u1 = uniform_open01(state), u2 = uniform_open01(state);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

/// FNV-1a of a string: seeds a per-layer stream from the layer's name (independent of layer order).
constexpr std::uint64_t fnv1a(const char* s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; ++s) h = (h ^ static_cast<unsigned char>(*s)) * 0x100000001b3ull;
  return h;
}

}  // namespace mpq::detail
