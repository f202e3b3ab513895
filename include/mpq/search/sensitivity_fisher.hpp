// QBitOpt-style sensitivity from training gradients: an EMA of the squared gradients of a layer's
// tensor times the uniform-noise variance Δ(b)²/12 of quantizing it to b bits (algorithms.md §5b).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/layer.hpp"

namespace mpq {

/// @brief Ω_l(b) = F_l · Δ_l(b)² / 12 with F_l = EMA_t(Σ_i g_i²) (empirical Fisher of the layer's
/// weights, or of its input activations) and Δ_l(b) = R_l / (2^b − 1) for the layer's range R_l
/// (QBitOpt-style; the exact paper form is unverified, see algorithms.md §5b). Reads W or A per
/// `which`; 16 and 32 bits (kept float) give 0. Meant to live in a training loop: observe() is
/// O(n) and allocation-free, and problem::set_objective(*this) re-reads it every T steps.
class fisher_sensitivity {
 public:
  /// @brief Checked: `layers` layers, EMA decay in [0, 1) (F ← decay·F + (1 − decay)·Σg²; the
  /// first observation of a layer sets F = Σg²).
  static expected<fisher_sensitivity> try_make(std::size_t layers, operand which = operand::weights,
                                               double decay = 0.99) {
    if (!(decay >= 0.0 && decay < 1.0))
      return status::failure(errc::invalid_argument, "fisher_sensitivity: decay = %g: must lie in [0, 1)", decay);
    fisher_sensitivity f;
    f.which_ = which;
    f.decay_ = decay;
    f.fisher_.assign(layers, 0.0);
    f.range_.assign(layers, 0.0);
    f.count_.assign(layers, 0);
    return f;
  }
  explicit fisher_sensitivity(std::size_t layers, operand which = operand::weights, double decay = 0.99)
      : fisher_sensitivity(try_make(layers, which, decay).value()) {}

  constexpr const char* name() const noexcept {
    return which_ == operand::weights ? "fisher_weight_sensitivity" : "fisher_activation_sensitivity";
  }

  /// @brief Checked: fold one step's gradients of layer `layer` into its EMA (all finite).
  status try_observe(std::size_t layer, std::span<const float> gradients) {
    MPQ_TRY(check_layer(layer));
    double sq = 0.0;
    for (float g : gradients) sq += static_cast<double>(g) * static_cast<double>(g);
    if (!std::isfinite(sq))
      return status::failure(errc::not_finite, "fisher_sensitivity: layer %zu: a gradient is not finite", layer);
    fisher_[layer] = count_[layer] == 0 ? sq : decay_ * fisher_[layer] + (1.0 - decay_) * sq;
    ++count_[layer];
    return {};
  }
  void observe(std::size_t layer, std::span<const float> gradients) { throw_if_error(try_observe(layer, gradients)); }

  /// @brief Checked: R_l, the range the layer's quantizer covers (e.g. 2·max|W|), finite and > 0.
  status try_set_range(std::size_t layer, double range) {
    MPQ_TRY(check_layer(layer));
    if (!(range > 0.0) || !std::isfinite(range))
      return status::failure(errc::invalid_argument, "fisher_sensitivity: layer %zu range = %g: must be finite and > 0",
                             layer, range);
    range_[layer] = range;
    return {};
  }
  void set_range(std::size_t layer, double range) { throw_if_error(try_set_range(layer, range)); }

  /// @brief Checked: set F_l directly (finite, >= 0), e.g. restored from a checkpoint.
  status try_set_fisher(std::size_t layer, double value) {
    MPQ_TRY(check_layer(layer));
    if (!(value >= 0.0) || !std::isfinite(value))
      return status::failure(errc::invalid_argument, "fisher_sensitivity: layer %zu F = %g: must be finite and >= 0",
                             layer, value);
    fisher_[layer] = value;
    count_[layer] = count_[layer] == 0 ? 1 : count_[layer];
    return {};
  }
  void set_fisher(std::size_t layer, double value) { throw_if_error(try_set_fisher(layer, value)); }

  std::size_t layer_count() const noexcept { return fisher_.size(); }
  double fisher(std::size_t layer) const noexcept { return fisher_[layer]; }
  double range(std::size_t layer) const noexcept { return range_[layer]; }
  std::uint64_t observations(std::size_t layer) const noexcept { return count_[layer]; }

  /// @brief F_l·Δ_l(b)²/12; NaN for a layer without a range (set_range first) or out of range.
  double sensitivity(const layer_info&, std::size_t index, bit_pair bits) const noexcept {
    const int b = which_ == operand::weights ? bits.w : bits.a;
    if (b >= 16) return 0.0;
    if (index >= fisher_.size() || !(range_[index] > 0.0)) return std::numeric_limits<double>::quiet_NaN();
    const double delta = range_[index] / (std::ldexp(1.0, b) - 1.0);
    return fisher_[index] * delta * delta / 12.0;
  }

 private:
  fisher_sensitivity() = default;
  status check_layer(std::size_t layer) const {
    if (layer < fisher_.size()) return {};
    return status::failure(errc::out_of_range, "fisher_sensitivity: layer %zu of %zu", layer, fisher_.size());
  }
  operand which_ = operand::weights;
  double decay_ = 0.99;
  std::vector<double> fisher_, range_;
  std::vector<std::uint64_t> count_;
};

}  // namespace mpq
