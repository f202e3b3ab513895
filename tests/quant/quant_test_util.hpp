// Shared helpers of the quantizer tests: dense input grids (with exact ties and special values),
// independent rounding in double, and a check that a failed call changed nothing.
#pragma once

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "mpq/quant/policies.hpp"

namespace quant_test {

inline constexpr float nan_f = std::numeric_limits<float>::quiet_NaN();
inline constexpr float inf_f = std::numeric_limits<float>::infinity();

/// Round in double with the C library (independent of mpq::round_integral).
template <class R>
double round_model(double v) {
  if constexpr (std::is_same_v<R, mpq::round_half_away>) return std::round(v);
  else return std::nearbyint(v);
}

/// A dense grid over [lo, hi] (n points), every exact tie (k + 1/2)·step and grid point k·step in
/// that range and their float neighbours, and a few random values; fixed seed.
inline std::vector<float> dense_grid(float lo, float hi, float step, int n = 2001, unsigned seed = 7) {
  std::vector<float> xs;
  for (int i = 0; i < n; ++i) xs.push_back(lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(n - 1));
  const int k_lo = static_cast<int>(std::floor(lo / step)) - 1, k_hi = static_cast<int>(std::ceil(hi / step)) + 1;
  if (k_hi - k_lo < 100000) {
    for (int k = k_lo; k <= k_hi; ++k) {
      for (float base : {static_cast<float>(k) * step, (static_cast<float>(k) + 0.5f) * step}) {
        xs.push_back(base);
        xs.push_back(std::nextafter(base, 1e30f));
        xs.push_back(std::nextafter(base, -1e30f));
      }
    }
  }
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int i = 0; i < 500; ++i) xs.push_back(u(rng));
  for (float v : {0.0f, -0.0f, lo, hi}) xs.push_back(v);
  return xs;
}

inline std::string str(const char* s) { return std::string(s); }

}  // namespace quant_test
