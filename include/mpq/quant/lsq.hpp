// LSQ, learned step size quantization (Esser et al., ICLR 2020), as LIMPQ (Tang et al., ECCV 2022)
// trains it: learnable step s with gradient scale g = 1/sqrt(Q_P·N), and LIMPQ's initialisations.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/quant/affine.hpp"
#include "mpq/quant/calibration.hpp"
#include "mpq/quant/parameter_checks.hpp"
#include "mpq/quant/policies.hpp"
#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/rounding.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/quant/ste.hpp"

namespace mpq {

/// @brief Options of an LSQ quantizer beyond (bits, signedness, step).
struct lsq_options {
  /// Signed codes in [-(2^(b-1) - 1), 2^(b-1) - 1] instead of the full two's-complement range
  /// (LIMPQ's `symmetric`; only for signed codes).
  bool symmetric = false;
  /// The forward clamps s to [step_min, step_max], and ∂/∂s is 0 outside (torch.clamp). LIMPQ's
  /// indicator pretraining uses [1e-5, 1]; the default is no clamp.
  float step_min = 0.0f;
  float step_max = std::numeric_limits<float>::infinity();

  /// @brief LIMPQ's indicator pretraining: s clamped to [1e-5, 1] in the forward.
  static constexpr lsq_options limpq_pretraining() noexcept { return {false, 1e-5f, 1.0f}; }
};

/// @brief LSQ's quantizer with learnable step s (algorithms.md §4a, LIMPQ's quant_operator):
///
///   v̄ = clamp(v / s, -Q_N, Q_P),  code = R(v̄),  v̂ = code · s
///   signed: Q_N = 2^(b-1), Q_P = 2^(b-1) - 1 (symmetric: Q_N = Q_P);  unsigned: Q_N = 0, Q_P = 2^b - 1
///
/// Division v / s as in the PyTorch code (not a reciprocal multiply). Ties half to even (torch.round).
/// Gradients (LSQ, [CODE] in LIMPQ): ∂v̂/∂v = 1 on -Q_N <= v/s <= Q_P, else 0; ∂v̂/∂s = R(v/s) - v/s
/// inside, -Q_N below, Q_P above (0 with bound_gradient_stops), times the step clamp's mask.
/// gradient() returns ∂v̂/∂s unscaled; gradient_scale(N) = 1/sqrt(Q_P·N) is what the span backward
/// multiplies the summed gradient by (LSQ's gradient scale). NaN quantizes as 0 and gets zero
/// gradients; +-Inf saturate.
template <RoundingPolicy R = round_half_even, BoundGradientPolicy G = bound_gradient_flows>
class lsq_quantizer : public detail::differentiable_ops<lsq_quantizer<R, G>>, public detail::affine_ops<lsq_quantizer<R, G>> {
 public:
  using rounding = R;
  using bound_gradient = G;
  static constexpr std::size_t parameter_count = 1;
  static constexpr std::array<const char*, 1> parameter_names{"s"};
  static constexpr const char* name = "lsq_quantizer";

  /// @brief bits 1..8 or 16 (signed needs >= 2: 1-bit signed has Q_P = 0); step finite and > 0.
  lsq_quantizer(int bits, signedness sign, float step, const lsq_options& options = {})
      : bits_(bits), sign_(sign), options_(options) {
    throw_if_error(check(bits, sign, step, options));
    assign(step);
  }

  static expected<lsq_quantizer> try_make(int bits, signedness sign, float step, const lsq_options& options = {}) noexcept {
    if (status s = check(bits, sign, step, options); !s.ok()) return s;
    return lsq_quantizer(validated{}, bits, sign, step, options);
  }

  static status check(int bits, signedness sign, float step, const lsq_options& options) noexcept {
    MPQ_TRY(check_quantizer_bits(bits, "lsq_quantizer: bits"));
    if (sign == signed_codes && bits < 2)
      return status::failure(errc::invalid_argument,
                             "lsq_quantizer: bits = 1 with signed codes: Q_P = 0, so the gradient scale 1/sqrt(Q_P·N) "
                             "is undefined; use >= 2 bits or unsigned codes");
    if (options.symmetric && sign != signed_codes)
      return status::failure(errc::invalid_argument, "lsq_quantizer: symmetric codes need signed codes");
    if (!(is_finite(options.step_min) && options.step_min >= 0.0f && !(options.step_max < options.step_min)))
      return status::failure(errc::invalid_argument,
                             "lsq_quantizer: step clamp [%g, %g]: must satisfy 0 <= step_min <= step_max",
                             static_cast<double>(options.step_min), static_cast<double>(options.step_max));
    return detail::check_positive_param(name, "s", step);
  }

  // ---- learnable parameters --------------------------------------------------------------------
  std::array<float, 1> parameters() const noexcept { return {s_}; }
  status try_set_parameters(const std::array<float, 1>& theta) noexcept {
    MPQ_TRY(detail::check_positive_param(name, "s", theta[0]));
    assign(theta[0]);
    return {};
  }
  // set_parameters(theta), try_backward(), backward(): from detail::differentiable_ops.

  const lsq_options& options() const noexcept { return options_; }
  /// @brief The clip limits: codes lie in [-q_n(), q_p()].
  std::int32_t q_n() const noexcept {
    if (sign_ != signed_codes) return 0;
    return options_.symmetric ? code_max_signed() : -mpq::code_min(bits_, signed_codes);
  }
  std::int32_t q_p() const noexcept { return sign_ == signed_codes ? code_max_signed() : mpq::code_max(bits_, sign_); }

  // ---- Quantizer -------------------------------------------------------------------------------
  int bits() const noexcept { return bits_; }
  bool is_signed() const noexcept { return sign_ == signed_codes; }
  std::int32_t code_min() const noexcept { return -q_n(); }
  std::int32_t code_max() const noexcept { return q_p(); }
  /// @brief The step the forward uses: s clamped to [step_min, step_max].
  float step() const noexcept { return s_eff_; }
  float code_offset() const noexcept { return 0.0f; }

  affine_form<R> affine() const noexcept {
    return {s_eff_, 1.0f / s_eff_, 0.0f, 0, code_min(), code_max(), 0.0f, true};
  }

  // ---- DifferentiableQuantizer -----------------------------------------------------------------
  quant_gradient<1> gradient(float x) const noexcept {
    quant_gradient<1> g;
    const auto form = affine();
    const std::int32_t code = form.quantize(x);
    g.value = form.dequantize(code);
    if (is_nan(x)) return g;
    const float t = x / s_eff_;
    const float qn = static_cast<float>(q_n()), qp = static_cast<float>(q_p());
    if (t >= -qn && t <= qp) {
      g.dx = 1.0f;
      g.dparams[0] = (static_cast<float>(code) - t) * clamp_mask_;
    } else if constexpr (G::flows) {
      g.dparams[0] = (t < -qn ? -qn : qp) * clamp_mask_;
    }
    return g;
  }

  /// @brief LSQ's g = 1/sqrt(Q_P·n) (1 for n = 0).
  std::array<float, 1> gradient_scale(std::size_t n) const noexcept {
    if (n == 0) return {1.0f};
    return {static_cast<float>(1.0 / std::sqrt(static_cast<double>(q_p()) * static_cast<double>(n)))};
  }

 private:
  struct validated {};
  lsq_quantizer(validated, int bits, signedness sign, float step, const lsq_options& options) noexcept
      : bits_(bits), sign_(sign), options_(options) {
    assign(step);
  }
  std::int32_t code_max_signed() const noexcept { return mpq::code_max(bits_, signed_codes); }

  void assign(float s) noexcept {
    s_ = s;
    const auto c = clip_ste(s, options_.step_min, options_.step_max);
    s_eff_ = c.value > 0.0f ? c.value : std::numeric_limits<float>::min();
    clamp_mask_ = c.grad;
  }

  int bits_ = 8;
  signedness sign_ = signed_codes;
  lsq_options options_{};
  float s_ = 1.0f;
  float s_eff_ = 1.0f;
  float clamp_mask_ = 1.0f;
};

/// @brief LIMPQ's weight initialisation at `bits` bits: s = max(|μ - 3σ|, |μ + 3σ|) / 2^(bits-1),
/// with μ, σ the mean and unbiased std of the weights (torch.std). Errors: bad bits, empty or
/// non-finite data, or data that gives s = 0.
inline expected<float> try_lsq_init_weights(std::span<const float> w, int bits) noexcept {
  if (status s = check_quantizer_bits(bits, "lsq_init_weights: bits"); !s.ok()) return s;
  auto m = try_moments(w);
  if (!m) return m.error();
  const double a = std::fabs(m->mean - 3.0 * m->stddev), b = std::fabs(m->mean + 3.0 * m->stddev);
  const auto s = static_cast<float>((a > b ? a : b) / std::ldexp(1.0, bits - 1));
  if (status st = detail::check_positive_param("lsq_init_weights", "s", s); !st.ok()) return st;
  return s;
}

/// @brief LSQ's / LIMPQ's activation initialisation: s = 2·mean|x| / sqrt(Q_P), with Q_P of
/// (bits, sign) (unsigned activations: 2^bits - 1).
inline expected<float> try_lsq_init_activations(std::span<const float> x, int bits,
                                                signedness sign = unsigned_codes) noexcept {
  if (status s = check_quantizer_bits(bits, "lsq_init_activations: bits"); !s.ok()) return s;
  if (sign == signed_codes && bits < 2)
    return status::failure(errc::invalid_argument, "lsq_init_activations: bits = 1 with signed codes: Q_P = 0");
  auto m = try_moments(x);
  if (!m) return m.error();
  const auto s = static_cast<float>(2.0 * m->mean_abs / std::sqrt(static_cast<double>(code_max(bits, sign))));
  if (status st = detail::check_positive_param("lsq_init_activations", "s", s); !st.ok()) return st;
  return s;
}

}  // namespace mpq
