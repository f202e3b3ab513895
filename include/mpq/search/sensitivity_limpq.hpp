// LIMPQ importance indicators (Tang et al., ECCV 2022): learned per-bit step sizes of each layer's
// weight and activation quantizers, the outlier clean-up, and the objective I^a + α·I^w (§4a-b).
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/search/sensitivity_tables.hpp"

namespace mpq {

/// @brief Ω_l(W,A) = I^a_l(A) + α·I^w_l(W), where I_l(b) is the layer's learned LSQ step size at b
/// bits (LIMPQ, algorithms.md §4a; α = 2 in its code). Steps shrink as bits grow, so the objective
/// pulls bits up where a layer's steps fall fastest. A layer without any indicator (kept outside
/// the search, e.g. the first and last layer) contributes 0; a missing width of an indexed layer is
/// NaN (reported by set_objective); 16/32 bits give 0.
class limpq_indicators {
 public:
  /// The value LIMPQ gives an outlier so that the ILP does not pick it (search.py, C = 1e8).
  static constexpr double outlier_penalty = 1e8;

  explicit limpq_indicators(double alpha = 2.0) : alpha_(alpha) {}
  static constexpr const char* name() noexcept { return "limpq_indicators"; }
  double alpha() const noexcept { return alpha_; }

  /// @brief Checked: the learned step size of layer `layer`'s weight or activation quantizer at
  /// `bits` bits (finite, > 0; bits 1..8).
  status try_set(std::size_t layer, operand which, int bits, double step_size) {
    if (bits < 1 || bits > 8)
      return status::failure(errc::invalid_argument, "limpq_indicators: bits = %d: indicators exist for 1..8 bits", bits);
    if (!(step_size > 0.0) || !std::isfinite(step_size))
      return status::failure(errc::invalid_argument,
                             "limpq_indicators: layer %zu, %d bits: step size = %g: must be finite and > 0", layer, bits,
                             step_size);
    MPQ_TRY(table(which).try_set(layer, bits, step_size));
    if (indexed_.size() <= layer) indexed_.resize(layer + 1, 0);
    indexed_[layer] = 1;
    return {};
  }
  void set(std::size_t layer, operand which, int bits, double step_size) {
    throw_if_error(try_set(layer, which, bits, step_size));
  }

  /// @brief LIMPQ's clean-up of non-monotone indicators (search.py, ERASE_WIRED_POINT): for every
  /// layer and operand, walking its widths from the largest down, a width b−1 whose indicator is
  /// smaller than at b is an outlier; all outliers (judged on the original values) get
  /// outlier_penalty. Returns how many entries it replaced.
  std::size_t clean_up() {
    std::size_t replaced = 0;
    for (operand which : {operand::weights, operand::activations}) {
      per_bit_sensitivity& t = table(which);
      for (std::size_t l = 0; l < indexed_.size(); ++l) {
        bool outlier[9] = {};
        for (int b = 8; b >= 2; --b) {
          const double hi = t.at(l, b), lo = t.at(l, b - 1);
          if (!std::isnan(hi) && !std::isnan(lo) && lo < hi) outlier[b - 1] = true;
        }
        for (int b = 1; b <= 8; ++b)
          if (outlier[b]) {
            t.set(l, b, outlier_penalty);
            ++replaced;
          }
      }
    }
    return replaced;
  }

  /// @brief The stored indicator (NaN when missing).
  double indicator(std::size_t layer, operand which, int bits) const noexcept {
    return which == operand::weights ? w_.at(layer, bits) : a_.at(layer, bits);
  }

  double sensitivity(const layer_info& l, std::size_t index, bit_pair bits) const noexcept {
    if (index >= indexed_.size() || !indexed_[index]) return 0.0;
    return a_.sensitivity(l, index, bits) + alpha_ * w_.sensitivity(l, index, bits);
  }

 private:
  per_bit_sensitivity& table(operand which) noexcept { return which == operand::weights ? w_ : a_; }
  double alpha_;
  per_bit_sensitivity w_{operand::weights}, a_{operand::activations};
  std::vector<char> indexed_;
};

}  // namespace mpq
