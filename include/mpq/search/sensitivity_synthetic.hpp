// Deterministic synthetic sensitivities for tests, benchmarks and examples when no trained network
// is at hand: the shape of quantization noise (∝ 4^-b), scaled per layer by seeded random factors.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "mpq/cost/layer.hpp"
#include "mpq/search/seeded_random.hpp"

namespace mpq {

/// @brief Ω_l(W,A) = c^w_l·4^−W + c^a_l·4^−A (a term is 0 at 16/32 bits), with
///   c^w_l = n_l · (2 / fan_in_l) · e^(σ·z_w)   (n_l weights of He-initialized variance 2/fan_in),
///   c^a_l = κ · A_l · e^(σ·z_a)                 (A_l input activations of unit variance),
/// z_w, z_a ~ N(0, 1) drawn from (seed, layer name), so a layer keeps its values when layers are
/// reordered. 4^−b is the b-bit uniform-noise variance Δ²/12 up to a constant (Δ ∝ 2^−b).
/// Not a measurement: a stand-in with realistic spread across layers (σ = 1 spans ~e^±2).
class synthetic_sensitivity {
 public:
  explicit synthetic_sensitivity(std::uint64_t seed = 1, double sigma = 1.0, double activation_scale = 1e-2) noexcept
      : seed_(seed), sigma_(sigma), kappa_(activation_scale) {}
  static constexpr const char* name() noexcept { return "synthetic_sensitivity"; }

  /// @brief The two per-layer factors (c^w_l, c^a_l).
  void factors(const layer_info& l, std::size_t index, double& cw, double& ca) const noexcept {
    std::uint64_t state = seed_ ^ (l.name.empty() ? 0x9e3779b97f4a7c15ull * (index + 1) : detail::fnv1a(l.name.c_str()));
    const double zw = detail::standard_normal(state), za = detail::standard_normal(state);
    const double fan_in = l.gemm_k > 0 ? static_cast<double>(l.gemm_k) : 1.0;
    cw = static_cast<double>(l.weights) * (2.0 / fan_in) * std::exp(sigma_ * zw);
    ca = kappa_ * static_cast<double>(l.activations) * std::exp(sigma_ * za);
  }

  double sensitivity(const layer_info& l, std::size_t index, bit_pair bits) const noexcept {
    double cw = 0.0, ca = 0.0;
    factors(l, index, cw, ca);
    const double tw = bits.w >= 16 ? 0.0 : cw * std::ldexp(1.0, -2 * bits.w);
    const double ta = bits.a >= 16 ? 0.0 : ca * std::ldexp(1.0, -2 * bits.a);
    return tw + ta;
  }

 private:
  std::uint64_t seed_;
  double sigma_, kappa_;
};

}  // namespace mpq
