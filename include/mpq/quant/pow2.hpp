// Uhlich et al.'s learnable power-of-two quantizers (ICLR 2020): P1 (b, q_max), P2 (b, q_min),
// P3 (q_min, q_max), signed or unsigned, with or without a zero level, with straight-through gradients.
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/quant/parameter_checks.hpp"
#include "mpq/quant/policies.hpp"
#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/rounding.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/quant/ste.hpp"

namespace mpq {

/// @brief P1: θ = (b, q_max); q_min = q_max·2^(1 - 2^b'') with b'' = b - [signed] - [zero level].
struct pow2_p1 {
  static constexpr const char* name = "p1_quantizer";
  static constexpr std::array<const char*, 2> parameter_names{"b", "q_max"};
};
/// @brief P2: θ = (b, q_min); q_max = q_min·2^(2^b'' - 1).
struct pow2_p2 {
  static constexpr const char* name = "p2_quantizer";
  static constexpr std::array<const char*, 2> parameter_names{"b", "q_min"};
};
/// @brief P3: θ = (q_min, q_max); b inferred. The paper's recommended choice.
struct pow2_p3 {
  static constexpr const char* name = "p3_quantizer";
  static constexpr std::array<const char*, 2> parameter_names{"q_min", "q_max"};
};

template <class P>
concept Pow2Parametrization = std::same_as<P, pow2_p1> || std::same_as<P, pow2_p2> || std::same_as<P, pow2_p3>;

/// @brief Whether a power-of-two quantizer has a zero level (small values pruned to 0).
enum class zero_level : std::uint8_t { absent = 0, present = 1 };

/// @brief Where the learned parameters of a power-of-two quantizer may go (algorithms.md §2c).
struct pow2_bounds {
  float q_min_min = 1.52587890625e-05f;  ///< 2^-16
  float q_min_max = 127.0f;
  float q_max_min = 0.00390625f;         ///< 2^-8
  float q_max_max = 127.0f;
  float b_min = 2.0f;                    ///< also the least bit width P3 reports
  float b_max = 7.0f;                    ///< Sony allows 8; 2^7 powers of two below 2^-8 leave float's range

  /// @brief Weights (signed, no zero level): q_min in [2^-16, 127], q_max in [2^-8, 127], b in [2, 7].
  static constexpr pow2_bounds weights() noexcept { return {}; }
  /// @brief Activations (unsigned, zero level): q_min in [2^-14, 255], q_max in [2^-8, 255], b in [1, 7].
  static constexpr pow2_bounds activations() noexcept {
    return {6.103515625e-05f, 255.0f, 0.00390625f, 255.0f, 1.0f, 7.0f};
  }

  status check(const char* who, signedness s, zero_level z) const noexcept {
    MPQ_TRY(detail::check_bounds_pair(who, "q_min", q_min_min, q_min_max));
    MPQ_TRY(detail::check_bounds_pair(who, "q_max", q_max_min, q_max_max));
    const float extra = (s == signed_codes ? 1.0f : 0.0f) + (z == zero_level::present ? 1.0f : 0.0f);
    MPQ_TRY(detail::check_bits_bounds(who, b_min, b_max, extra > 1.0f ? extra : 1.0f,
                                      "the sign and the zero level each take one bit"));
    if (q_min_min > q_max_max)
      return status::failure(errc::invalid_argument, "%s: q_min_min = %g exceeds q_max_max = %g", who,
                             static_cast<double>(q_min_min), static_cast<double>(q_max_max));
    return {};
  }
};

/// @brief The smooth surrogate of P3's bit width, log2(log2(q_max/q_min) + 1) + [signed] + [zero].
inline float pow2_surrogate_bits(float q_min, float q_max, signedness s, zero_level z) noexcept {
  return std::log2(std::log2(q_max / q_min) + 1.0f) + (s == signed_codes ? 1.0f : 0.0f) +
         (z == zero_level::present ? 1.0f : 0.0f);
}

/// @brief Its gradient {∂/∂q_min, ∂/∂q_max} = {-1, 1} / ((log2(q_max/q_min) + 1) ln²2 · q_{min,max}).
inline std::array<float, 2> pow2_surrogate_bits_gradient(float q_min, float q_max) noexcept {
  const float c = (std::log2(q_max / q_min) + 1.0f) * ln2 * ln2;
  return {-1.0f / (c * q_min), 1.0f / (c * q_max)};
}

/// @brief Uhlich et al.'s power-of-two quantizer (Sony's parametric_pow2_quantize_*, algorithms.md
/// §2a). q_min and q_max are powers of two (the learned one rounded in the log domain, the derived
/// one exactly so); the levels are 0 (with a zero level) and ±2^e for e in [log2 q_min, log2 q_max]:
///
///   |x| <  q_min/√2             -> 0                  (zero level only; without it, -> q_min)
///   q_min/√2 <= |x| < q_min      -> sign(x)·q_min
///   q_min <= |x| < q_max         -> sign(x)·2^round(log2|x|)
///   |x| >= q_max                 -> sign(x)·q_max
///
/// Unsigned quantizers apply a ReLU first (so without a zero level a negative x gives +q_min, as in
/// Sony's code); sign(0) = +1 (nnabla). NaN quantizes as 0.0 does and gets zero gradients.
/// Codes, with M = log2(q_max/q_min) + 1 magnitudes and e_min = log2 q_min:
///   without zero: c >= 0 -> +2^(e_min + c), c < 0 -> -2^(e_min - 1 - c)   codes [-M, M-1] (unsigned [0, M-1])
///   with zero:    c = 0 -> 0, c > 0 -> +2^(e_min + c - 1), c < 0 -> -2^(e_min - 1 - c)   codes [-M, M]
/// so bits() two's-complement bits always hold them. Not uniform: it models Quantizer, not
/// UniformQuantizer; step() is q_min, the smallest level spacing.
///
/// Gradients (Sony's code with STE round, DERIVED): ∂Q/∂x = Q/x on q_min <= |x| < q_max, else 0;
/// ∂Q/∂q_min = sign(x) on the q_min band; ∂Q/∂q_max = sign(x) on |x| >= q_max; chained through the
/// power-of-two STE factor p/v of the learned bound and, for P1/P2, through the derived bound:
///   P1: ∂q_min/∂q_max = q_min/q_max,  ∂q_min/∂b = -q_min·2^b''·ln²2
///   P2: ∂q_max/∂q_min = q_max/q_min,  ∂q_max/∂b = +q_max·2^b''·ln²2.
/// With G = bound_gradient_stops both bounds are constants (no parameter gradient at all).
template <Pow2Parametrization P, RoundingPolicy R = round_half_away, BoundGradientPolicy G = bound_gradient_flows>
class pow2_quantizer : public detail::differentiable_ops<pow2_quantizer<P, R, G>> {
 public:
  using parametrization = P;
  using rounding = R;
  using bound_gradient = G;
  static constexpr std::size_t parameter_count = 2;
  static constexpr std::array<const char*, 2> parameter_names = P::parameter_names;
  static constexpr const char* name = P::name;

  /// @brief θ in P's order: P1 (b, q_max), P2 (b, q_min), P3 (q_min, q_max).
  pow2_quantizer(float theta0, float theta1, signedness s = signed_codes, zero_level z = zero_level::absent,
                 const pow2_bounds& bounds = pow2_bounds::weights())
      : sign_(s), zero_(z), bounds_(bounds) {
    throw_if_error(check({theta0, theta1}, s, z, bounds));
    assign({theta0, theta1});
  }

  static expected<pow2_quantizer> try_make(float theta0, float theta1, signedness s = signed_codes,
                                           zero_level z = zero_level::absent,
                                           const pow2_bounds& bounds = pow2_bounds::weights()) noexcept {
    if (status st = check({theta0, theta1}, s, z, bounds); !st.ok()) return st;
    return pow2_quantizer(validated{}, {theta0, theta1}, s, z, bounds);
  }

  /// @brief Bounds valid; parameters finite and inside their bounds; P3: q_min <= q_max; the
  /// derived levels must be normal floats (2^-126 .. 2^127).
  static status check(const std::array<float, 2>& theta, signedness s, zero_level z, const pow2_bounds& bounds) noexcept {
    MPQ_TRY(bounds.check(name, s, z));
    if constexpr (std::same_as<P, pow2_p3>) {
      MPQ_TRY(detail::check_param_in(name, "q_min", theta[0], bounds.q_min_min, bounds.q_min_max));
      MPQ_TRY(detail::check_param_in(name, "q_max", theta[1], bounds.q_max_min, bounds.q_max_max));
      if (theta[1] < theta[0])
        return status::failure(errc::invalid_argument, "%s: q_max = %g is below q_min = %g", name,
                               static_cast<double>(theta[1]), static_cast<double>(theta[0]));
    } else {
      MPQ_TRY(detail::check_param_in(name, "b", theta[0], bounds.b_min, bounds.b_max));
      if constexpr (std::same_as<P, pow2_p1>)
        MPQ_TRY(detail::check_param_in(name, "q_max", theta[1], bounds.q_max_min, bounds.q_max_max));
      else
        MPQ_TRY(detail::check_param_in(name, "q_min", theta[1], bounds.q_min_min, bounds.q_min_max));
      const auto e = exponents(theta, s, z);
      if (e[0] < -126 || e[1] > 127)
        return status::failure(errc::out_of_range,
                               "%s: b = %g with %s = %g gives levels 2^%d .. 2^%d: they must be normal floats "
                               "(2^-126 .. 2^127)",
                               name, static_cast<double>(theta[0]), P::parameter_names[1],
                               static_cast<double>(theta[1]), e[0], e[1]);
    }
    return {};
  }

  // ---- learnable parameters --------------------------------------------------------------------
  std::array<float, 2> parameters() const noexcept { return theta_; }
  status try_set_parameters(const std::array<float, 2>& theta) noexcept {
    MPQ_TRY(check(theta, sign_, zero_, bounds_));
    assign(theta);
    return {};
  }
  // set_parameters(theta) (throwing): from detail::differentiable_ops.

  /// @brief Sony's projection (train_resnet.py clip_quant_vals): P3 first enforces q_min < q_max
  /// with the 1e-5 margins, then each parameter is clipped to [min + 1e-5, max - 1e-5] of its bounds.
  std::array<float, 2> project(std::array<float, 2> theta) const noexcept {
    const auto& bd = bounds_;
    if constexpr (std::same_as<P, pow2_p3>)
      return detail::sony_project_ordered(theta, bd.q_min_min, bd.q_min_max, bd.q_max_min, bd.q_max_max);
    theta[0] = detail::sony_clip(theta[0], bd.b_min, bd.b_max);
    if constexpr (std::same_as<P, pow2_p1>) theta[1] = detail::sony_clip(theta[1], bd.q_max_min, bd.q_max_max);
    else theta[1] = detail::sony_clip(theta[1], bd.q_min_min, bd.q_min_max);
    return theta;
  }

  /// @brief Sony's gradient clipping under an active memory constraint (P3): both to [-q_min, q_min].
  std::array<float, 2> clip_gradients(std::array<float, 2> grad) const noexcept
    requires std::same_as<P, pow2_p3>
  {
    return detail::clip_each(grad, theta_[0]);
  }

  const pow2_bounds& bounds() const noexcept { return bounds_; }
  bool has_zero_level() const noexcept { return zero_ == zero_level::present; }

  // ---- Quantizer -------------------------------------------------------------------------------
  int bits() const noexcept { return bits_; }
  bool is_signed() const noexcept { return sign_ == signed_codes; }
  std::int32_t code_min() const noexcept { return is_signed() ? -magnitudes_ : 0; }
  std::int32_t code_max() const noexcept { return has_zero_level() ? magnitudes_ : magnitudes_ - 1; }
  /// @brief q_min: the smallest level spacing.
  float step() const noexcept { return q_min_; }
  float q_min() const noexcept { return q_min_; }
  float q_max() const noexcept { return q_max_; }
  float min_value() const noexcept { return dequantize(code_min()); }
  float max_value() const noexcept { return q_max_; }

  std::int32_t quantize(float x) const noexcept {
    if (is_nan(x) || (!is_signed() && x < 0.0f)) x = 0.0f;
    const bool neg = x < 0.0f;
    const float ax = neg ? -x : x;
    std::int32_t idx = 0;  // index of the nonzero magnitude: 2^(e_min + idx)
    if (ax >= q_max_) {
      idx = magnitudes_ - 1;
    } else if (ax >= q_min_) {
      idx = nearest_pow2_exponent(ax) - e_min_;
    } else if (has_zero_level() && ax < zero_threshold_) {
      return 0;
    }
    if (has_zero_level()) return neg ? -idx - 1 : idx + 1;
    return neg ? -idx - 1 : idx;
  }

  float dequantize(std::int32_t code) const noexcept {
    if (has_zero_level()) {
      if (code == 0) return 0.0f;
      return code > 0 ? std::ldexp(1.0f, e_min_ + code - 1) : -std::ldexp(1.0f, e_min_ - code - 1);
    }
    return code >= 0 ? std::ldexp(1.0f, e_min_ + code) : -std::ldexp(1.0f, e_min_ - 1 - code);
  }

  float fake_quantize(float x) const noexcept { return dequantize(quantize(x)); }
  float operator()(float x) const noexcept { return fake_quantize(x); }

  // ---- DifferentiableQuantizer -----------------------------------------------------------------
  quant_gradient<2> gradient(float x) const noexcept {
    quant_gradient<2> g;
    g.value = fake_quantize(x);
    if (is_nan(x)) return g;
    const bool relu_cut = !is_signed() && x < 0.0f;
    const float xr = relu_cut ? 0.0f : x;
    const float ax = xr < 0.0f ? -xr : xr;
    const float s = sign_of(xr);
    if (ax >= q_max_) {
      if constexpr (G::flows) g.dparams = chain_q_max(s);
    } else if (ax >= q_min_) {
      g.dx = relu_cut ? 0.0f : g.value / xr;
    } else if (!has_zero_level() || ax >= zero_threshold_) {
      if constexpr (G::flows) g.dparams = chain_q_min(s);
    }
    return g;
  }

  std::array<float, 2> gradient_scale(std::size_t) const noexcept { return {1.0f, 1.0f}; }

  // try_backward() and backward(): from detail::differentiable_ops (the span backward).

  // ---- LearnedBitsQuantizer --------------------------------------------------------------------
  /// @brief P1/P2: the raw b. P3: the surrogate log2(log2(q_max/q_min) + 1) + [signed] + [zero] at
  /// the effective bounds (its ceiling is bits()), or b_min when bits() is held at b_min.
  float real_bits() const noexcept {
    if constexpr (std::same_as<P, pow2_p3>) {
      if (at_b_min_) return static_cast<float>(bits_);
      return pow2_surrogate_bits(q_min_, q_max_, sign_, zero_);
    } else {
      return theta_[0];
    }
  }

  /// @brief ∂bits/∂θ: P1/P2 (1, 0); P3 the surrogate's gradient at the effective bounds times the
  /// power-of-two STE factors, i.e. {-1/q_min, 1/q_max}/((n+1) ln²2) with raw q's; (0, 0) at b_min.
  std::array<float, 2> bits_gradient() const noexcept {
    if constexpr (std::same_as<P, pow2_p3>) {
      if (at_b_min_) return {0.0f, 0.0f};
      auto g = pow2_surrogate_bits_gradient(q_min_, q_max_);
      return {g[0] * q_min_ / theta_[0], g[1] * q_max_ / theta_[1]};
    } else {
      return {1.0f, 0.0f};
    }
  }

 private:
  struct validated {};
  pow2_quantizer(validated, const std::array<float, 2>& theta, signedness s, zero_level z, const pow2_bounds& bounds) noexcept
      : sign_(s), zero_(z), bounds_(bounds) {
    assign(theta);
  }

  static int magnitude_bits(float b, signedness s, zero_level z) noexcept {
    return static_cast<int>(round_integral<R>(b)) - (s == signed_codes ? 1 : 0) - (z == zero_level::present ? 1 : 0);
  }

  // {e_min, e_max} of the effective levels for θ.
  static std::array<int, 2> exponents(const std::array<float, 2>& theta, signedness s, zero_level z) noexcept {
    if constexpr (std::same_as<P, pow2_p3>) {
      return {nearest_pow2_exponent(theta[0]), nearest_pow2_exponent(theta[1])};
    } else {
      const int span = (1 << magnitude_bits(theta[0], s, z)) - 1;  // e_max - e_min
      const int e = nearest_pow2_exponent(theta[1]);
      if constexpr (std::same_as<P, pow2_p1>) return {e - span, e};
      else return {e, e + span};
    }
  }

  void assign(const std::array<float, 2>& theta) noexcept {
    theta_ = theta;
    const auto e = exponents(theta, sign_, zero_);
    e_min_ = e[0];
    q_min_ = std::ldexp(1.0f, e[0]);
    q_max_ = std::ldexp(1.0f, e[1]);
    magnitudes_ = e[1] - e[0] + 1;
    zero_threshold_ = static_cast<float>(static_cast<double>(q_min_) / std::sqrt(2.0));
    at_b_min_ = false;
    if constexpr (std::same_as<P, pow2_p3>) {
      const int inferred = std::bit_width(static_cast<std::uint32_t>(magnitudes_ - 1)) + (is_signed() ? 1 : 0) +
                           (has_zero_level() ? 1 : 0);
      const int b_min = static_cast<int>(std::ceil(bounds_.b_min));
      at_b_min_ = inferred < b_min;
      bits_ = at_b_min_ ? b_min : inferred;
    } else {
      bits_ = static_cast<int>(round_integral<R>(theta[0]));
      pow2_b2_ = std::ldexp(1.0f, magnitude_bits(theta[0], sign_, zero_));
    }
  }

  // ∂Q/∂θ on the q_max band and on the q_min band, for an output of sign s. A learned bound v with
  // effective value p contributes p/v (its power-of-two STE factor); P1's q_min = q_max·2^(1-2^b'')
  // and P2's q_max = q_min·2^(2^b''-1) carry the learned bound's factor times their ratio, which
  // leaves p_derived/v.
  std::array<float, 2> chain_q_max(float s) const noexcept {
    if constexpr (std::same_as<P, pow2_p2>) return {s * q_max_ * pow2_b2_ * ln2 * ln2, s * q_max_ / theta_[1]};
    else return {0.0f, s * q_max_ / theta_[1]};
  }
  std::array<float, 2> chain_q_min(float s) const noexcept {
    if constexpr (std::same_as<P, pow2_p3>) return {s * q_min_ / theta_[0], 0.0f};
    else if constexpr (std::same_as<P, pow2_p1>) return {-s * q_min_ * pow2_b2_ * ln2 * ln2, s * q_min_ / theta_[1]};
    else return {0.0f, s * q_min_ / theta_[1]};
  }

  std::array<float, 2> theta_{};
  signedness sign_ = signed_codes;
  zero_level zero_ = zero_level::absent;
  pow2_bounds bounds_{};
  int e_min_ = 0;
  float q_min_ = 1.0f;
  float q_max_ = 1.0f;
  std::int32_t magnitudes_ = 1;
  float zero_threshold_ = 0.70710678f;
  int bits_ = 1;
  bool at_b_min_ = false;
  float pow2_b2_ = 1.0f;  // 2^b'' (P1, P2)
};

using p1_quantizer = pow2_quantizer<pow2_p1>;
using p2_quantizer = pow2_quantizer<pow2_p2>;
using p3_quantizer = pow2_quantizer<pow2_p3>;

}  // namespace mpq
