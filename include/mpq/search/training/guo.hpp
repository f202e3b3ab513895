// Guo et al. (AICAS 2019), "Exploration of Automatic Mixed-Precision Search for DNNs": weight bit widths
// relaxed from discrete to continuous, in the two readings of algorithms.md §6 (both UNVERIFIED).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/quant/calibration.hpp"
#include "mpq/quant/edmips.hpp"
#include "mpq/quant/lsq.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"
#include "mpq/search/training/categorical.hpp"
#include "mpq/search/training/quantizer_branch.hpp"
#include "mpq/search/training/training_base.hpp"

namespace mpq {

namespace detail {

/// Guo et al.'s per-width weight quantizer (the paper's is not public; this is mpq's reading):
/// b = 1: binary weights ±mean|W| (BinaryConnect-style scaling), b = 2..8: symmetric uniform
/// codes [-(2^(b-1) - 1), 2^(b-1) - 1] with step max|W| / (2^(b-1) - 1) (nothing clips), b >= 16:
/// float. Straight-through ∂Q/∂W = 1. The scales are statistics of W treated as constants.
inline expected<quantizer_branch> guo_weight_branch(int bits, const data_moments& m) {
  if (bits >= 16) return quantizer_branch::identity();
  if (bits == 1) {
    auto q = gaussian_quantizer<>::try_with_step(1, static_cast<float>(2.0 * m.mean_abs));
    if (!q) return q.error();
    return quantizer_branch::of(*q);
  }
  const double levels = std::ldexp(1.0, bits - 1) - 1.0;
  auto q = lsq_quantizer<>::try_make(bits, signed_codes, static_cast<float>(m.max_abs / levels), {true});
  if (!q) return q.error();
  return quantizer_branch::of(*q);
}

/// The input activations of Guo et al.'s layers: the relaxation learns weight bits only, so each
/// layer keeps the problem's single activation width: float (ReLU) at 16/32 bits, else an unsigned
/// LSQ quantizer whose step is learned, initialised from the first batch it quantizes (LSQ's
/// 2·mean|x|/sqrt(Q_P)).
class fixed_width_activations {
 public:
  /// Reads each layer's activation width (errors when a layer offers more than one) and gives the
  /// quantized ones a parameter slot from `n` on (n is advanced).
  status assign(const problem& p, const char* who, std::size_t& n) {
    const std::size_t L = p.layer_count();
    width_.assign(L, 32);
    offset_.assign(L, no_slot);
    ready_.assign(L, 0);
    std::vector<int> w, a;
    for (std::size_t l = 0; l < L; ++l) {
      candidate_widths(p, l, w, a);
      if (a.size() != 1)
        return status::failure(errc::invalid_argument,
                               "%s: layer %zu '%s' offers %zu activation widths: Guo et al. learn weight bits only, so "
                               "each layer needs exactly one activation width",
                               who, l, p.layer(l).name.c_str(), a.size());
      width_[l] = a[0];
      if (a[0] <= 8) offset_[l] = n++;
    }
    return {};
  }
  int width(std::size_t l) const noexcept { return width_[l]; }
  std::size_t offset(std::size_t l) const noexcept { return offset_[l]; }

  bool initialised(std::size_t l) const noexcept { return ready_[l] != 0; }

  status forward(std::size_t l, std::span<float> params, std::span<const float> x, std::span<float> y) {
    if (offset_[l] == no_slot) {
      float_forward(operand::activations, x, y);
      return {};
    }
    float& s = params[offset_[l]];
    if (!ready_[l]) {
      auto init = try_lsq_init_activations(x, width_[l]);
      if (!init) return init.error();
      s = *init;
      ready_[l] = 1;
    }
    auto q = lsq_quantizer<>::try_make(width_[l], unsigned_codes, s);
    if (!q) return q.error();
    return try_fake_quantize(*q, x, y);
  }

  status backward(std::size_t l, std::span<const float> params, std::span<const float> x, std::span<const float> grad_y,
                  std::span<float> grad_x, std::span<float> grad_theta) const {
    if (offset_[l] == no_slot) {
      float_backward(operand::activations, x, grad_y, grad_x);
      return {};
    }
    if (!ready_[l])
      return status::failure(errc::invalid_argument, "layer %zu: backward before any forward of its activations", l);
    auto q = lsq_quantizer<>::try_make(width_[l], unsigned_codes, params[offset_[l]]);
    if (!q) return q.error();
    return q->try_backward(x, grad_y, grad_x, grad_theta.subspan(offset_[l], 1));
  }

  /// Keeps every initialised step positive after an optimizer step (LSQ has no projection; a
  /// step driven to <= 0 would make the quantizer undefined).
  void project(std::span<float> params) const noexcept {
    for (std::size_t l = 0; l < offset_.size(); ++l)
      if (ready_[l] && !(params[offset_[l]] >= min_step)) params[offset_[l]] = min_step;
  }
  static constexpr float min_step = 1e-8f;

 private:
  std::vector<int> width_;
  std::vector<std::size_t> offset_;
  std::vector<char> ready_;
};

/// Guo's size penalty λ·(Σ_l n_l b_l)/N with N = 32·Σ_l n_l (the fp32 size) or 1.
inline double guo_size_normalizer(const problem& p, bool normalize) {
  if (!normalize) return 1.0;
  double n = 0.0;
  for (const layer_info& l : p.layers()) n += static_cast<double>(l.weights);
  return n > 0.0 ? 32.0 * n : 1.0;
}

inline status check_guo_lambda(const char* who, double lambda) {
  if (lambda >= 0.0 && std::isfinite(lambda)) return {};
  return status::failure(errc::invalid_argument, "%s: lambda = %g: must be finite and >= 0", who, lambda);
}

}  // namespace detail

// ---- Reading A: softmax over candidate widths, expected-size penalty -------------------------------

/// @brief Hyperparameters of Guo et al.'s reading A (values are mpq's defaults: UNVERIFIED).
struct guo_softmax_options {
  /// λ of the expected-size penalty.
  double lambda = 0.1;
  /// Divide the size by the fp32 size 32·Σ n_l, so λ does not depend on the network's size.
  bool normalize = true;
  /// Every logit starts here (uniform mixtures).
  float initial_logit = 0.0f;
};

/// @brief Guo et al., reading A (algorithms.md §6, UNVERIFIED: the paper's method section is not
/// public). DARTS-style: each searched layer has logits α_l over its candidate weight widths,
/// π_l = softmax(α_l), and the weights become Ŵ_l = Σ_k π_{l,k} Q_{b_k}(W_l) (STE inside each Q;
/// the quantizers are detail::guo_weight_branch). Own term: the expected model size
///
///   R = λ·Σ_l n_l Σ_k π_{l,k} b_k / N,     ∂R/∂α_{l,i} = λ n_l π_{l,i} (b_i − E[b_l]) / N
///
/// (fixed layers add their constant size). Derivation: argmax. Activations keep the problem's one
/// width per layer (detail::fixed_width_activations). This is EdMIPS (§3) restricted to weights
/// with a size cost instead of BitOps.
class guo_softmax_training : public detail::training_base<guo_softmax_training> {
 public:
  using detail::training_base<guo_softmax_training>::try_backward;

  static constexpr const char* name() noexcept { return "guo_softmax"; }

  /// @brief Checked: each layer has exactly one activation width; weight widths any of 1..8, 16, 32.
  static expected<guo_softmax_training> try_make(const problem& p, const guo_softmax_options& o = {}) {
    constexpr const char* who = "guo_softmax";
    MPQ_TRY(detail::check_has_layers(p, who));
    MPQ_TRY(detail::check_guo_lambda(who, o.lambda));
    if (!std::isfinite(o.initial_logit))
      return status::failure(errc::not_finite, "guo_softmax: initial_logit = %g: must be finite",
                             static_cast<double>(o.initial_logit));
    guo_softmax_training s;
    s.problem_ = p;
    s.options_ = o;
    s.slots_ = detail::make_slots(p, operand::weights, true);
    MPQ_TRY(detail::check_slot_widths(p, s.slots_, operand::weights, who));
    const std::size_t L = p.layer_count();
    s.widths_.resize(L);
    std::vector<int> a;
    for (std::size_t l = 0; l < L; ++l) detail::candidate_widths(p, l, s.widths_[l], a);
    std::size_t n = 0;
    s.offset_.resize(s.slots_.count());
    for (std::size_t k = 0; k < s.slots_.count(); ++k) {
      s.offset_[k] = n;
      n += s.widths_[s.slots_.owner[k]].size();
    }
    const std::size_t logits = n;
    MPQ_TRY(s.activations_.assign(p, who, n));
    s.allocate_parameters(n, 0.0f);
    for (std::size_t i = 0; i < logits; ++i) s.params_[i] = o.initial_logit;
    s.normalizer_ = detail::guo_size_normalizer(p, o.normalize);
    return s;
  }
  explicit guo_softmax_training(const problem& p, const guo_softmax_options& o = {})
      : guo_softmax_training(try_make(p, o).value()) {}

  const guo_softmax_options& options() const noexcept { return options_; }

  /// @brief The layer's candidate weight widths, ascending.
  std::span<const int> weight_widths(std::size_t layer) const noexcept { return widths_[layer]; }
  bool is_searched(std::size_t layer) const noexcept { return slots_.of_layer[layer] != detail::no_slot; }
  /// @brief Offset of the layer's weight logits in parameters() (detail::no_slot when fixed).
  std::size_t parameter_offset(std::size_t layer) const noexcept {
    const std::size_t k = slots_.of_layer[layer];
    return k == detail::no_slot ? detail::no_slot : offset_[k];
  }
  /// @brief Offset of the layer's learned activation step (detail::no_slot for float activations).
  std::size_t activation_step_offset(std::size_t layer) const noexcept { return activations_.offset(layer); }

  /// @brief Checked: π = softmax of the layer's weight logits ({1} for a fixed layer).
  status try_mixing_weights(std::size_t layer, std::span<float> pi) const {
    MPQ_TRY(detail::check_layer_index("guo_softmax: mixing_weights", layer, layer_count()));
    if (pi.size() != widths_[layer].size())
      return status::failure(errc::shape_mismatch, "guo_softmax: mixing_weights of layer %zu: %zu outputs for %zu widths",
                             layer, pi.size(), widths_[layer].size());
    mixing(layer, pi);
    return {};
  }
  double expected_bits(std::size_t layer) const noexcept {
    std::array<float, candidate_bits_count> pi{};
    const std::size_t K = widths_[layer].size();
    mixing(layer, std::span<float>(pi.data(), K));
    double e = 0.0;
    for (std::size_t i = 0; i < K; ++i) e += static_cast<double>(pi[i]) * widths_[layer][i];
    return e;
  }
  bit_pair current_bits(std::size_t layer) const noexcept {
    return {widths_[layer][argmax_of(layer)], activations_.width(layer)};
  }
  /// @brief The expected weight size Σ_l n_l E[b_l] in bits (fixed layers at their width).
  double expected_size_bits() const noexcept {
    double s = 0.0;
    for (std::size_t l = 0; l < layer_count(); ++l) s += static_cast<double>(problem_.layer(l).weights) * expected_bits(l);
    return s;
  }

  // ---- forward / backward -------------------------------------------------------------------------

  /// @brief Checked: weights → the π-mixture of the per-width quantizers; activations → the
  /// layer's fixed-width quantizer (its step initialised on the first call).
  status try_forward(std::size_t layer, operand which, std::span<const float> x, std::span<float> y) {
    MPQ_TRY(detail::check_forward("guo_softmax: forward", layer, layer_count(), x.size(), y.size()));
    if (which == operand::activations) return activations_.forward(layer, params_, x, y);
    branch_set b;
    MPQ_TRY(branches(layer, x, b));
    mixture_forward(b.span(), b.pi_span(), x, y);
    return {};
  }

  /// @brief Checked: grad_x and the logit (or activation step) gradients added to grad_theta.
  status try_backward(std::size_t layer, operand which, std::span<const float> x, std::span<const float> grad_y,
                      std::span<float> grad_x, std::span<float> grad_theta) const {
    MPQ_TRY(detail::check_backward("guo_softmax: backward", layer, layer_count(), x.size(), grad_y.size(), grad_x.size(), grad_theta.size(),
                                   params_.size()));
    if (which == operand::activations) return activations_.backward(layer, params_, x, grad_y, grad_x, grad_theta);
    branch_set b;
    MPQ_TRY(branches(layer, x, b));
    std::array<double, candidate_bits_count> gpi{};
    const std::span<double> g(gpi.data(), b.count);
    mixture_backward(b.span(), b.pi_span(), x, grad_y, grad_x, g);
    const std::size_t off = parameter_offset(layer);
    if (off != detail::no_slot) softmax_backward(b.pi_span(), g, grad_theta.subspan(off, b.count));
    return {};
  }

  // ---- the size penalty --------------------------------------------------------------------------------

  double regularizer() const noexcept { return options_.lambda * expected_size_bits() / normalizer_; }

  status try_regularizer_gradient(std::span<float> grad_theta) const {
    MPQ_TRY(detail::check_parameter_buffer("guo_softmax: regularizer_gradient", grad_theta.size(), params_.size()));
    for (std::size_t l = 0; l < layer_count(); ++l) {
      if (!is_searched(l)) continue;
      const std::size_t K = widths_[l].size();
      std::array<float, candidate_bits_count> pi{};
      mixing(l, std::span<float>(pi.data(), K));
      const double e = expected_bits(l);
      const double c = options_.lambda * static_cast<double>(problem_.layer(l).weights) / normalizer_;
      float* g = grad_theta.data() + parameter_offset(l);
      for (std::size_t i = 0; i < K; ++i) g[i] += static_cast<float>(c * pi[i] * (widths_[l][i] - e));
    }
    return {};
  }

  status try_prepare_update() { return {}; }
  status try_finish_update() {
    MPQ_TRY(detail::check_finite_parameters("guo_softmax", params_, steps_));
    activations_.project(params_);
    ++steps_;
    return {};
  }

  /// @brief Checked: the argmax weight widths as a search_result; objective = Σ_l −log π_l(b_l).
  status try_derive(search_result& out) const {
    std::vector<bit_pair> bits(layer_count());
    std::vector<double> scores(problem_.candidate_count(), 0.0);
    for (std::size_t l = 0; l < layer_count(); ++l) {
      bits[l] = current_bits(l);
      if (!is_searched(l)) continue;
      const std::size_t K = widths_[l].size();
      std::array<float, candidate_bits_count> pi{};
      mixing(l, std::span<float>(pi.data(), K));
      const auto c = problem_.candidates(l);
      for (std::size_t j = 0; j < c.size(); ++j)
        for (std::size_t i = 0; i < K; ++i)
          if (widths_[l][i] == c[j].w) scores[problem_.candidate_offset(l) + j] = -std::log(static_cast<double>(pi[i]));
    }
    return detail::derive_result(problem_, bits, scores, name(), steps_, out);
  }

 private:
  guo_softmax_training() = default;

  using branch_set = mixture_branches;

  status branches(std::size_t layer, std::span<const float> w, branch_set& b) const {
    b.count = widths_[layer].size();
    mixing(layer, std::span<float>(b.pi.data(), b.count));
    auto m = try_moments(w);
    if (!m) return m.error();
    for (std::size_t i = 0; i < b.count; ++i) {
      auto q = detail::guo_weight_branch(widths_[layer][i], *m);
      if (!q) return q.error();
      b.q[i] = *q;
    }
    return {};
  }

  void mixing(std::size_t layer, std::span<float> pi) const noexcept {
    const std::size_t off = parameter_offset(layer);
    if (off == detail::no_slot) {
      pi[0] = 1.0f;
      return;
    }
    softmax(std::span<const float>(params_).subspan(off, widths_[layer].size()), pi);
  }
  std::size_t argmax_of(std::size_t layer) const noexcept {
    const std::size_t off = parameter_offset(layer);
    return off == detail::no_slot ? 0 : argmax(std::span<const float>(params_).subspan(off, widths_[layer].size()));
  }

  guo_softmax_options options_{};
  std::vector<std::vector<int>> widths_;
  detail::operand_slots slots_;
  std::vector<std::size_t> offset_;
  detail::fixed_width_activations activations_;
  double normalizer_ = 1.0;
};

// ---- Reading B: a real-valued bit width interpolating neighbouring quantizers ----------------------

/// @brief How reading B turns β into an integer width.
enum class guo_rounding : std::uint8_t { nearest, up };

/// @brief Hyperparameters of Guo et al.'s reading B (mpq's defaults: UNVERIFIED).
struct guo_interpolation_options {
  double lambda = 0.1;
  bool normalize = true;
  /// β's starting value; NaN (the default) starts every layer at its largest width.
  float initial_bits = std::numeric_limits<float>::quiet_NaN();
  guo_rounding rounding = guo_rounding::nearest;
};

/// @brief Guo et al., reading B (algorithms.md §6, UNVERIFIED): each searched layer has a real
/// bit width β_l in [b_min, b_max] (its candidate weight widths must be consecutive integers in
/// 1..8). With lo = ⌊β⌋ (held at b_max − 1 at the top) and t = β − lo,
///
///   Ŵ = (1 − t)·Q_lo(W) + t·Q_{lo+1}(W),   ∂Ŵ/∂β = Q_{lo+1}(W) − Q_lo(W),
///
/// which is algorithms.md's (⌈β⌉−β)Q_⌊β⌋ + (β−⌊β⌋)Q_⌈β⌉ with its 0/0 at integer β resolved to
/// Q_β. Own term R = λ Σ_l n_l β_l / N (fixed layers add their constant). β is projected back to
/// [b_min, b_max] after each step. Derivation: round(β) (or ⌈β⌉).
class guo_interpolation_training : public detail::training_base<guo_interpolation_training> {
 public:
  using detail::training_base<guo_interpolation_training>::try_backward;

  static constexpr const char* name() noexcept { return "guo_interpolation"; }

  static expected<guo_interpolation_training> try_make(const problem& p, const guo_interpolation_options& o = {}) {
    constexpr const char* who = "guo_interpolation";
    MPQ_TRY(detail::check_has_layers(p, who));
    MPQ_TRY(detail::check_guo_lambda(who, o.lambda));
    guo_interpolation_training s;
    s.problem_ = p;
    s.options_ = o;
    s.slots_ = detail::make_slots(p, operand::weights, true);
    MPQ_TRY(detail::check_slot_widths(p, s.slots_, operand::weights, who));
    const std::size_t L = p.layer_count();
    s.lo_.assign(L, 0);
    s.hi_.assign(L, 0);
    std::vector<int> w, a;
    for (std::size_t l = 0; l < L; ++l) {
      detail::candidate_widths(p, l, w, a);
      s.lo_[l] = w.front();
      s.hi_[l] = w.back();
      if (p.is_fixed(l)) continue;
      if (w.back() > 8 || w.back() - w.front() + 1 != static_cast<int>(w.size()))
        return status::failure(errc::invalid_argument,
                               "guo_interpolation: layer %zu '%s': weight widths %d..%d with %zu values: a real "
                               "bit width needs consecutive integer widths in 1..8",
                               l, p.layer(l).name.c_str(), w.front(), w.back(), w.size());
    }
    std::size_t n = s.slots_.count();
    MPQ_TRY(s.activations_.assign(p, who, n));
    s.allocate_parameters(n, 0.0f);
    for (std::size_t k = 0; k < s.slots_.count(); ++k) {
      const std::size_t owner = s.slots_.owner[k];
      const float init = std::isnan(o.initial_bits) ? static_cast<float>(s.hi_[owner]) : o.initial_bits;
      if (!std::isfinite(init))
        return status::failure(errc::not_finite, "guo_interpolation: initial_bits = %g: must be finite (or NaN)",
                               static_cast<double>(init));
      s.params_[k] = s.clamp(owner, init);
    }
    s.normalizer_ = detail::guo_size_normalizer(p, o.normalize);
    return s;
  }
  explicit guo_interpolation_training(const problem& p, const guo_interpolation_options& o = {})
      : guo_interpolation_training(try_make(p, o).value()) {}

  const guo_interpolation_options& options() const noexcept { return options_; }
  bool is_searched(std::size_t layer) const noexcept { return slots_.of_layer[layer] != detail::no_slot; }
  /// @brief Offset of the layer's β in parameters() (detail::no_slot when fixed).
  std::size_t parameter_offset(std::size_t layer) const noexcept { return slots_.of_layer[layer]; }
  std::size_t activation_step_offset(std::size_t layer) const noexcept { return activations_.offset(layer); }
  /// @brief β of a searched layer; the fixed width of a fixed one.
  float real_bits(std::size_t layer) const noexcept {
    return is_searched(layer) ? params_[parameter_offset(layer)] : static_cast<float>(lo_[layer]);
  }
  bit_pair current_bits(std::size_t layer) const noexcept {
    if (!is_searched(layer)) return problem_.candidates(layer)[0];
    const float b = real_bits(layer);
    const float r = options_.rounding == guo_rounding::up ? std::ceil(b) : std::floor(b + 0.5f);
    return {static_cast<int>(clamp(layer, r)), activations_.width(layer)};
  }
  /// @brief Σ_l n_l β_l in bits (fixed layers at their width).
  double real_size_bits() const noexcept {
    double s = 0.0;
    for (std::size_t l = 0; l < layer_count(); ++l) s += static_cast<double>(problem_.layer(l).weights) * real_bits(l);
    return s;
  }

  status try_forward(std::size_t layer, operand which, std::span<const float> x, std::span<float> y) {
    MPQ_TRY(detail::check_forward("guo_interpolation: forward", layer, layer_count(), x.size(), y.size()));
    if (which == operand::activations) return activations_.forward(layer, params_, x, y);
    pair_set b;
    MPQ_TRY(branches(layer, x, b));
    mixture_forward(b.q, b.pi, x, y);
    return {};
  }

  status try_backward(std::size_t layer, operand which, std::span<const float> x, std::span<const float> grad_y,
                      std::span<float> grad_x, std::span<float> grad_theta) const {
    MPQ_TRY(detail::check_backward("guo_interpolation: backward", layer, layer_count(), x.size(), grad_y.size(), grad_x.size(), grad_theta.size(),
                                   params_.size()));
    if (which == operand::activations) return activations_.backward(layer, params_, x, grad_y, grad_x, grad_theta);
    pair_set b;
    MPQ_TRY(branches(layer, x, b));
    std::array<double, 2> g{};
    mixture_backward(b.q, b.pi, x, grad_y, grad_x, g);
    if (is_searched(layer) && b.interpolating) grad_theta[parameter_offset(layer)] += static_cast<float>(g[1] - g[0]);
    return {};
  }

  double regularizer() const noexcept { return options_.lambda * real_size_bits() / normalizer_; }
  status try_regularizer_gradient(std::span<float> grad_theta) const {
    MPQ_TRY(detail::check_parameter_buffer("guo_interpolation: regularizer_gradient", grad_theta.size(), params_.size()));
    for (std::size_t l = 0; l < layer_count(); ++l)
      if (is_searched(l))
        grad_theta[parameter_offset(l)] +=
            static_cast<float>(options_.lambda * static_cast<double>(problem_.layer(l).weights) / normalizer_);
    return {};
  }

  status try_prepare_update() { return {}; }
  /// @brief Projects every β back into [b_min, b_max] and counts the step.
  status try_finish_update() {
    MPQ_TRY(detail::check_finite_parameters("guo_interpolation", params_, steps_));
    for (std::size_t k = 0; k < slots_.count(); ++k) params_[k] = clamp(slots_.owner[k], params_[k]);
    activations_.project(params_);
    ++steps_;
    return {};
  }

  /// @brief Checked: round(β) (or ⌈β⌉) per layer; objective = Σ_l n_l |b_l − β_l| (how far the
  /// rounding moved the learned size).
  status try_derive(search_result& out) const {
    std::vector<bit_pair> bits(layer_count());
    std::vector<double> scores(problem_.candidate_count(), 0.0);
    for (std::size_t l = 0; l < layer_count(); ++l) {
      bits[l] = current_bits(l);
      const auto c = problem_.candidates(l);
      for (std::size_t j = 0; j < c.size(); ++j)
        scores[problem_.candidate_offset(l) + j] =
            static_cast<double>(problem_.layer(l).weights) * std::fabs(c[j].w - static_cast<double>(real_bits(l)));
    }
    return detail::derive_result(problem_, bits, scores, name(), steps_, out);
  }

 private:
  guo_interpolation_training() = default;

  struct pair_set {
    std::array<quantizer_branch, 2> q{};
    std::array<float, 2> pi{};
    bool interpolating = false;
  };

  float clamp(std::size_t layer, float b) const noexcept {
    const auto lo = static_cast<float>(lo_[layer]), hi = static_cast<float>(hi_[layer]);
    return b < lo ? lo : (b > hi ? hi : b);
  }

  status branches(std::size_t layer, std::span<const float> w, pair_set& b) const {
    auto m = try_moments(w);
    if (!m) return m.error();
    int lo = lo_[layer];
    float t = 0.0f;
    if (is_searched(layer) && hi_[layer] > lo_[layer]) {
      const float beta = real_bits(layer);
      lo = static_cast<int>(std::floor(beta));
      lo = lo >= hi_[layer] ? hi_[layer] - 1 : lo;
      t = beta - static_cast<float>(lo);
      b.interpolating = true;
    }
    auto q0 = detail::guo_weight_branch(lo, *m);
    if (!q0) return q0.error();
    b.q[0] = *q0;
    b.pi = {1.0f - t, t};
    if (b.interpolating) {
      auto q1 = detail::guo_weight_branch(lo + 1, *m);
      if (!q1) return q1.error();
      b.q[1] = *q1;
    }
    return {};
  }

  guo_interpolation_options options_{};
  detail::operand_slots slots_;
  std::vector<int> lo_, hi_;
  detail::fixed_width_activations activations_;
  double normalizer_ = 1.0;
};

}  // namespace mpq
