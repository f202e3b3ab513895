// LIMPQ's indicator training (Tang et al., ECCV 2022, §4a): per-bit LSQ step sizes trained jointly
// (every uniform width plus one random mixed policy per batch), then the indicators and the ILP.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/quant/lsq.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/search/ilp.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"
#include "mpq/search/seeded_random.hpp"
#include "mpq/search/sensitivity_limpq.hpp"
#include "mpq/search/training/training_base.hpp"

namespace mpq {

/// @brief LIMPQ's indicator-training options (algorithms.md §4a-c, [CODE] defaults).
struct limpq_options {
  /// Seed of the random mixed policy drawn once per batch.
  std::uint64_t seed = 0;
  /// Every gradient element is clipped to [-gradient_clip, gradient_clip] before the step (1 in
  /// LIMPQ's process.py; it clips the network's gradients too: do that in the host).
  float gradient_clip = 1.0f;
  /// The pretraining forward clamps s to [1e-5, 1].
  lsq_options weight_lsq = lsq_options::limpq_pretraining();
  lsq_options activation_lsq = lsq_options::limpq_pretraining();
  /// α of the search objective I^a + α·I^w (LIMPQ's --alpha).
  double alpha = 2.0;
  /// Apply LIMPQ's clean-up of non-monotone indicators before the ILP.
  bool clean_up = true;
  /// The exact solver's limits.
  ilp_options ilp{};
};

/// @brief LIMPQ's joint indicator training as a training strategy (algorithms.md §4a).
///
/// Every searched layer has one LSQ step per candidate width b for its weights (signed) and for its
/// input activations (unsigned), s^w_l[b] and s^a_l[b]; all searched layers must offer the same
/// widths B for both operands (LIMPQ: 6, 5, 4, 3, 2), each >= 2. Each batch runs pass_count() =
/// |B| + 1 forward/backward passes that ACCUMULATE gradients before ONE optimizer step:
///
///   pass k < |B|:  every searched layer at (B_k, B_k)            (B in descending order)
///   pass |B|:      a random mixed policy: each layer (tie group) draws b uniformly from B, (b, b)
///
/// try_begin_pass(k) sets a pass's policy; current_bits(l) says the layer's bits (a host with
/// LIMPQ's switchable batch norm selects the copy of current_bit_index(l)). Fixed layers are
/// outside the search and stay float during indicator training (identity / ReLU), as LIMPQ leaves
/// the first conv and the classifier unquantized. Steps are initialised from the first tensor
/// each quantizes (weights: all widths at once). try_prepare_update clips the step gradients.
/// After training, the indicators I^w_l(b) = s^w_l[b], I^a_l(b) = s^a_l[b] (raw learned steps)
/// are cleaned up and the ILP min Σ_l I^a_l(b_a) + α·I^w_l(b_w) under the problem's budgets gives
/// the allocation (try_derive). No own loss term.
class limpq_training : public detail::training_base<limpq_training> {
 public:
  using detail::training_base<limpq_training>::try_backward;

  static constexpr const char* name() noexcept { return "limpq"; }

  static expected<limpq_training> try_make(const problem& p, const limpq_options& o = {}) {
    constexpr const char* who = "limpq";
    MPQ_TRY(detail::check_has_layers(p, who));
    if (!(o.gradient_clip > 0.0f) || !std::isfinite(o.gradient_clip))
      return status::failure(errc::invalid_argument, "limpq: gradient_clip = %g: must be finite and > 0",
                             static_cast<double>(o.gradient_clip));
    if (!(o.alpha >= 0.0) || !std::isfinite(o.alpha))
      return status::failure(errc::invalid_argument, "limpq: alpha = %g: must be finite and >= 0", o.alpha);
    limpq_training s;
    s.problem_ = p;
    s.options_ = o;
    const std::size_t L = p.layer_count();
    std::vector<int> w, a;
    s.slot_.assign(L, detail::no_slot);
    std::size_t slots = 0;
    for (std::size_t l = 0; l < L; ++l) {
      if (p.is_fixed(l)) continue;
      MPQ_TRY(detail::check_full_grid(p, l, who));
      detail::candidate_widths(p, l, w, a);
      if (w != a)
        return status::failure(errc::invalid_argument,
                               "limpq: layer %zu '%s' offers different weight and activation widths: LIMPQ trains "
                               "each width for both operands",
                               l, p.layer(l).name.c_str());
      if (s.widths_.empty()) {
        s.widths_.assign(w.rbegin(), w.rend());  // descending, LIMPQ's order
      } else if (!std::equal(w.rbegin(), w.rend(), s.widths_.begin(), s.widths_.end())) {
        return status::failure(errc::invalid_argument,
                               "limpq: layer %zu '%s' offers other widths than the first searched layer: every "
                               "uniform pass needs each width in every layer",
                               l, p.layer(l).name.c_str());
      }
      if (w.front() < 2 || w.back() > 8)
        return status::failure(errc::invalid_argument,
                               "limpq: layer %zu '%s': widths %d..%d: indicator training needs 2..8 bits (signed LSQ "
                               "weights need >= 2)",
                               l, p.layer(l).name.c_str(), w.front(), w.back());
      s.slot_[l] = slots++;
    }
    if (slots == 0) return status::failure(errc::invalid_argument, "limpq: every layer is fixed: nothing to search");
    s.allocate_parameters(2 * s.widths_.size() * slots, 0.0f);
    s.ready_.assign(s.params_.size(), 0);
    s.pass_index_.assign(L, 0);
    s.rng_ = o.seed;
    return s;
  }
  explicit limpq_training(const problem& p, const limpq_options& o = {}) : limpq_training(try_make(p, o).value()) {}

  const limpq_options& options() const noexcept { return options_; }
  /// @brief The candidate widths B, descending (the order of the uniform passes).
  std::span<const int> widths() const noexcept { return widths_; }
  bool is_searched(std::size_t layer) const noexcept { return slot_[layer] != detail::no_slot; }

  /// @brief |B| + 1: the uniform passes and the random mixed one.
  std::size_t pass_count() const noexcept { return widths_.size() + 1; }

  /// @brief Checked: set the policy of pass k (k < pass_count()). Pass |B| draws a new random
  /// policy (tied layers draw together).
  status try_begin_pass(std::size_t k) {
    if (k >= pass_count())
      return status::failure(errc::out_of_range, "limpq: pass %zu of %zu", k, pass_count());
    const std::size_t L = layer_count();
    for (std::size_t l = 0; l < L; ++l) {
      if (!is_searched(l)) continue;
      pass_index_[l] = k < widths_.size() ? k
                                          : static_cast<std::size_t>(detail::uniform_open01(rng_) *
                                                                     static_cast<double>(widths_.size()));
      if (pass_index_[l] >= widths_.size()) pass_index_[l] = widths_.size() - 1;
    }
    if (k == widths_.size())
      for (std::size_t round = 0; round < L; ++round)  // ties are transitive: propagate to a fixed point
        for (const layer_tie& t : problem_.ties()) pass_index_[t.second] = pass_index_[t.first];
    return {};
  }

  /// @brief The bits of the current pass ((b, b) for searched layers; fixed layers their pair).
  bit_pair current_bits(std::size_t layer) const noexcept {
    if (!is_searched(layer)) return problem_.candidates(layer)[0];
    const int b = widths_[pass_index_[layer]];
    return {b, b};
  }
  /// @brief Index into widths() of the layer's current bits (for switchable batch norm).
  std::size_t current_bit_index(std::size_t layer) const noexcept { return pass_index_[layer]; }

  /// @brief Offset in parameters() of s^w_l[b] (weights) or s^a_l[b] (activations);
  /// detail::no_slot for a fixed layer or a width that is not a candidate.
  std::size_t parameter_offset(std::size_t layer, operand which, int bits) const noexcept {
    if (!is_searched(layer)) return detail::no_slot;
    for (std::size_t i = 0; i < widths_.size(); ++i)
      if (widths_[i] == bits)
        return slot_[layer] * 2 * widths_.size() + (which == operand::weights ? 0 : widths_.size()) + i;
    return detail::no_slot;
  }
  /// @brief The learned step s_l[b] of the operand (0 until initialised).
  float step(std::size_t layer, operand which, int bits) const noexcept {
    const std::size_t off = parameter_offset(layer, which, bits);
    return off == detail::no_slot ? 0.0f : params_[off];
  }

  /// @brief Checked: initialise the layer's weight steps at every width from its weights now
  /// (LIMPQ: s_b = max(|μ − 3σ|, |μ + 3σ|) / 2^(b−1)).
  status try_init_weights(std::size_t layer, std::span<const float> w) {
    MPQ_TRY(detail::check_layer_index("limpq: init_weights", layer, layer_count()));
    if (!is_searched(layer)) return {};
    std::vector<float> s(widths_.size());
    for (std::size_t i = 0; i < widths_.size(); ++i) {
      auto v = try_lsq_init_weights(w, widths_[i]);
      if (!v) return v.error();
      s[i] = *v;
    }
    for (std::size_t i = 0; i < widths_.size(); ++i) {
      const std::size_t off = parameter_offset(layer, operand::weights, widths_[i]);
      params_[off] = s[i];
      ready_[off] = 1;
    }
    return {};
  }

  /// @brief Checked: the LSQ quantizer the current pass uses for the layer operand.
  expected<lsq_quantizer<>> try_quantizer(std::size_t layer, operand which) const {
    MPQ_TRY(detail::check_layer_index("limpq: quantizer", layer, layer_count()));
    if (!is_searched(layer))
      return status::failure(errc::invalid_argument, "limpq: layer %zu '%s' is outside the search (kept float)", layer,
                             problem_.layer(layer).name.c_str());
    const int b = widths_[pass_index_[layer]];
    const std::size_t off = parameter_offset(layer, which, b);
    if (!ready_[off])
      return status::failure(errc::invalid_argument, "limpq: layer %zu: the %d-bit %s step is not initialised yet",
                             layer, b, which == operand::weights ? "weight" : "activation");
    return lsq_quantizer<>::try_make(b, which == operand::weights ? signed_codes : unsigned_codes, params_[off],
                                     which == operand::weights ? options_.weight_lsq : options_.activation_lsq);
  }

  // ---- forward / backward ------------------------------------------------------------------------

  /// @brief Checked: LSQ at the current pass's bits (steps initialised on first use); fixed
  /// layers: identity (weights) / ReLU (activations).
  status try_forward(std::size_t layer, operand which, std::span<const float> x, std::span<float> y) {
    MPQ_TRY(detail::check_forward("limpq: forward", layer, layer_count(), x.size(), y.size()));
    if (!is_searched(layer)) {
      detail::float_forward(which, x, y);
      return {};
    }
    const int b = widths_[pass_index_[layer]];
    const std::size_t off = parameter_offset(layer, which, b);
    if (!ready_[off]) {
      if (which == operand::weights) {
        MPQ_TRY(try_init_weights(layer, x));
      } else {
        auto s = try_lsq_init_activations(x, b);
        if (!s) return s.error();
        params_[off] = *s;
        ready_[off] = 1;
      }
    }
    auto q = try_quantizer(layer, which);
    if (!q) return q.error();
    return try_fake_quantize(*q, x, y);
  }

  /// @brief Checked: LSQ's backward; ∂L/∂s_l[b] of the current pass's width added to grad_theta.
  status try_backward(std::size_t layer, operand which, std::span<const float> x, std::span<const float> grad_y,
                      std::span<float> grad_x, std::span<float> grad_theta) const {
    MPQ_TRY(detail::check_backward("limpq: backward", layer, layer_count(), x.size(), grad_y.size(), grad_x.size(), grad_theta.size(),
                                   params_.size()));
    if (!is_searched(layer)) {
      detail::float_backward(which, x, grad_y, grad_x);
      return {};
    }
    auto q = try_quantizer(layer, which);
    if (!q) return q.error();
    return q->try_backward(x, grad_y, grad_x,
                           grad_theta.subspan(parameter_offset(layer, which, widths_[pass_index_[layer]]), 1));
  }

  double regularizer() const noexcept { return 0.0; }
  status try_regularizer_gradient(std::span<float> grad_theta) const {
    return detail::check_parameter_buffer("limpq: regularizer_gradient", grad_theta.size(), params_.size());
  }

  /// @brief LIMPQ's clipping: every step gradient to [-gradient_clip, gradient_clip].
  status try_prepare_update() {
    const float c = options_.gradient_clip;
    for (float& g : grads_) g = g < -c ? -c : (g > c ? c : g);
    return {};
  }
  /// @brief Keeps initialised steps positive and counts the step.
  status try_finish_update() {
    MPQ_TRY(detail::check_finite_parameters("limpq", params_, steps_));
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (ready_[i] && !(params_[i] >= min_step)) params_[i] = min_step;
    ++steps_;
    return {};
  }

  /// @brief Checked: the importance indicators (the raw learned steps; errors when some step was
  /// never trained), cleaned up when options().clean_up (LIMPQ's outlier rule, shared with
  /// search/sensitivity_limpq.hpp).
  expected<limpq_indicators> try_indicators() const {
    limpq_indicators ind(options_.alpha);
    for (std::size_t l = 0; l < layer_count(); ++l) {
      if (!is_searched(l)) continue;
      for (int b : widths_)
        for (operand which : {operand::weights, operand::activations}) {
          const std::size_t off = parameter_offset(l, which, b);
          if (!ready_[off])
            return status::failure(errc::invalid_argument,
                                   "limpq: layer %zu '%s': the %d-bit %s step was never trained (run every pass)", l,
                                   problem_.layer(l).name.c_str(), b, which == operand::weights ? "weight" : "activation");
          MPQ_TRY(ind.try_set(l, which, b, params_[off]));
        }
    }
    if (options_.clean_up) ind.clean_up();
    return ind;
  }

  /// @brief Checked: the ILP's allocation for the indicators under the problem's budgets (exact,
  /// with its proof of optimality).
  status try_derive(search_result& out) const {
    auto ind = try_indicators();
    if (!ind) return ind.error();
    problem q = problem_;
    MPQ_TRY(q.try_set_objective(*ind));
    ilp_search ilp(options_.ilp);
    search_result r;
    MPQ_TRY(ilp.try_solve(q, r));
    r.strategy = name();
    out = std::move(r);
    return {};
  }

 private:
  static constexpr float min_step = 1e-8f;
  limpq_training() = default;

  limpq_options options_{};
  std::vector<int> widths_;              // descending
  std::vector<std::size_t> slot_;        // per layer
  std::vector<std::size_t> pass_index_;  // per layer: index into widths_
  std::vector<char> ready_;              // per parameter
  std::uint64_t rng_ = 0;
};

}  // namespace mpq
