// Helpers of the training-strategy tests: small problems, seeded data, finite differences.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "mpq/cost/bitops.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/seeded_random.hpp"

namespace mpq_test {

/// n standard-normal values scaled by `scale`, from a fixed seed.
inline std::vector<float> normal_values(std::size_t n, std::uint64_t seed, double scale = 1.0, double shift = 0.0) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(shift + scale * mpq::detail::standard_normal(seed));
  return v;
}

/// Three linear layers: a fixed first layer (8, 8), two searched ones with the given widths.
inline mpq::problem three_layer_problem(std::span<const int> w_bits, std::span<const int> a_bits) {
  mpq::problem p;
  const mpq::bit_pair fixed[] = {{8, 8}};
  p.add_layer(mpq::linear_layer("fc1", 16, 12), std::span<const mpq::bit_pair>(fixed));
  p.add_layer(mpq::linear_layer("fc2", 12, 10), w_bits, a_bits);
  p.add_layer(mpq::linear_layer("fc3", 10, 4), w_bits, a_bits);
  return p;
}

/// Central difference of f at theta[k].
inline double central_difference(std::vector<float>& theta, std::size_t k, float h, const std::function<double()>& f) {
  const float keep = theta[k];
  theta[k] = keep + h;
  const double up = f();
  theta[k] = keep - h;
  const double down = f();
  theta[k] = keep;
  return (up - down) / (2.0 * static_cast<double>(h));
}

}  // namespace mpq_test
