// Data-free weight sensitivities: quantization error ||Q_b(W) − W||² with mpq's quantizers, and
// HAWQ-V3's (Tr(H)/n)·||Q_b(W) − W||² with the trace given or estimated by Hutchinson's method.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/quant/calibration.hpp"
#include "mpq/quant/edmips.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/quant/uniform.hpp"
#include "mpq/search/seeded_random.hpp"
#include "mpq/search/sensitivity_concepts.hpp"

namespace mpq {

/// @brief How weight_quantization_error picks each bit width's clipping range.
enum class clip_rule : std::uint8_t {
  max_abs,     ///< clip at max|W| (no clipping error; the usual data-free choice)
  mse_search,  ///< the step minimizing the error (mpq::try_mse_optimal_step over [max|W|/16, max|W|]·/q_max)
};

struct mse_options {
  clip_rule clip = clip_rule::max_abs;
  mse_search search{};  ///< grid and refinement of clip_rule::mse_search
};

namespace detail {
// ||Q(w) − w||² for a symmetric signed B-bit uniform quantizer, codes [−(2^(B−1)−1), 2^(B−1)−1]
// (the narrow range keeps ±clip symmetric), step clip/(2^(B−1)−1) or the MSE-optimal one.
template <int B>
double uniform_sq_error(std::span<const float> w, float max_abs, const mse_options& options) {
  constexpr std::int32_t qmax = (std::int32_t{1} << (B - 1)) - 1;
  auto make = [](float step) { return uniform_quantizer<B, signed_codes>(step, 0, -qmax, qmax); };
  float step = max_abs / static_cast<float>(qmax);
  if (options.clip == clip_rule::mse_search) {
    auto best = try_mse_optimal_step(w, make, step / 16.0f, step, options.search);
    if (best) step = *best;
  }
  return quantization_mse(make(step), w) * static_cast<double>(w.size());
}

inline double uniform_sq_error(std::span<const float> w, int bits, float max_abs, const mse_options& options) {
  switch (bits) {
    case 2: return uniform_sq_error<2>(w, max_abs, options);
    case 3: return uniform_sq_error<3>(w, max_abs, options);
    case 4: return uniform_sq_error<4>(w, max_abs, options);
    case 5: return uniform_sq_error<5>(w, max_abs, options);
    case 6: return uniform_sq_error<6>(w, max_abs, options);
    case 7: return uniform_sq_error<7>(w, max_abs, options);
    case 8: return uniform_sq_error<8>(w, max_abs, options);
    default: MPQ_ASSERT(false); return 0.0;
  }
}

// 1 bit: binary weights ±α with α = mean|w|, the L2-optimal scale of sign codes (Rastegari et al.,
// XNOR-Net, 2016, eq. 4): mpq's mid-rise quantizer (EdMIPS form) with step 2α has exactly the
// levels ±α.
inline double binary_sq_error(std::span<const float> w) {
  if (w.empty()) return 0.0;
  double mean_abs = 0.0;
  for (float x : w) mean_abs += std::fabs(static_cast<double>(x));
  mean_abs /= static_cast<double>(w.size());
  if (!(mean_abs > 0.0)) return 0.0;
  auto q = gaussian_quantizer<>::try_with_step(1, static_cast<float>(2.0 * mean_abs));
  MPQ_ASSERT(q.has_value());
  return quantization_mse(*q, w) * static_cast<double>(w.size());
}
}  // namespace detail

/// @brief Ω_l(W,A) = ||Q_W(W_l) − W_l||²: the squared error of quantizing the layer's weights to W
/// bits, summed over the weights (HAWQ-V3's perturbation term, algorithms.md §1.5), with mpq's
/// quantizers: 2..8 bits mpq::uniform_quantizer, symmetric, step per clip_rule; 1 bit the mid-rise
/// binary quantizer ±mean|w|; 16/32 bits (kept float): 0. Computed for every width at
/// construction, then looked up (the weights are not kept).
class weight_quantization_error {
 public:
  /// @brief Checked: errors of every layer's weights (`weights[l]` for problem layer l, all finite).
  static expected<weight_quantization_error> try_make(std::span<const std::span<const float>> weights,
                                                      const mse_options& options = {}) {
    for (std::size_t l = 0; l < weights.size(); ++l)
      for (std::size_t i = 0; i < weights[l].size(); ++i)
        if (!std::isfinite(weights[l][i]))
          return status::failure(errc::not_finite, "weight_quantization_error: layer %zu weight %zu = %g: must be finite",
                                 l, i, static_cast<double>(weights[l][i]));
    weight_quantization_error m;
    m.errors_.assign(weights.size() * 8, 0.0);
    for (std::size_t l = 0; l < weights.size(); ++l) {
      const std::span<const float> w = weights[l];
      float max_abs = 0.0f;
      for (float x : w) max_abs = std::fmax(max_abs, std::fabs(x));
      if (!(max_abs > 0.0f)) continue;  // all zero: no error at any width
      m.errors_[l * 8] = detail::binary_sq_error(w);
      for (int b = 2; b <= 8; ++b)
        m.errors_[l * 8 + static_cast<std::size_t>(b - 1)] = detail::uniform_sq_error(w, b, max_abs, options);
    }
    return m;
  }
  explicit weight_quantization_error(std::span<const std::span<const float>> weights, const mse_options& options = {})
      : weight_quantization_error(try_make(weights, options).value()) {}

  static constexpr const char* name() noexcept { return "weight_quantization_error"; }
  std::size_t layer_count() const noexcept { return errors_.size() / 8; }

  /// @brief ||Q_b(W_l) − W_l||² (0 for 16/32 bits; NaN for a layer it was not given).
  double error(std::size_t layer, int bits) const noexcept {
    if (bits >= 16) return 0.0;
    if (layer >= layer_count() || bits < 1 || bits > 8) return std::numeric_limits<double>::quiet_NaN();
    return errors_[layer * 8 + static_cast<std::size_t>(bits - 1)];
  }

  double sensitivity(const layer_info&, std::size_t index, bit_pair bits) const noexcept {
    return error(index, bits.w);
  }

 private:
  weight_quantization_error() = default;
  std::vector<double> errors_;  // layer × (bits − 1)
};

/// @brief Hutchinson's estimator of Tr(H) = E[vᵀHv] over Rademacher v (entries ±1; Avron &
/// Toledo 2011), with H given only through `hvp(v, out)`, which writes H·v into `out` (n floats).
/// Returns the mean of `samples` draws from a fixed seed. HAWQ-V3 stores Tr(H)/n per layer.
template <class Hvp>
  requires std::invocable<Hvp&, std::span<const float>, std::span<float>>
expected<double> try_hutchinson_trace(std::size_t n, Hvp&& hvp, int samples, std::uint64_t seed = 0x5eed) {
  if (n == 0 || samples < 1)
    return status::failure(errc::invalid_argument, "hutchinson_trace: n = %zu, samples = %d: both must be >= 1", n,
                           samples);
  std::vector<float> v(n), hv(n);
  std::uint64_t state = seed;
  double sum = 0.0;
  for (int s = 0; s < samples; ++s) {
    for (std::size_t i = 0; i < n; ++i) v[i] = (detail::splitmix64(state) & 1u) ? 1.0f : -1.0f;
    hvp(std::span<const float>(v), std::span<float>(hv));
    double dot = 0.0;
    for (std::size_t i = 0; i < n; ++i) dot += static_cast<double>(v[i]) * static_cast<double>(hv[i]);
    if (!std::isfinite(dot))
      return status::failure(errc::not_finite, "hutchinson_trace: sample %d: vᵀHv = %g: the callback gave a non-finite H·v",
                             s, dot);
    sum += dot;
  }
  return sum / samples;
}

/// @brief As try_hutchinson_trace; throws mpq::error on bad input.
template <class Hvp>
  requires std::invocable<Hvp&, std::span<const float>, std::span<float>>
double hutchinson_trace(std::size_t n, Hvp&& hvp, int samples, std::uint64_t seed = 0x5eed) {
  return try_hutchinson_trace(n, std::forward<Hvp>(hvp), samples, seed).value();
}

/// @brief HAWQ-V3's sensitivity Ω_l(W,A) = (Tr(H_l)/n_l) · ||Q_W(W_l) − W_l||² (algorithms.md §1.5):
/// the average Hessian trace of the layer's weights times its quantization perturbation.
class hawq_sensitivity {
 public:
  /// @brief Checked: `average_traces[l]` = Tr(H_l)/n_l (finite), one per layer of `mse`.
  static expected<hawq_sensitivity> try_make(std::vector<double> average_traces, weight_quantization_error mse) {
    if (average_traces.size() != mse.layer_count())
      return status::failure(errc::shape_mismatch, "hawq_sensitivity: %zu traces for %zu layers of weights",
                             average_traces.size(), mse.layer_count());
    for (std::size_t l = 0; l < average_traces.size(); ++l)
      if (!std::isfinite(average_traces[l]))
        return status::failure(errc::not_finite, "hawq_sensitivity: layer %zu trace = %g: must be finite", l,
                               average_traces[l]);
    return hawq_sensitivity(std::move(average_traces), std::move(mse), 0);
  }
  hawq_sensitivity(std::vector<double> average_traces, weight_quantization_error mse)
      : hawq_sensitivity(try_make(std::move(average_traces), std::move(mse)).value()) {}

  static constexpr const char* name() noexcept { return "hawq_sensitivity"; }
  double average_trace(std::size_t layer) const noexcept { return traces_[layer]; }
  const weight_quantization_error& mse() const noexcept { return mse_; }

  double sensitivity(const layer_info&, std::size_t index, bit_pair bits) const noexcept {
    if (index >= traces_.size()) return std::numeric_limits<double>::quiet_NaN();
    return traces_[index] * mse_.error(index, bits.w);
  }

 private:
  hawq_sensitivity(std::vector<double> t, weight_quantization_error m, int) : traces_(std::move(t)), mse_(std::move(m)) {}
  std::vector<double> traces_;
  weight_quantization_error mse_;
};

}  // namespace mpq
