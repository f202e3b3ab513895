// Uhlich et al.'s learnable step-size + range quantizers (ICLR 2020, "Mixed Precision DNNs: All you
// need is a good parametrization"): U1 (b, d), U2 (b, q_max), U3 (d, q_max), with straight-through
// gradients, the power-of-two step, the bit width inferred for U3, and the projection of §2b.
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
#include "mpq/quant/affine.hpp"
#include "mpq/quant/parameter_checks.hpp"
#include "mpq/quant/policies.hpp"
#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/rounding.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/quant/ste.hpp"

namespace mpq {

// ---- Parametrizations (algorithms.md §2a). The learned θ, in this order: ---------------------------
/// @brief U1: θ = (b, d); q_max = (2^b' - 1)·d with b' = b - [signed].
struct uhlich_u1 {
  static constexpr const char* name = "u1_quantizer";
  static constexpr std::array<const char*, 2> parameter_names{"b", "d"};
};
/// @brief U2: θ = (b, q_max); d = q_max / (2^b' - 1), then projected to a power of two.
struct uhlich_u2 {
  static constexpr const char* name = "u2_quantizer";
  static constexpr std::array<const char*, 2> parameter_names{"b", "q_max"};
};
/// @brief U3: θ = (d, q_max); b inferred as ceil(log2(q_max/d + 1)) + [signed]. The paper's choice.
struct uhlich_u3 {
  static constexpr const char* name = "u3_quantizer";
  static constexpr std::array<const char*, 2> parameter_names{"d", "q_max"};
};

template <class P>
concept StepRangeParametrization =
    std::same_as<P, uhlich_u1> || std::same_as<P, uhlich_u2> || std::same_as<P, uhlich_u3>;

/// @brief Where the learned parameters may go (algorithms.md §2c, Sony's CIFAR-10 configs).
/// The parameters must lie inside these bounds (project() puts any finite θ there).
struct step_range_bounds {
  float d_min = 0.00390625f;      ///< 2^-8
  float d_max = 1.0f;
  float q_max_min = 0.00390625f;  ///< 2^-8
  float q_max_max = 127.0f;
  float b_min = 2.0f;             ///< also the least bit width U3 reports
  float b_max = 8.0f;

  /// @brief Sony's weight bounds: b in [2, 8], d in [2^-8, 1], q_max in [2^-8, 127].
  static constexpr step_range_bounds weights() noexcept { return {}; }
  /// @brief Sony's activation bounds: b in [1, 8], d in [2^-8, 1], q_max in [2^-8, 255].
  static constexpr step_range_bounds activations() noexcept {
    return {0.00390625f, 1.0f, 0.00390625f, 255.0f, 1.0f, 8.0f};
  }

  /// @brief Ok, or what is wrong: each pair finite with 0 < min <= max; bits 1..16 (b_min >= 2 for
  /// signed codes); d_min <= q_max_max; q_max_max / d_min <= 2^22 (so every code is exact in float).
  status check(const char* who, signedness s) const noexcept {
    MPQ_TRY(detail::check_bounds_pair(who, "d", d_min, d_max));
    MPQ_TRY(detail::check_bounds_pair(who, "q_max", q_max_min, q_max_max));
    MPQ_TRY(detail::check_bits_bounds(who, b_min, b_max, s == signed_codes ? 2.0f : 1.0f,
                                      "signed codes spend one bit on the sign"));
    if (d_min > q_max_max)
      return status::failure(errc::invalid_argument, "%s: d_min = %g exceeds q_max_max = %g: no valid (d, q_max) exists",
                             who, static_cast<double>(d_min), static_cast<double>(q_max_max));
    if (static_cast<double>(q_max_max) / d_min > 4194304.0)
      return status::failure(errc::invalid_argument,
                             "%s: q_max_max / d_min = %g: must be <= 2^22 so every code is exact in float", who,
                             static_cast<double>(q_max_max) / d_min);
    return {};
  }
};

/// @brief The smooth surrogate of U3's bit width, log2(q_max/d + 1) + [signed] (algorithms.md §2b).
inline float uhlich_surrogate_bits(float d, float q_max, signedness s) noexcept {
  return std::log2(q_max / d + 1.0f) + (s == signed_codes ? 1.0f : 0.0f);
}

/// @brief Its gradient {∂/∂d, ∂/∂q_max} = {-q/(d(q+d) ln2), 1/((q+d) ln2)}.
inline std::array<float, 2> uhlich_surrogate_bits_gradient(float d, float q_max) noexcept {
  const float denom = (q_max + d) * ln2;
  return {-q_max / (d * denom), 1.0f / denom};
}

/// @brief Uhlich et al.'s uniform quantizer Q(x) = d·round(clip(x, x_min, q_max)/d) with learnable
/// parameters θ as chosen by P (see uhlich_u1/u2/u3), signed (x_min = -q_max) or unsigned
/// (x_min = 0: the quantizer replaces the ReLU).
///
/// Forward, as Sony's nnabla code (algorithms.md §2a), with these hardware projections:
///  - the step is a power of two: d_eff = 2^round(log2 d) (U2: of q_max/(2^b'-1));
///  - the bit width is an integer: b_int = R(b) (U1, U2);
///  - the range is snapped to the step grid, q_eff = k·d_eff: U1 k = 2^b'-1; U3 k = R(q_max/d_eff);
///    U2 k = min(R(q_max/d_eff), 2^b'-1). (Sony clips at the unsnapped q_max; snapping makes the
///    paper's piecewise formula and the code agree exactly and, for U2, keeps the codes inside b
///    bits, which Sony's U2 can exceed when the power-of-two rounding lowers d.) k >= 1 always.
/// Codes are c = clamp(R(x/d_eff), -k or 0, k); value = d_eff·c. Ties follow R (Sony: half away).
/// NaN quantizes as 0.0 does and gets zero gradients; +-Inf saturate.
///
/// Gradients (DERIVED, algorithms.md §2a), 1_in = [x_min <= x <= q_eff], 1_out = saturated:
///   ∂Q/∂x = 1_in.
///   U3: ∂Q/∂d = 1_in (Q - x)/d;  ∂Q/∂q_max = 1_out sign(x).
///   U1: ∂Q/∂b = 1_out sign(x) d_eff 2^b' ln2;  ∂Q/∂d = 1_in (Q - x)/d + 1_out sign(x)(2^b' - 1) d_eff/d.
///   U2: ∂Q/∂b = -1_in (Q - x) 2^b' ln2/(2^b' - 1);  ∂Q/∂q_max = 1_in (Q - x)/q_max + 1_out sign(x).
/// d and q_max in these formulas are the raw parameters: the power-of-two STE factor d_eff/d is
/// chained in; the snap of q_max is straight-through (∂q_eff/∂q_max = 1). Negative inputs of an
/// unsigned quantizer are clipped at the constant 0 and get no gradient at all. With
/// G = bound_gradient_stops every 1_out term is 0.
template <StepRangeParametrization P, RoundingPolicy R = round_half_away, BoundGradientPolicy G = bound_gradient_flows>
class step_range_quantizer : public detail::differentiable_ops<step_range_quantizer<P, R, G>>,
                             public detail::affine_ops<step_range_quantizer<P, R, G>> {
 public:
  using parametrization = P;
  using rounding = R;
  using bound_gradient = G;
  static constexpr std::size_t parameter_count = 2;
  static constexpr std::array<const char*, 2> parameter_names = P::parameter_names;
  static constexpr const char* name = P::name;

  /// @brief θ = (theta0, theta1) in P's order: U1 (b, d), U2 (b, q_max), U3 (d, q_max).
  /// Invalid arguments: mpq::error naming the value and the rule (or the handler without exceptions).
  step_range_quantizer(float theta0, float theta1, signedness s = signed_codes,
                       const step_range_bounds& bounds = step_range_bounds::weights())
      : sign_(s), bounds_(bounds) {
    throw_if_error(check({theta0, theta1}, s, bounds));
    assign({theta0, theta1});
  }

  /// @brief Checked construction: the quantizer or a status naming the bad value and its rule.
  static expected<step_range_quantizer> try_make(float theta0, float theta1, signedness s = signed_codes,
                                                 const step_range_bounds& bounds = step_range_bounds::weights()) noexcept {
    if (status st = check({theta0, theta1}, s, bounds); !st.ok()) return st;
    return step_range_quantizer(validated{}, {theta0, theta1}, s, bounds);
  }

  /// @brief The rules θ must satisfy: bounds valid; every parameter finite and inside its bounds;
  /// U3 also q_max >= d (the range holds at least one step).
  static status check(const std::array<float, 2>& theta, signedness s, const step_range_bounds& bounds) noexcept {
    MPQ_TRY(bounds.check(name, s));
    if constexpr (std::same_as<P, uhlich_u3>) {
      MPQ_TRY(detail::check_param_in(name, "d", theta[0], bounds.d_min, bounds.d_max));
      MPQ_TRY(detail::check_param_in(name, "q_max", theta[1], bounds.q_max_min, bounds.q_max_max));
      if (theta[1] < theta[0])
        return status::failure(errc::invalid_argument, "%s: q_max = %g is below d = %g: the range must hold at least one step",
                               name, static_cast<double>(theta[1]), static_cast<double>(theta[0]));
    } else {
      MPQ_TRY(detail::check_param_in(name, "b", theta[0], bounds.b_min, bounds.b_max));
      if constexpr (std::same_as<P, uhlich_u1>)
        MPQ_TRY(detail::check_param_in(name, "d", theta[1], bounds.d_min, bounds.d_max));
      else
        MPQ_TRY(detail::check_param_in(name, "q_max", theta[1], bounds.q_max_min, bounds.q_max_max));
    }
    return {};
  }

  // ---- learnable parameters --------------------------------------------------------------------
  std::array<float, 2> parameters() const noexcept { return theta_; }
  /// @brief Replace θ (checked by check()); on failure nothing changes.
  status try_set_parameters(const std::array<float, 2>& theta) noexcept {
    MPQ_TRY(check(theta, sign_, bounds_));
    assign(theta);
    return {};
  }
  // set_parameters(theta) (throwing): from detail::differentiable_ops.

  /// @brief Sony's projection after an optimizer step (algorithms.md §2b step 4): U3 first enforces
  /// d < q_max (d <- min(d, q_max - 1e-5), q_max <- max(d + 1e-5, q_max)); then every parameter is
  /// clipped to [min + 1e-5, max - 1e-5] of its bounds. Any finite θ comes back valid; NaN stays NaN
  /// (so try_set_parameters reports it instead of hiding a diverged run).
  std::array<float, 2> project(std::array<float, 2> theta) const noexcept {
    const auto& bd = bounds_;
    if constexpr (std::same_as<P, uhlich_u3>)
      return detail::sony_project_ordered(theta, bd.d_min, bd.d_max, bd.q_max_min, bd.q_max_max);
    theta[0] = detail::sony_clip(theta[0], bd.b_min, bd.b_max);
    if constexpr (std::same_as<P, uhlich_u1>) theta[1] = detail::sony_clip(theta[1], bd.d_min, bd.d_max);
    else theta[1] = detail::sony_clip(theta[1], bd.q_max_min, bd.q_max_max);
    return theta;
  }

  /// @brief Sony's gradient clipping while a memory constraint is active (algorithms.md §2b step 2,
  /// U3 only in their code): both gradients clipped to [-d, d] with the current raw d.
  std::array<float, 2> clip_gradients(std::array<float, 2> grad) const noexcept
    requires std::same_as<P, uhlich_u3>
  {
    return detail::clip_each(grad, theta_[0]);
  }

  const step_range_bounds& bounds() const noexcept { return bounds_; }

  // ---- Quantizer -------------------------------------------------------------------------------
  int bits() const noexcept { return bits_; }
  bool is_signed() const noexcept { return sign_ == signed_codes; }
  std::int32_t code_min() const noexcept { return is_signed() ? -k_ : 0; }
  std::int32_t code_max() const noexcept { return k_; }
  /// @brief The effective (power-of-two) step d_eff.
  float step() const noexcept { return d_eff_; }
  float code_offset() const noexcept { return 0.0f; }

  /// @brief d_eff is a power of two, so multiplying by its reciprocal is exact division.
  affine_form<R> affine() const noexcept {
    return {d_eff_, 1.0f / d_eff_, 0.0f, 0, code_min(), code_max(), 0.0f, false};
  }

  // ---- DifferentiableQuantizer -----------------------------------------------------------------
  quant_gradient<2> gradient(float x) const noexcept {
    quant_gradient<2> g;
    g.value = this->fake_quantize(x);
    const float q_eff = this->max_value();
    const float lower = is_signed() ? -q_eff : 0.0f;
    if (x >= lower && x <= q_eff) {  // false for NaN
      g.dx = 1.0f;
      const float err = g.value - x;
      if constexpr (std::same_as<P, uhlich_u3>) {
        g.dparams = {err / theta_[0], 0.0f};
      } else if constexpr (std::same_as<P, uhlich_u1>) {
        g.dparams = {0.0f, err / theta_[1]};
      } else {
        g.dparams = {-err * pow2_bprime_ * ln2 / levels_, err / theta_[1]};
      }
    } else if (x > q_eff || (is_signed() && x < lower)) {
      if constexpr (G::flows) {
        const float s = sign_of(x);
        if constexpr (std::same_as<P, uhlich_u3>)
          g.dparams = {0.0f, s};
        else if constexpr (std::same_as<P, uhlich_u1>)
          g.dparams = {s * d_eff_ * pow2_bprime_ * ln2, s * levels_ * d_eff_ / theta_[1]};
        else
          g.dparams = {0.0f, s};
      }
    }
    return g;
  }

  std::array<float, 2> gradient_scale(std::size_t) const noexcept { return {1.0f, 1.0f}; }

  // try_backward() and backward(): from detail::differentiable_ops (the span backward).

  // ---- LearnedBitsQuantizer --------------------------------------------------------------------
  /// @brief U1/U2: the raw b. U3: the surrogate log2(q_eff/d_eff + 1) + [signed] (= log2(k+1) +
  /// [signed], whose ceiling is bits()), or b_min when bits() is held at b_min.
  float real_bits() const noexcept {
    if constexpr (std::same_as<P, uhlich_u3>) {
      if (at_b_min_) return static_cast<float>(bits_);
      return uhlich_surrogate_bits(d_eff_, this->max_value(), sign_);
    } else {
      return theta_[0];
    }
  }

  /// @brief ∂bits/∂θ for a memory penalty (Sony's STE through round, ceil and the power of two).
  /// U1/U2: (1, 0). U3: the surrogate's gradient at (d_eff, q_eff) with the STE factor d_eff/d,
  /// i.e. {-q_eff/((q_eff + d_eff) ln2 · d), 1/((q_eff + d_eff) ln2)}; (0, 0) when held at b_min.
  std::array<float, 2> bits_gradient() const noexcept {
    if constexpr (std::same_as<P, uhlich_u3>) {
      if (at_b_min_) return {0.0f, 0.0f};
      auto g = uhlich_surrogate_bits_gradient(d_eff_, this->max_value());
      g[0] *= d_eff_ / theta_[0];
      return g;
    } else {
      return {1.0f, 0.0f};
    }
  }

 private:
  struct validated {};
  step_range_quantizer(validated, const std::array<float, 2>& theta, signedness s, const step_range_bounds& bounds) noexcept
      : sign_(s), bounds_(bounds) {
    assign(theta);
  }

  // Derives the effective quantities from a validated θ.
  void assign(const std::array<float, 2>& theta) noexcept {
    theta_ = theta;
    const int sign_bit = is_signed() ? 1 : 0;
    at_b_min_ = false;
    if constexpr (std::same_as<P, uhlich_u3>) {
      d_eff_ = pow2_ste(theta[0]).value;
      const float k = round_integral<R>(theta[1] / d_eff_);
      k_ = k < 1.0f ? 1 : static_cast<std::int32_t>(k);
      const int inferred = std::bit_width(static_cast<std::uint32_t>(k_)) + sign_bit;  // ceil(log2(k+1))
      const int b_min = static_cast<int>(std::ceil(bounds_.b_min));
      at_b_min_ = inferred < b_min;
      bits_ = at_b_min_ ? b_min : inferred;
    } else {
      bits_ = static_cast<int>(round_integral<R>(theta[0]));
      const int b_prime = bits_ - sign_bit;
      pow2_bprime_ = std::ldexp(1.0f, b_prime);
      levels_ = pow2_bprime_ - 1.0f;
      const std::int32_t max_code = (std::int32_t{1} << b_prime) - 1;
      if constexpr (std::same_as<P, uhlich_u1>) {
        d_eff_ = pow2_ste(theta[1]).value;
        k_ = max_code;
      } else {
        d_eff_ = pow2_ste(theta[1] / levels_).value;
        const float k = round_integral<R>(theta[1] / d_eff_);
        k_ = k < 1.0f ? 1 : (k > static_cast<float>(max_code) ? max_code : static_cast<std::int32_t>(k));
      }
    }
  }

  std::array<float, 2> theta_{};
  signedness sign_ = signed_codes;
  step_range_bounds bounds_{};
  float d_eff_ = 1.0f;
  std::int32_t k_ = 1;
  int bits_ = 2;
  bool at_b_min_ = false;
  float pow2_bprime_ = 2.0f;  // 2^b' (U1, U2)
  float levels_ = 1.0f;       // 2^b' - 1 (U1, U2)
};

/// @brief U1 (b, d) with Sony's defaults (ties half away, the bound learns).
using u1_quantizer = step_range_quantizer<uhlich_u1>;
/// @brief U2 (b, q_max) with Sony's defaults.
using u2_quantizer = step_range_quantizer<uhlich_u2>;
/// @brief U3 (d, q_max) with Sony's defaults: the parametrization the paper recommends.
using u3_quantizer = step_range_quantizer<uhlich_u3>;

/// @brief Sony's initialisation of a weight quantizer from max|W| at b0 bits (algorithms.md §2c,
/// model_resnet.py find_delta): d0 = 2^floor(log2(max|W| / (2^(b0-1) - 1))) (ceil when b0 > 4),
/// q_max0 = d0·(2^(b0-1) - 1). Returns {d0, q_max0} for U3 (U1 uses {b0, d0}, U2 {b0, q_max0}).
/// Errors: b0 outside 2..16, max|W| not finite or <= 0.
inline expected<std::array<float, 2>> try_uhlich_weight_init(float max_abs, int b0) noexcept {
  if (b0 < 2 || b0 > 16)
    return status::failure(errc::invalid_argument, "uhlich_weight_init: b0 = %d: must be 2..16 (signed weights)", b0);
  if (status s = detail::check_positive_param("uhlich_weight_init", "max|W|", max_abs); !s.ok()) return s;
  const float levels = std::ldexp(1.0f, b0 - 1) - 1.0f;
  const float l = std::log2(max_abs / levels);
  const float d0 = std::exp2(b0 > 4 ? std::ceil(l) : std::floor(l));
  return std::array<float, 2>{d0, d0 * levels};
}

}  // namespace mpq
