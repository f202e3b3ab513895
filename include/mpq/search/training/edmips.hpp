// EdMIPS (Cai & Vasconcelos, CVPR 2020): per-layer softmax over candidate weight and activation bits,
// the shared-weight composite layer, the expected-BitOps complexity loss and winner-take-all bits.
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
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"
#include "mpq/search/seeded_random.hpp"
#include "mpq/search/training/categorical.hpp"
#include "mpq/search/training/quantizer_branch.hpp"
#include "mpq/search/training/training_base.hpp"

namespace mpq {

/// @brief How EdMIPS turns the learned distributions into bits.
enum class edmips_derivation : std::uint8_t {
  argmax,  ///< winner-take-all per layer and operand (EdMIPS's fetch_best_arch) [CODE]
  sample,  ///< one draw from each learned categorical (discussed in the paper) [UNVERIFIED]
};

/// @brief EdMIPS's hyperparameters (algorithms.md §3c; defaults from its ResNet-18 search).
struct edmips_options {
  /// η, the complexity decay ("--cd"): L = CE + η·C. 3.35e-3 is EdMIPS's ResNet-18 value; tune it
  /// to land on a budget ("tune --cd a little", EdMIPS README).
  double eta = 3.35e-3;
  /// Every logit starts here (0.01 in EdMIPS), so the first mixtures are uniform.
  float initial_logit = 0.01f;
  /// The Gaussian weight quantizer's step Δ = c_b·std(W) for b = 1..8 (index b - 1). b = 1..4 are
  /// EdMIPS's `gaussian_steps` [CODE]; b = 5..8 are mpq's extension [DERIVED]: the step minimising
  /// E[(Q(x) - x)^2] for x ~ N(0, 1), found numerically (the same search gives 1.596, 0.996, 0.586,
  /// 0.335 for b = 1..4). A width whose entry is not finite and > 0 is rejected at construction.
  std::array<double, 8> weight_step_factors{edmips_gaussian_step_factors[0], edmips_gaussian_step_factors[1],
                                            edmips_gaussian_step_factors[2], edmips_gaussian_step_factors[3],
                                            0.1881, 0.1041, 0.0569, 0.0308};
  /// HWGQ's fixed step for b = 1..8 (inputs are batch-normalised). b = 1..4 are EdMIPS's
  /// `hwgq_steps` [CODE]; b = 5..8 are mpq's extension [DERIVED]: the MSE-optimal uniform step for
  /// the positive half of N(0, 1) (that criterion gives 0.353 and 0.193 at 3 and 4 bits where HWGQ
  /// uses 0.3217 and 0.185, so the extension is close to, not exactly, HWGQ's rule).
  std::array<double, 8> activation_steps{edmips_hwgq_steps[0], edmips_hwgq_steps[1], edmips_hwgq_steps[2],
                                         edmips_hwgq_steps[3], 0.1055, 0.0573, 0.0309, 0.0165};
  edmips_derivation derivation = edmips_derivation::argmax;
  /// Seed of the draws when derivation == sample.
  std::uint64_t sample_seed = 0;
};

/// @brief EdMIPS as a training strategy (algorithms.md §3).
///
/// Each searched layer l has weight logits α_l over its candidate weight widths and activation
/// logits β_l over its candidate activation widths (separate choices: a layer's candidates must be
/// the full grid), π^w = softmax(α), π^a = softmax(β). The forward pass replaces
///
///   the weights W by  Ŵ = Σ_i π^w_i Q^{b_i}_gauss(W)    (one shared W for every branch; σ = std(W))
///   the input x by    x̂ = Σ_j π^a_j Q^{b_j}_hwgq(x)     (HWGQ is also the ReLU)
///
/// and the host runs ONE convolution/product of x̂ with Ŵ: by bilinearity it equals the sum of all
/// |B_w|·|B_a| branch products weighted by π^w_i π^a_j (the composite convolution). Widths 16/32 are
/// the float branch (identity for weights, ReLU for activations).
///
/// Own term (the Lagrangian of the BitOps budget): R = η·C with
///   C = (1/f_1) Σ_l f_l E[b^w_l] E[b^a_l],   f_l = MAC_l,  f_1 = MACs of the first searched layer,
///   ∂C/∂α_{l,i} = (f_l/f_1) E[b^a_l] π^w_{l,i} (b^w_i − E[b^w_l])  (and symmetrically for β).
/// Fixed layers (one candidate) have no logits and are left out of C (EdMIPS keeps the first and
/// last layer outside the search). Tied layers share their logits, so they always agree.
/// Derivation: argmax of α and of β per layer (or one sample of each).
class edmips_training : public detail::training_base<edmips_training> {
 public:
  using detail::training_base<edmips_training>::try_backward;

  static constexpr const char* name() noexcept { return "edmips"; }

  /// @brief Checked: a strategy for problem `p` (every searched layer's candidates a full grid;
  /// every quantized width has a step in `o`; η finite and >= 0; the first searched layer has
  /// MACs > 0). The problem's constraints are what try_derive() checks the bits against.
  static expected<edmips_training> try_make(const problem& p, const edmips_options& o = {}) {
    constexpr const char* who = "edmips";
    MPQ_TRY(detail::check_has_layers(p, who));
    if (!(o.eta >= 0.0) || !std::isfinite(o.eta))
      return status::failure(errc::invalid_argument, "edmips: eta = %g: must be finite and >= 0", o.eta);
    if (!std::isfinite(o.initial_logit))
      return status::failure(errc::not_finite, "edmips: initial_logit = %g: must be finite",
                             static_cast<double>(o.initial_logit));
    edmips_training s;
    s.problem_ = p;
    s.options_ = o;
    const std::size_t L = p.layer_count();
    MPQ_TRY(detail::read_grid_widths(p, who, s.widths_));
    for (std::size_t l = 0; l < L; ++l) {
      for (int which = 0; which < 2; ++which)
        for (int b : s.widths_[which][l]) {
          if (b >= 16) continue;
          const double step = which == 0 ? o.weight_step_factors[static_cast<std::size_t>(b - 1)]
                                         : o.activation_steps[static_cast<std::size_t>(b - 1)];
          if (!(step > 0.0) || !std::isfinite(step))
            return status::failure(errc::invalid_argument,
                                   "edmips: layer %zu '%s' offers %s width %d, which has no step (%s[%d] = %g): "
                                   "give a finite step > 0 in edmips_options",
                                   l, p.layer(l).name.c_str(), which == 0 ? "weight" : "activation", b,
                                   which == 0 ? "weight_step_factors" : "activation_steps", b - 1, step);
        }
    }
    s.slots_[0] = detail::make_slots(p, operand::weights, true);
    s.slots_[1] = detail::make_slots(p, operand::activations, true);
    MPQ_TRY(detail::check_slot_widths(p, s.slots_[0], operand::weights, who));
    MPQ_TRY(detail::check_slot_widths(p, s.slots_[1], operand::activations, who));
    std::size_t n = 0;
    for (int which = 0; which < 2; ++which) {
      s.offset_[which].resize(s.slots_[which].count());
      for (std::size_t k = 0; k < s.slots_[which].count(); ++k) {
        s.offset_[which][k] = n;
        n += s.widths_[which][s.slots_[which].owner[k]].size();
      }
    }
    s.allocate_parameters(n, o.initial_logit);
    s.f1_ = 0.0;
    for (std::size_t l = 0; l < L && s.f1_ == 0.0; ++l)
      if (!p.is_fixed(l)) {
        if (p.layer(l).macs == 0)
          return status::failure(errc::invalid_argument,
                                 "edmips: layer %zu '%s', the first searched layer, has 0 MACs: the complexity is "
                                 "normalised by its MACs",
                                 l, p.layer(l).name.c_str());
        s.f1_ = static_cast<double>(p.layer(l).macs);
      }
    return s;
  }
  explicit edmips_training(const problem& p, const edmips_options& o = {}) : edmips_training(try_make(p, o).value()) {}

  const edmips_options& options() const noexcept { return options_; }
  /// @brief Checked: a new η (e.g. a schedule); finite and >= 0.
  status try_set_eta(double eta) {
    if (!(eta >= 0.0) || !std::isfinite(eta))
      return status::failure(errc::invalid_argument, "edmips: eta = %g: must be finite and >= 0", eta);
    options_.eta = eta;
    return {};
  }

  // ---- per layer -------------------------------------------------------------------------------

  /// @brief The candidate widths of layer `layer`'s weights or activations, ascending.
  std::span<const int> widths(std::size_t layer, operand which) const noexcept { return widths_[index(which)][layer]; }
  /// @brief Whether the layer's operand is searched (has logits), i.e. the layer is not fixed.
  bool is_searched(std::size_t layer) const noexcept { return slots_[0].of_layer[layer] != detail::no_slot; }
  /// @brief The logits of the layer's operand (empty for a fixed layer); a view of parameters().
  std::span<const float> logits(std::size_t layer, operand which) const noexcept {
    const std::size_t slot = slots_[index(which)].of_layer[layer];
    if (slot == detail::no_slot) return {};
    return std::span<const float>(params_).subspan(offset_[index(which)][slot], widths(layer, which).size());
  }
  /// @brief Offset of the layer operand's logits in parameters() (detail::no_slot when fixed).
  std::size_t parameter_offset(std::size_t layer, operand which) const noexcept {
    const std::size_t slot = slots_[index(which)].of_layer[layer];
    return slot == detail::no_slot ? detail::no_slot : offset_[index(which)][slot];
  }

  /// @brief Checked: π = softmax of the layer operand's logits, one per width ({1} when fixed).
  status try_mixing_weights(std::size_t layer, operand which, std::span<float> pi) const {
    MPQ_TRY(detail::check_layer_index("edmips: mixing_weights", layer, layer_count()));
    const std::size_t K = widths(layer, which).size();
    if (pi.size() != K)
      return status::failure(errc::shape_mismatch, "edmips: mixing_weights of layer %zu: %zu outputs for %zu widths",
                             layer, pi.size(), K);
    mixing(layer, which, pi);
    return {};
  }

  /// @brief E[b] = Σ_i π_i b_i of the layer's operand.
  double expected_bits(std::size_t layer, operand which) const noexcept {
    std::array<float, candidate_bits_count> pi{};
    const auto w = widths(layer, which);
    mixing(layer, which, std::span<float>(pi.data(), w.size()));
    double e = 0.0;
    for (std::size_t i = 0; i < w.size(); ++i) e += static_cast<double>(pi[i]) * w[i];
    return e;
  }

  /// @brief The argmax bits of layer `layer` (what a derivation by argmax would give now).
  bit_pair current_bits(std::size_t layer) const noexcept {
    return {widths(layer, operand::weights)[argmax_of(layer, operand::weights)],
            widths(layer, operand::activations)[argmax_of(layer, operand::activations)]};
  }

  // ---- forward / backward ------------------------------------------------------------------------

  /// @brief Checked: y = the layer's mixture of x (weights: Gaussian quantizers with σ = std(x),
  /// unbiased; activations: HWGQ). x must be non-empty and finite for weights; |y| = |x|.
  status try_forward(std::size_t layer, operand which, std::span<const float> x, std::span<float> y) const {
    MPQ_TRY(detail::check_forward("edmips: forward", layer, layer_count(), x.size(), y.size()));
    branch_set b;
    MPQ_TRY(branches(layer, which, x, b));
    mixture_forward(b.span(), b.pi_span(), x, y);
    return {};
  }

  /// @brief Checked: the mixture's backward. grad_x = ∂L/∂x (identity STE for weights, HWGQ's
  /// clamp mask for activations; skipped when empty), and ∂L/∂logits added to grad_theta (a
  /// buffer of parameter_count() values) through the softmax Jacobian. σ is recomputed from x and
  /// treated as a constant, as in EdMIPS.
  status try_backward(std::size_t layer, operand which, std::span<const float> x, std::span<const float> grad_y,
                      std::span<float> grad_x, std::span<float> grad_theta) const {
    MPQ_TRY(detail::check_backward("edmips: backward", layer, layer_count(), x.size(), grad_y.size(), grad_x.size(), grad_theta.size(),
                                   params_.size()));
    branch_set b;
    MPQ_TRY(branches(layer, which, x, b));
    std::array<double, candidate_bits_count> gpi{};
    const std::span<double> gpi_span(gpi.data(), b.count);
    mixture_backward(b.span(), b.pi_span(), x, grad_y, grad_x, gpi_span);
    const std::size_t off = parameter_offset(layer, which);
    if (off != detail::no_slot) softmax_backward(b.pi_span(), gpi_span, grad_theta.subspan(off, b.count));
    return {};
  }

  // ---- the complexity loss -------------------------------------------------------------------------

  /// @brief C = (1/f_1) Σ_{searched l} MAC_l E[b^w_l] E[b^a_l] (EdMIPS's complexity_loss).
  double complexity() const noexcept {
    double c = 0.0;
    for (std::size_t l = 0; l < layer_count(); ++l)
      if (is_searched(l))
        c += static_cast<double>(problem_.layer(l).macs) * expected_bits(l, operand::weights) *
             expected_bits(l, operand::activations);
    return c / f1_;
  }
  /// @brief The own term R = η·C.
  double regularizer() const noexcept { return options_.eta * complexity(); }

  /// @brief Checked: grad_theta += ∂(η·C)/∂θ (analytic softmax gradient, algorithms.md §3b).
  status try_regularizer_gradient(std::span<float> grad_theta) const {
    MPQ_TRY(detail::check_parameter_buffer("edmips: regularizer_gradient", grad_theta.size(), params_.size()));
    for (std::size_t l = 0; l < layer_count(); ++l) {
      if (!is_searched(l)) continue;
      const double c = options_.eta * static_cast<double>(problem_.layer(l).macs) / f1_;
      const double e[2] = {expected_bits(l, operand::weights), expected_bits(l, operand::activations)};
      for (int which = 0; which < 2; ++which) {
        const operand op = which == 0 ? operand::weights : operand::activations;
        const auto w = widths(l, op);
        std::array<float, candidate_bits_count> pi{};
        mixing(l, op, std::span<float>(pi.data(), w.size()));
        float* g = grad_theta.data() + parameter_offset(l, op);
        for (std::size_t i = 0; i < w.size(); ++i)
          g[i] += static_cast<float>(c * e[1 - which] * pi[i] * (w[i] - e[which]));
      }
    }
    return {};
  }

  /// @brief The network's expected BitOps Σ_l MAC_l E[b^w_l] E[b^a_l] over every layer (fixed
  /// layers at their bits), in the bitops cost model's unit: compare it with a BitOps budget.
  double expected_bitops() const noexcept {
    double c = 0.0;
    for (std::size_t l = 0; l < layer_count(); ++l)
      c += static_cast<double>(problem_.layer(l).macs) * expected_bits(l, operand::weights) *
           expected_bits(l, operand::activations);
    return c;
  }

  // ---- hooks ---------------------------------------------------------------------------------------

  status try_prepare_update() { return {}; }
  /// @brief Counts the step; a non-finite logit (a diverged run) is an error.
  status try_finish_update() {
    MPQ_TRY(detail::check_finite_parameters("edmips", params_, steps_));
    ++steps_;
    return {};
  }

  /// @brief Checked: the derived bits (argmax, or one sample per tied group) as a search_result
  /// against the problem's budgets; objective = Σ_l −log(π^w(b_w) π^a(b_a)). An allocation that
  /// breaks a budget is errc::infeasible (raise η) and leaves `out` unchanged.
  status try_derive(search_result& out) const {
    const std::size_t L = layer_count();
    std::vector<bit_pair> bits(L);
    std::uint64_t state = options_.sample_seed;
    std::array<std::vector<std::size_t>, 2> chosen;  // per slot
    for (int which = 0; which < 2; ++which) {
      const operand op = which == 0 ? operand::weights : operand::activations;
      chosen[which].resize(slots_[which].count());
      for (std::size_t k = 0; k < slots_[which].count(); ++k) {
        const std::size_t owner = slots_[which].owner[k];
        if (options_.derivation == edmips_derivation::argmax) {
          chosen[which][k] = argmax_of(owner, op);
        } else {
          std::array<float, candidate_bits_count> pi{};
          const std::size_t K = widths(owner, op).size();
          mixing(owner, op, std::span<float>(pi.data(), K));
          chosen[which][k] = sample_categorical(std::span<const float>(pi.data(), K), state);
        }
      }
    }
    std::vector<double> scores(problem_.candidate_count(), 0.0);
    for (std::size_t l = 0; l < L; ++l) {
      if (!is_searched(l)) {
        bits[l] = problem_.candidates(l)[0];
        continue;
      }
      bits[l] = {widths(l, operand::weights)[chosen[0][slots_[0].of_layer[l]]],
                 widths(l, operand::activations)[chosen[1][slots_[1].of_layer[l]]]};
      std::array<float, candidate_bits_count> pw{}, pa{};
      mixing(l, operand::weights, std::span<float>(pw.data(), widths(l, operand::weights).size()));
      mixing(l, operand::activations, std::span<float>(pa.data(), widths(l, operand::activations).size()));
      const auto cands = problem_.candidates(l);
      for (std::size_t j = 0; j < cands.size(); ++j)
        scores[problem_.candidate_offset(l) + j] =
            -std::log(static_cast<double>(pw[width_index(l, operand::weights, cands[j].w)])) -
            std::log(static_cast<double>(pa[width_index(l, operand::activations, cands[j].a)]));
    }
    return detail::derive_result(problem_, bits, scores, name(), steps_, out);
  }

 private:
  edmips_training() = default;

  static constexpr std::size_t index(operand which) noexcept { return which == operand::weights ? 0 : 1; }

  using branch_set = mixture_branches;

  status branches(std::size_t layer, operand which, std::span<const float> x, branch_set& b) const {
    const auto w = widths(layer, which);
    b.count = w.size();
    mixing(layer, which, std::span<float>(b.pi.data(), b.count));
    double sigma = 0.0;
    if (which == operand::weights) {
      bool any_quantized = false;
      for (int bits : w) any_quantized = any_quantized || bits < 16;
      if (any_quantized) {
        auto m = try_moments(x);
        if (!m) return m.error();
        sigma = m->stddev;
      }
    }
    for (std::size_t i = 0; i < b.count; ++i) {
      const int bits = w[i];
      if (bits >= 16) {
        b.q[i] = which == operand::weights ? quantizer_branch::identity() : quantizer_branch::relu();
      } else if (which == operand::weights) {
        auto q = gaussian_quantizer<>::try_with_step(
            bits, static_cast<float>(options_.weight_step_factors[static_cast<std::size_t>(bits - 1)] * sigma));
        if (!q) return q.error();
        b.q[i] = quantizer_branch::of(*q);
      } else {
        auto q = hwgq_quantizer<>::try_with_step(
            bits, static_cast<float>(options_.activation_steps[static_cast<std::size_t>(bits - 1)]));
        if (!q) return q.error();
        b.q[i] = quantizer_branch::of(*q);
      }
    }
    return {};
  }

  void mixing(std::size_t layer, operand which, std::span<float> pi) const noexcept {
    const auto lg = logits(layer, which);
    if (lg.empty()) {
      pi[0] = 1.0f;
      return;
    }
    softmax(lg, pi);
  }

  std::size_t argmax_of(std::size_t layer, operand which) const noexcept {
    const auto lg = logits(layer, which);
    return lg.empty() ? 0 : argmax(lg);
  }

  std::size_t width_index(std::size_t layer, operand which, int bits) const noexcept {
    const auto w = widths(layer, which);
    for (std::size_t i = 0; i < w.size(); ++i)
      if (w[i] == bits) return i;
    return 0;
  }

  edmips_options options_{};
  detail::layer_widths widths_;  // [weights/activations][layer]
  std::array<detail::operand_slots, 2> slots_;
  std::array<std::vector<std::size_t>, 2> offset_;       // per slot: offset in params_
  double f1_ = 1.0;
};

}  // namespace mpq
