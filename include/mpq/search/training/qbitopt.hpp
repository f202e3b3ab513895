// QBitOpt-style bit reallocation during QAT (Peters et al., ICCV-W 2023; the method section is not
// public, so this is algorithms.md §5's reconstruction): LSQ quantizers whose bits are re-solved from
// Fisher sensitivities every T steps by a one-shot strategy, so every allocation meets the budget.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/quant/calibration.hpp"
#include "mpq/quant/lsq.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/search/convex.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"
#include "mpq/search/sensitivity_fisher.hpp"
#include "mpq/search/strategy_concepts.hpp"
#include "mpq/search/training/training_base.hpp"

namespace mpq {

/// @brief QBitOpt's schedule and quantizer options (algorithms.md §5c; values UNVERIFIED).
struct qbitopt_options {
  /// Length of training in optimizer steps (required: the freeze point is a fraction of it).
  std::uint64_t total_steps = 0;
  /// T: the bits are re-solved after every T steps.
  std::uint64_t resolve_every = 200;
  /// The bits stay fixed for this last fraction of training (0.25: the last quarter).
  double freeze_fraction = 0.25;
  /// Decay of the Fisher EMA, F ← decay·F + (1 − decay)·Σg².
  double fisher_decay = 0.99;
  /// Add the input activations' Fisher term to the weights' (else weights only).
  bool activation_fisher = true;
  lsq_options weight_lsq{};
  lsq_options activation_lsq{};
};

/// @brief QBitOpt as a training strategy (algorithms.md §5, UNVERIFIED reconstruction).
///
/// Every layer's weights (signed) and input activations (unsigned) are fake-quantized by LSQ at
/// the layer's current bits with learned steps s_w, s_a (parameters 2l and 2l + 1; each initialised
/// from the first tensor it quantizes, LIMPQ's rules). Widths 16/32 are float (identity / ReLU).
/// The backward passes feed the task-loss gradients ∂L/∂Ŵ and ∂L/∂x̂ into Fisher EMAs F_l, and
///
///   Ω_l(b_w, b_a) = F^w_l Δ^w_l(b_w)²/12 + F^a_l Δ^a_l(b_a)²/12,   Δ(b) = R_l / (2^b − 1),
///
/// with R_l the range the layer's quantizer covers now (s·(2^b − 1)). At the start the bits are the
/// largest uniform candidate pair (W = A preferred) that meets every budget (or the solver's answer for a flat
/// objective when none does); after every T steps, until the last freeze_fraction of training, the
/// problem is re-solved with the Solver (convex_search by default, QBitOpt's relaxation and
/// feasible rounding; ilp_search for the exact optimum), and a layer whose bits
/// change keeps its clipping range: s ← s·(2^b − 1)/(2^b' − 1). Every allocation the strategy
/// emits is checked against every budget before it is applied. No own loss term (R = 0).
template <SearchStrategy Solver = convex_search>
class qbitopt_training : public detail::training_base<qbitopt_training<Solver>> {
  using base = detail::training_base<qbitopt_training<Solver>>;

 public:
  using solver_type = Solver;
  using base::try_backward;

  static constexpr const char* name() noexcept { return "qbitopt"; }

  /// @brief Checked: total_steps >= 1, resolve_every >= 1, freeze_fraction in [0, 1], decay in
  /// [0, 1); some allocation meets every budget (else errc::infeasible from the solver).
  static expected<qbitopt_training> try_make(const problem& p, const qbitopt_options& o, Solver solver = Solver{}) {
    constexpr const char* who = "qbitopt";
    MPQ_TRY(detail::check_has_layers(p, who));
    if (o.total_steps < 1 || o.resolve_every < 1)
      return status::failure(errc::invalid_argument, "qbitopt: total_steps = %llu, resolve_every = %llu: both must be >= 1",
                             static_cast<unsigned long long>(o.total_steps),
                             static_cast<unsigned long long>(o.resolve_every));
    if (!(o.freeze_fraction >= 0.0 && o.freeze_fraction <= 1.0))
      return status::failure(errc::invalid_argument, "qbitopt: freeze_fraction = %g: must lie in [0, 1]", o.freeze_fraction);
    const std::size_t L = p.layer_count();
    auto fw = fisher_sensitivity::try_make(L, operand::weights, o.fisher_decay);
    if (!fw) return fw.error();
    auto fa = fisher_sensitivity::try_make(L, operand::activations, o.fisher_decay);
    if (!fa) return fa.error();
    for (std::size_t l = 0; l < L; ++l)
      for (const bit_pair& c : p.candidates(l))
        if (c.w < 2)
          return status::failure(errc::invalid_argument,
                                 "qbitopt: layer %zu '%s' offers W%d: LSQ's signed weights need >= 2 bits", l,
                                 p.layer(l).name.c_str(), c.w);
    qbitopt_training s(std::move(solver), std::move(*fw), std::move(*fa));
    s.problem_ = p;
    s.options_ = o;
    s.allocate_parameters(2 * L, 0.0f);
    s.ready_.assign(2 * L, 0);
    s.range_.assign(2 * L, 1.0);
    s.freeze_step_ = static_cast<std::uint64_t>(std::ceil(static_cast<double>(o.total_steps) * (1.0 - o.freeze_fraction)));
    MPQ_TRY(s.start());
    return s;
  }
  qbitopt_training(const problem& p, const qbitopt_options& o, Solver solver = Solver{})
      : qbitopt_training(try_make(p, o, std::move(solver)).value()) {}

  const qbitopt_options& options() const noexcept { return options_; }
  bit_pair current_bits(std::size_t layer) const noexcept { return bits_[layer]; }
  std::span<const bit_pair> allocation() const noexcept { return bits_; }
  /// @brief Every allocation applied so far, the starting one first.
  const std::vector<std::vector<bit_pair>>& history() const noexcept { return history_; }
  /// @brief True once the bits are frozen (the last freeze_fraction of training).
  bool frozen() const noexcept { return steps_ >= freeze_step_; }
  const fisher_sensitivity& weight_fisher() const noexcept { return fw_; }
  const fisher_sensitivity& activation_fisher() const noexcept { return fa_; }
  Solver& solver() noexcept { return solver_; }

  /// @brief Offset of the layer operand's LSQ step in parameters() (2l or 2l + 1).
  static constexpr std::size_t parameter_offset(std::size_t layer, operand which) noexcept {
    return 2 * layer + (which == operand::weights ? 0 : 1);
  }
  /// @brief Whether the operand's step has been initialised (by a forward or try_init_weights).
  bool initialised(std::size_t layer, operand which) const noexcept { return ready_[parameter_offset(layer, which)] != 0; }

  /// @brief Checked: the LSQ quantizer of the layer operand at its current bits and step (errors
  /// for float widths or an uninitialised step).
  expected<lsq_quantizer<>> try_quantizer(std::size_t layer, operand which) const {
    MPQ_TRY(detail::check_layer_index("qbitopt: quantizer", layer, this->layer_count()));
    const int b = width(layer, which);
    if (b >= 16)
      return status::failure(errc::invalid_argument, "qbitopt: layer %zu '%s' keeps its %s float (%d bits)", layer,
                             problem_.layer(layer).name.c_str(), which == operand::weights ? "weights" : "activations", b);
    if (!initialised(layer, which))
      return status::failure(errc::invalid_argument, "qbitopt: layer %zu: the %s step is not initialised yet", layer,
                             which == operand::weights ? "weight" : "activation");
    return make(layer, which, b);
  }

  /// @brief Checked: initialise the layer's weight step from its weights (LIMPQ's rule) now.
  status try_init_weights(std::size_t layer, std::span<const float> w) {
    MPQ_TRY(detail::check_layer_index("qbitopt: init_weights", layer, this->layer_count()));
    return init(layer, operand::weights, w);
  }

  // ---- forward / backward ------------------------------------------------------------------------

  /// @brief Checked: LSQ fake-quantization at the layer's current bits (the step is initialised
  /// from x on the first call); identity / ReLU at 16/32 bits.
  status try_forward(std::size_t layer, operand which, std::span<const float> x, std::span<float> y) {
    MPQ_TRY(detail::check_forward("qbitopt: forward", layer, this->layer_count(), x.size(), y.size()));
    const int b = width(layer, which);
    const std::size_t off = parameter_offset(layer, which);
    if (b >= 16) {
      detail::float_forward(which, x, y);
      double top = 0.0;  // the range seen while float, for a later switch to a quantized width
      for (float v : x) top = std::fabs(v) > top ? std::fabs(v) : top;
      if (top > 0.0 && std::isfinite(top)) range_[off] = which == operand::weights ? 2.0 * top : top;
      return {};
    }
    if (!ready_[off]) MPQ_TRY(init(layer, which, x));
    auto q = make(layer, which, b);
    if (!q) return q.error();
    return try_fake_quantize(*q, x, y);
  }

  /// @brief Checked: LSQ's backward (∂L/∂s added to grad_theta), and grad_y (∂L/∂Ŵ or ∂L/∂x̂) is
  /// folded into the layer's Fisher EMA.
  status try_backward(std::size_t layer, operand which, std::span<const float> x, std::span<const float> grad_y,
                      std::span<float> grad_x, std::span<float> grad_theta) {
    MPQ_TRY(detail::check_backward("qbitopt: backward", layer, this->layer_count(), x.size(), grad_y.size(), grad_x.size(), grad_theta.size(),
                                   params_.size()));
    const int b = width(layer, which);
    if (b < 16) {
      auto q = try_quantizer(layer, which);
      if (!q) return q.error();
      MPQ_TRY(q->try_backward(x, grad_y, grad_x, grad_theta.subspan(parameter_offset(layer, which), 1)));
    } else {
      detail::float_backward(which, x, grad_y, grad_x);
    }
    return (which == operand::weights ? fw_ : fa_).try_observe(layer, grad_y);
  }

  double regularizer() const noexcept { return 0.0; }
  status try_regularizer_gradient(std::span<float> grad_theta) const {
    return detail::check_parameter_buffer("qbitopt: regularizer_gradient", grad_theta.size(), params_.size());
  }
  status try_prepare_update() { return {}; }

  /// @brief Keeps the steps positive, counts the step and, every T steps before the freeze point,
  /// re-solves the bits. A failed re-solve changes nothing (not even the step count).
  status try_finish_update() {
    MPQ_TRY(detail::check_finite_parameters("qbitopt", params_, steps_));
    const std::uint64_t next = steps_ + 1;
    if (next % options_.resolve_every == 0 && next < freeze_step_) MPQ_TRY(try_resolve());
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (ready_[i] && !(params_[i] >= min_step)) params_[i] = min_step;
    steps_ = next;
    return {};
  }

  /// @brief Checked: re-solve the bits now from the Fisher EMAs (what try_finish_update does every
  /// T steps). On failure the allocation is unchanged.
  status try_resolve() {
    for (std::size_t l = 0; l < this->layer_count(); ++l) {
      for (operand which : {operand::weights, operand::activations}) {
        const std::size_t off = parameter_offset(l, which);
        const int b = width(l, which);
        if (b < 16 && ready_[off]) range_[off] = static_cast<double>(params_[off]) * (std::ldexp(1.0, b) - 1.0);
        MPQ_TRY((which == operand::weights ? fw_ : fa_).try_set_range(l, range_[off]));
      }
    }
    MPQ_TRY(problem_.try_set_objective(objective_view{&fw_, &fa_, options_.activation_fisher}));
    search_result r;
    MPQ_TRY(solver_.try_solve(problem_, r));
    MPQ_TRY(check_allocation(r.bits));
    apply(r.bits);
    last_ = std::move(r);
    has_last_ = true;
    return {};
  }

  /// @brief Checked: the current allocation as a search_result (the last solve's, with its proof
  /// of optimality for the Fisher objective, or the starting uniform allocation's).
  status try_derive(search_result& out) const {
    if (has_last_ && last_.bits == bits_) {
      out = last_;
      out.strategy = name();
      return {};
    }
    return detail::derive_result(problem_, bits_, {}, name(), steps_, out);
  }

 private:
  using base::grads_;
  using base::params_;
  using base::problem_;
  using base::steps_;

  static constexpr float min_step = 1e-8f;

  qbitopt_training(Solver solver, fisher_sensitivity fw, fisher_sensitivity fa)
      : solver_(std::move(solver)), fw_(std::move(fw)), fa_(std::move(fa)) {}

  // Ω_l = F^a Δ_a²/12 + F^w Δ_w²/12 (or the weights' term alone).
  struct objective_view {
    const fisher_sensitivity* w;
    const fisher_sensitivity* a;
    bool with_activations;
    static constexpr const char* name() noexcept { return "qbitopt_fisher"; }
    double sensitivity(const layer_info& li, std::size_t l, bit_pair b) const {
      return w->sensitivity(li, l, b) + (with_activations ? a->sensitivity(li, l, b) : 0.0);
    }
  };

  int width(std::size_t layer, operand which) const noexcept {
    return which == operand::weights ? bits_[layer].w : bits_[layer].a;
  }
  expected<lsq_quantizer<>> make(std::size_t layer, operand which, int b) const {
    return lsq_quantizer<>::try_make(b, which == operand::weights ? signed_codes : unsigned_codes,
                                     params_[parameter_offset(layer, which)],
                                     which == operand::weights ? options_.weight_lsq : options_.activation_lsq);
  }
  status init(std::size_t layer, operand which, std::span<const float> x) {
    const int b = width(layer, which);
    const std::size_t off = parameter_offset(layer, which);
    if (b >= 16) return {};
    auto s = which == operand::weights ? try_lsq_init_weights(x, b) : try_lsq_init_activations(x, b);
    if (!s) return s.error();
    params_[off] = *s;
    ready_[off] = 1;
    return {};
  }

  status check_allocation(std::span<const bit_pair> bits) const {
    MPQ_TRY(problem_.check_allocation(bits));
    for (std::size_t c = 0; c < problem_.constraint_count(); ++c) {
      const double use = problem_.cost(c, bits);
      if (!problem_.within_budget(c, use))
        return status::failure(errc::infeasible, "qbitopt: the solver's allocation breaks '%s' (%.6g > %.6g); not applied",
                               problem_.constraint(c).name.c_str(), use, problem_.constraint(c).budget_value);
    }
    return {};
  }

  // Applies a new allocation: steps of layers whose width changes keep their clipping range.
  void apply(std::span<const bit_pair> bits) {
    for (std::size_t l = 0; l < bits.size(); ++l)
      for (operand which : {operand::weights, operand::activations}) {
        const int from = width(l, which), to = which == operand::weights ? bits[l].w : bits[l].a;
        const std::size_t off = parameter_offset(l, which);
        if (from == to || !ready_[off]) continue;
        if (from < 16 && to < 16) {
          params_[off] = static_cast<float>(params_[off] * (std::ldexp(1.0, from) - 1.0) / (std::ldexp(1.0, to) - 1.0));
        } else if (to < 16) {  // float -> quantized: cover the range seen while float
          params_[off] = static_cast<float>(range_[off] / (std::ldexp(1.0, to) - 1.0));
        }
      }
    bits_.assign(bits.begin(), bits.end());
    history_.push_back(bits_);
  }

  // The starting allocation: the largest uniform pair within every budget, else a solve with the
  // flat objective Ω = 4^-w + 4^-a.
  status start() {
    const std::size_t L = this->layer_count();
    std::vector<bit_pair> best, trial(L);
    double best_key = -1.0;
    std::size_t first = L;
    for (std::size_t l = 0; l < L && first == L; ++l)
      if (!problem_.is_fixed(l)) first = l;
    if (first < L) {
      for (const bit_pair& u : problem_.candidates(first)) {
        bool ok = true;
        for (std::size_t l = 0; l < L && ok; ++l) {
          if (problem_.is_fixed(l)) {
            trial[l] = problem_.candidates(l)[0];
            continue;
          }
          ok = problem_.try_candidate_index(l, u).has_value();
          trial[l] = u;
        }
        if (!ok || !check_allocation(trial).ok()) continue;
        const double key = (u.w == u.a ? 1e6 : 0.0) + static_cast<double>(u.w) * u.a + 1e-3 * u.w;
        if (key > best_key) best_key = key, best = trial;
      }
    }
    if (best.empty()) {
      std::vector<double> flat(problem_.candidate_count());
      for (std::size_t l = 0; l < L; ++l) {
        const auto c = problem_.candidates(l);
        for (std::size_t j = 0; j < c.size(); ++j)
          flat[problem_.candidate_offset(l) + j] = std::ldexp(1.0, -2 * (c[j].w > 16 ? 16 : c[j].w)) +
                                                   std::ldexp(1.0, -2 * (c[j].a > 16 ? 16 : c[j].a));
      }
      MPQ_TRY(problem_.try_set_objective_values(flat));
      search_result r;
      MPQ_TRY(solver_.try_solve(problem_, r));
      MPQ_TRY(check_allocation(r.bits));
      best = r.bits;
    }
    bits_.assign(L, bit_pair{});
    apply(best);
    return {};
  }

  qbitopt_options options_{};
  Solver solver_{};
  fisher_sensitivity fw_, fa_;
  std::vector<bit_pair> bits_;
  std::vector<char> ready_;
  std::vector<double> range_;  // per parameter: the range its quantizer covers (or covered while float)
  std::vector<std::vector<bit_pair>> history_;
  search_result last_;
  bool has_last_ = false;
  std::uint64_t freeze_step_ = 0;
};

}  // namespace mpq
