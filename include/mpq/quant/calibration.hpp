// Calibration: statistics of data that initialise quantizers (moments, min/max, percentiles) and the
// step that minimises the quantization MSE; per tensor and per channel (any axis).
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>
#include <type_traits>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/quant/per_channel.hpp"
#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/span.hpp"

namespace mpq {

/// @brief A closed range of values [lo, hi].
struct value_range {
  float lo = 0.0f;
  float hi = 0.0f;
};

/// @brief First and second moments of a span, computed in double.
struct data_moments {
  std::size_t count = 0;
  double mean = 0.0;
  double stddev = 0.0;    ///< unbiased (n - 1), as torch.std(); 0 when count == 1
  double mean_abs = 0.0;  ///< mean |x|
  double max_abs = 0.0;
  float min = 0.0f;
  float max = 0.0f;
};

namespace detail {
// Calibration data must be non-empty and finite: NaN or Inf would poison every statistic.
inline status check_calibration_data(const char* who, std::span<const float> x) noexcept {
  if (x.empty()) return status::failure(errc::invalid_argument, "%s: no data: calibration needs at least one value", who);
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!is_finite(x[i]))
      return status::failure(errc::not_finite, "%s: x[%zu] = %g: calibration data must be finite", who, i,
                             static_cast<double>(x[i]));
  return {};
}

inline data_moments moments_of(std::span<const float> x) noexcept {
  data_moments m;
  m.count = x.size();
  m.min = m.max = x[0];
  double sum = 0.0, sum_abs = 0.0;
  for (float v : x) {
    sum += v;
    sum_abs += std::fabs(static_cast<double>(v));
    m.min = v < m.min ? v : m.min;
    m.max = v > m.max ? v : m.max;
  }
  m.mean = sum / static_cast<double>(x.size());
  m.mean_abs = sum_abs / static_cast<double>(x.size());
  m.max_abs = std::max(std::fabs(static_cast<double>(m.min)), std::fabs(static_cast<double>(m.max)));
  double ss = 0.0;  // two passes: the centred sum of squares does not cancel catastrophically
  for (float v : x) ss += (v - m.mean) * (v - m.mean);
  m.stddev = x.size() > 1 ? std::sqrt(ss / static_cast<double>(x.size() - 1)) : 0.0;
  return m;
}

// The p-th percentile (p in [0, 100]) of a sorted-on-demand copy, linear between order statistics
// (numpy's default): position p/100·(n-1).
inline float percentile_of(std::vector<float>& v, double p) {
  const double pos = p / 100.0 * static_cast<double>(v.size() - 1);
  const auto i = static_cast<std::size_t>(pos);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  const double a = v[i];
  if (i + 1 >= v.size()) return static_cast<float>(a);
  const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(i) + 1, v.end());
  return static_cast<float>(a + (pos - static_cast<double>(i)) * (b - a));
}
}  // namespace detail

/// @brief Count, mean, unbiased standard deviation, mean |x|, max |x|, min and max of finite data.
inline expected<data_moments> try_moments(std::span<const float> x) noexcept {
  if (status s = detail::check_calibration_data("moments", x); !s.ok()) return s;
  return detail::moments_of(x);
}

/// @brief [min x, max x].
inline expected<value_range> try_minmax(std::span<const float> x) noexcept {
  auto m = try_moments(x);
  if (!m) return m.error();
  return value_range{m->min, m->max};
}

/// @brief [P(100 - p), P(p)] for p in [50, 100]: the range that clips (100 - p)% of the data at each
/// end. Percentiles interpolate linearly between order statistics (numpy's default). Allocates a
/// copy of the data.
inline expected<value_range> try_percentile_range(std::span<const float> x, double p) {
  if (status s = detail::check_calibration_data("percentile_range", x); !s.ok()) return s;
  if (!(p >= 50.0 && p <= 100.0))
    return status::failure(errc::invalid_argument, "percentile_range: p = %g: must lie in [50, 100]", p);
  std::vector<float> v(x.begin(), x.end());
  const float lo = detail::percentile_of(v, 100.0 - p);
  const float hi = detail::percentile_of(v, p);
  return value_range{lo, hi};
}

/// @brief The p-th percentile (p in (0, 100]) of |x|, for symmetric ranges. Allocates a copy.
inline expected<float> try_abs_percentile(std::span<const float> x, double p) {
  if (status s = detail::check_calibration_data("abs_percentile", x); !s.ok()) return s;
  if (!(p > 0.0 && p <= 100.0))
    return status::failure(errc::invalid_argument, "abs_percentile: p = %g: must lie in (0, 100]", p);
  std::vector<float> v(x.size());
  std::transform(x.begin(), x.end(), v.begin(), [](float a) { return std::fabs(a); });
  return detail::percentile_of(v, p);
}

/// @brief Options of the MSE step search.
struct mse_search {
  int grid = 64;          ///< candidates spaced evenly over [step_lo, step_hi]
  int refine_steps = 40;  ///< golden-section iterations around the best candidate
};

/// @brief The step s in [step_lo, step_hi] minimising quantization_mse(make(s), x), where make(s)
/// returns a Quantizer with step s (any family: uniform, LSQ, HWGQ, Gaussian, ...). A grid of
/// `grid` evenly spaced candidates, then golden-section search between the best candidate's
/// neighbours; the result is the best step evaluated (never worse than the grid's best). MSE is
/// not convex in s, so this is a careful search, not a proof of the global minimum.
template <class MakeQuantizer>
  requires Quantizer<std::invoke_result_t<MakeQuantizer&, float>>
expected<float> try_mse_optimal_step(std::span<const float> x, MakeQuantizer&& make, float step_lo, float step_hi,
                                     mse_search options = {}) {
  if (status s = detail::check_calibration_data("mse_optimal_step", x); !s.ok()) return s;
  if (!(is_finite(step_lo) && is_finite(step_hi) && step_lo > 0.0f && step_lo <= step_hi))
    return status::failure(errc::invalid_argument, "mse_optimal_step: steps [%g, %g]: must be finite with 0 < lo <= hi",
                           static_cast<double>(step_lo), static_cast<double>(step_hi));
  if (options.grid < 2 || options.refine_steps < 0)
    return status::failure(errc::invalid_argument, "mse_optimal_step: grid = %d, refine_steps = %d: need grid >= 2, refine >= 0",
                           options.grid, options.refine_steps);
  float best_step = step_lo;
  double best = quantization_mse(make(step_lo), x);
  auto eval = [&](double s) {
    const auto step = static_cast<float>(s);
    const double e = quantization_mse(make(step), x);
    if (e < best) {
      best = e;
      best_step = step;
    }
    return e;
  };
  const double lo = step_lo, hi = step_hi, h = (hi - lo) / (options.grid - 1);
  int best_j = 0;
  for (int j = 1; j < options.grid; ++j) {
    const double before = best;
    eval(j + 1 == options.grid ? hi : lo + h * j);
    if (best < before) best_j = j;
  }
  double a = best_j > 0 ? lo + h * (best_j - 1) : lo;
  double b = best_j + 1 < options.grid ? lo + h * (best_j + 1) : hi;
  constexpr double inv_phi = 0.6180339887498949;
  double c = b - inv_phi * (b - a), d = a + inv_phi * (b - a);
  double fc = eval(c), fd = eval(d);
  for (int it = 0; it < options.refine_steps; ++it) {
    if (fc <= fd) {
      b = d, d = c, fd = fc;
      c = b - inv_phi * (b - a);
      fc = eval(c);
    } else {
      a = c, c = d, fc = fd;
      d = a + inv_phi * (b - a);
      fd = eval(d);
    }
  }
  return best_step;
}

/// @brief The exponent e in [e_lo, e_hi] whose power-of-two step 2^e minimises
/// quantization_mse(make(2^e), x) (Uhlich's d, or any power-of-two step); exhaustive, smallest e on
/// ties.
template <class MakeQuantizer>
  requires Quantizer<std::invoke_result_t<MakeQuantizer&, float>>
expected<int> try_mse_optimal_pow2_exponent(std::span<const float> x, MakeQuantizer&& make, int e_lo, int e_hi) {
  if (status s = detail::check_calibration_data("mse_optimal_pow2_exponent", x); !s.ok()) return s;
  if (e_lo > e_hi || e_lo < -126 || e_hi > 127)
    return status::failure(errc::invalid_argument,
                           "mse_optimal_pow2_exponent: exponents [%d, %d]: need -126 <= lo <= hi <= 127", e_lo, e_hi);
  int best_e = e_lo;
  double best = quantization_mse(make(std::ldexp(1.0f, e_lo)), x);
  for (int e = e_lo + 1; e <= e_hi; ++e) {
    const double m = quantization_mse(make(std::ldexp(1.0f, e)), x);
    if (m < best) best = m, best_e = e;
  }
  return best_e;
}

// ---- Per channel ----------------------------------------------------------------------------------

/// @brief Calls f(channel, values) for every channel of x with the channel's elements gathered into
/// one contiguous buffer (allocated once), so any per-tensor calibration runs per channel.
template <class F>
status try_for_each_channel(std::span<const float> x, const channel_layout& layout, F&& f) {
  MPQ_TRY(detail::check_same_size("for_each_channel", "x", x.size(), "the shape", layout.size()));
  std::vector<float> buffer(layout.outer() * layout.inner());
  for (std::size_t c = 0; c < layout.channels(); ++c) {
    std::size_t k = 0;
    for (std::size_t o = 0; o < layout.outer(); ++o) {
      const float* run = x.data() + (o * layout.channels() + c) * layout.inner();
      for (std::size_t i = 0; i < layout.inner(); ++i) buffer[k++] = run[i];
    }
    MPQ_TRY(f(c, std::span<const float>(buffer)));
  }
  return {};
}

namespace detail {
// out[c] = per_tensor(channel c's values).value(), all or nothing.
template <class T, class F>
status collect_per_channel(const char* who, std::span<const float> x, const channel_layout& layout, std::span<T> out,
                           F&& per_tensor) {
  MPQ_TRY(check_same_size(who, "out", out.size(), "channels", layout.channels()));
  std::vector<T> result(out.size());
  MPQ_TRY(try_for_each_channel(x, layout, [&](std::size_t c, std::span<const float> v) -> status {
    auto r = per_tensor(v);
    if (!r) return r.error();
    result[c] = *r;
    return {};
  }));
  std::copy(result.begin(), result.end(), out.begin());
  return {};
}
}  // namespace detail

/// @brief out[c] = the moments of channel c (min, max, mean, std, mean |x|, max |x|).
inline status try_moments_per_channel(std::span<const float> x, const channel_layout& layout,
                                      std::span<data_moments> out) {
  return detail::collect_per_channel("moments_per_channel", x, layout, out,
                                     [](std::span<const float> v) { return try_moments(v); });
}

/// @brief out[c] = [P(100 - p), P(p)] of channel c.
inline status try_percentile_range_per_channel(std::span<const float> x, const channel_layout& layout, double p,
                                               std::span<value_range> out) {
  return detail::collect_per_channel("percentile_range_per_channel", x, layout, out,
                                     [p](std::span<const float> v) { return try_percentile_range(v, p); });
}

}  // namespace mpq
