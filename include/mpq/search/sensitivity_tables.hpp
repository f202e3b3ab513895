// Table-driven sensitivity models: a user table per (layer, W, A), per-bit tables of one operand,
// and the weight + activation combination (LIMPQ's α).
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/search/sensitivity_concepts.hpp"

namespace mpq {

namespace detail {
inline status check_sensitivity_value(double v, std::size_t layer, const char* model) {
  if (!std::isnan(v) && v != -std::numeric_limits<double>::infinity()) return {};
  return status::failure(errc::not_finite, "%s: layer %zu: value = %g: must be finite (or +inf to forbid)", model,
                         layer, v);
}
}  // namespace detail

/// @brief A user table: Ω_l(W,A) given for each layer index and pair. A pair without an entry is
/// NaN, which set_objective reports naming the layer and the pair.
class sensitivity_table {
 public:
  sensitivity_table() = default;
  static constexpr const char* name() noexcept { return "sensitivity_table"; }

  /// @brief Checked: Ω of layer `layer` at `bits` (finite, or +inf to forbid that choice).
  status try_set(std::size_t layer, bit_pair bits, double value) {
    MPQ_TRY(check_candidate_bits(bits.w, "sensitivity_table: weight bits"));
    MPQ_TRY(check_candidate_bits(bits.a, "sensitivity_table: activation bits"));
    MPQ_TRY(detail::check_sensitivity_value(value, layer, "sensitivity_table"));
    if (rows_.size() <= layer * stride) rows_.resize((layer + 1) * stride, nan());
    rows_[layer * stride + slot(bits)] = value;
    return {};
  }
  void set(std::size_t layer, bit_pair bits, double value) { throw_if_error(try_set(layer, bits, value)); }

  double sensitivity(const layer_info&, std::size_t index, bit_pair bits) const noexcept {
    const std::size_t at = index * stride + slot(bits);
    return at < rows_.size() ? rows_[at] : nan();
  }

 private:
  static constexpr std::size_t stride = candidate_bits_count * candidate_bits_count;
  static constexpr std::size_t slot(bit_pair p) noexcept {
    return static_cast<std::size_t>(candidate_bits_index(p.w) * candidate_bits_count + candidate_bits_index(p.a));
  }
  static double nan() noexcept { return std::numeric_limits<double>::quiet_NaN(); }
  std::vector<double> rows_;
};

/// @brief Ω_l(W,A) = table[l][bits of one operand]: a per-bit sensitivity of the weights (reads W)
/// or of the input activations (reads A). Widths 16 and 32 default to 0 (kept float: no
/// quantization error); a missing 1..8 entry is NaN (reported by set_objective).
class per_bit_sensitivity {
 public:
  explicit per_bit_sensitivity(operand which = operand::weights) noexcept : which_(which) {}
  constexpr const char* name() const noexcept {
    return which_ == operand::weights ? "per_bit_weight_sensitivity" : "per_bit_activation_sensitivity";
  }
  operand which() const noexcept { return which_; }

  /// @brief Checked: the value of layer `layer` at `bits` bits.
  status try_set(std::size_t layer, int bits, double value) {
    MPQ_TRY(check_candidate_bits(bits, "per_bit_sensitivity: bits"));
    MPQ_TRY(detail::check_sensitivity_value(value, layer, name()));
    grow(layer);
    values_[layer * stride + static_cast<std::size_t>(candidate_bits_index(bits))] = value;
    return {};
  }
  void set(std::size_t layer, int bits, double value) { throw_if_error(try_set(layer, bits, value)); }

  /// @brief The stored value (NaN when missing; 0 at 16/32 unless set).
  double at(std::size_t layer, int bits) const noexcept {
    const std::size_t i = layer * stride + static_cast<std::size_t>(candidate_bits_index(bits));
    if (i < values_.size()) return values_[i];
    return bits >= 16 ? 0.0 : std::numeric_limits<double>::quiet_NaN();
  }

  /// @brief Layers with at least one entry (the table grows with set()).
  std::size_t layer_count() const noexcept { return values_.size() / stride; }

  double sensitivity(const layer_info&, std::size_t index, bit_pair bits) const noexcept {
    return at(index, which_ == operand::weights ? bits.w : bits.a);
  }

 private:
  static constexpr std::size_t stride = candidate_bits_count;
  void grow(std::size_t layer) {
    if (values_.size() > layer * stride) return;
    const std::size_t old = values_.size();
    values_.resize((layer + 1) * stride, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t r = old / stride; r <= layer; ++r) {
      values_[r * stride + static_cast<std::size_t>(candidate_bits_index(16))] = 0.0;
      values_[r * stride + static_cast<std::size_t>(candidate_bits_index(32))] = 0.0;
    }
  }
  operand which_;
  std::vector<double> values_;
};

/// @brief Ω = activation_model(l, W, A) + α · weight_model(l, W, A): LIMPQ's objective
/// I^a_l(b_a) + α·I^w_l(b_w) (α = 2 in its code), or any weight and activation pair of models.
template <SensitivityModel WeightModel, SensitivityModel ActivationModel>
class combined_sensitivity {
 public:
  combined_sensitivity(WeightModel weights, ActivationModel activations, double alpha = 1.0)
      : w_(std::move(weights)), a_(std::move(activations)), alpha_(alpha) {}
  static constexpr const char* name() noexcept { return "combined_sensitivity"; }
  double alpha() const noexcept { return alpha_; }
  const WeightModel& weight_model() const noexcept { return w_; }
  const ActivationModel& activation_model() const noexcept { return a_; }
  WeightModel& weight_model() noexcept { return w_; }
  ActivationModel& activation_model() noexcept { return a_; }

  double sensitivity(const layer_info& l, std::size_t index, bit_pair bits) const {
    return static_cast<double>(a_.sensitivity(l, index, bits)) + alpha_ * static_cast<double>(w_.sensitivity(l, index, bits));
  }

 private:
  WeightModel w_;
  ActivationModel a_;
  double alpha_;
};

}  // namespace mpq
