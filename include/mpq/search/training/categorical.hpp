// Categorical distributions over candidate bit widths: softmax of logits, its backward, the
// winner-take-all choice and seeded sampling (EdMIPS, Guo et al.'s relaxation).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/error.hpp"
#include "mpq/search/seeded_random.hpp"

namespace mpq {

/// @brief probs = softmax(logits), computed in double with the maximum subtracted (no overflow for
/// any finite logits). Preconditions (asserted): equal sizes, at least one logit.
inline void softmax(std::span<const float> logits, std::span<float> probs) noexcept {
  MPQ_ASSERT(logits.size() == probs.size() && !logits.empty());
  float top = logits[0];
  for (float v : logits) top = v > top ? v : top;
  double sum = 0.0;
  for (std::size_t i = 0; i < logits.size(); ++i) sum += std::exp(static_cast<double>(logits[i]) - top);
  for (std::size_t i = 0; i < logits.size(); ++i)
    probs[i] = static_cast<float>(std::exp(static_cast<double>(logits[i]) - top) / sum);
}

/// @brief The softmax Jacobian applied to ∂L/∂π: grad_logits[i] += π_i (g_i − Σ_j π_j g_j).
/// Preconditions (asserted): equal sizes.
inline void softmax_backward(std::span<const float> probs, std::span<const double> grad_probs,
                             std::span<float> grad_logits) noexcept {
  MPQ_ASSERT(probs.size() == grad_probs.size() && probs.size() == grad_logits.size());
  double mean = 0.0;
  for (std::size_t i = 0; i < probs.size(); ++i) mean += static_cast<double>(probs[i]) * grad_probs[i];
  for (std::size_t i = 0; i < probs.size(); ++i)
    grad_logits[i] += static_cast<float>(static_cast<double>(probs[i]) * (grad_probs[i] - mean));
}

/// @brief Index of the largest value (the first one among equals): EdMIPS's winner-take-all.
inline std::size_t argmax(std::span<const float> v) noexcept {
  std::size_t best = 0;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

/// @brief A draw from the categorical distribution `probs` (which sum to 1 up to rounding), using
/// and advancing the splitmix64 stream `state`.
inline std::size_t sample_categorical(std::span<const float> probs, std::uint64_t& state) noexcept {
  const double u = detail::uniform_open01(state);
  double acc = 0.0;
  for (std::size_t i = 0; i < probs.size(); ++i) {
    acc += probs[i];
    if (u < acc) return i;
  }
  return probs.size() - 1;  // rounding left the total a hair below u
}

}  // namespace mpq
