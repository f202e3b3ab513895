// Uhlich et al. (ICLR 2020), "Mixed Precision DNNs: All you need is a good parametrization": bits
// inferred from learned (d, q_max) (U3) or (q_min, q_max) (P3), memory penalties λ·relu(S − S0)²,
// gradient clipping, the projection step, and the best checkpoint that meets the constraints.
#pragma once

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/cost/activation_memory.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/bitops.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/cost/memory_units.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/quant/calibration.hpp"
#include "mpq/quant/pow2.hpp"
#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/quant/step_range.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"
#include "mpq/search/training/checkpoint.hpp"
#include "mpq/search/training/training_base.hpp"

namespace mpq {

namespace detail {

template <class Q>
struct uhlich_traits;

// U3 (d, q_max) with any rounding / bound-gradient policy.
template <RoundingPolicy R, BoundGradientPolicy G>
struct uhlich_traits<step_range_quantizer<uhlich_u3, R, G>> {
  using quantizer = step_range_quantizer<uhlich_u3, R, G>;
  using bounds_type = step_range_bounds;
  static constexpr bounds_type weight_bounds() noexcept { return step_range_bounds::weights(); }
  static constexpr bounds_type activation_bounds() noexcept { return step_range_bounds::activations(); }
  static expected<quantizer> make(const std::array<float, 2>& t, operand which, const bounds_type& b) noexcept {
    return quantizer::try_make(t[0], t[1], which == operand::weights ? signed_codes : unsigned_codes, b);
  }
  // A quantizer to call project()/check() on (its own θ does not matter).
  static expected<quantizer> any(operand which, const bounds_type& b) noexcept {
    return make({b.d_min, b.q_max_max}, which, b);
  }
  // Sony's inits (algorithms.md §2c): weights from max|W| (find_delta), activations d0 = 2^-3.
  static expected<std::array<float, 2>> weight_init(float max_abs, int b0) noexcept {
    return try_uhlich_weight_init(max_abs, b0);
  }
  static std::array<float, 2> activation_init(int b0) noexcept {
    const float d0 = 0.125f;
    return {d0, d0 * (std::ldexp(1.0f, b0) - 1.0f)};
  }
};

// P3 (q_min, q_max): weights signed without a zero level, activations unsigned with one (Sony).
template <RoundingPolicy R, BoundGradientPolicy G>
struct uhlich_traits<pow2_quantizer<pow2_p3, R, G>> {
  using quantizer = pow2_quantizer<pow2_p3, R, G>;
  using bounds_type = pow2_bounds;
  static constexpr bounds_type weight_bounds() noexcept { return pow2_bounds::weights(); }
  static constexpr bounds_type activation_bounds() noexcept { return pow2_bounds::activations(); }
  static expected<quantizer> make(const std::array<float, 2>& t, operand which, const bounds_type& b) noexcept {
    return which == operand::weights ? quantizer::try_make(t[0], t[1], signed_codes, zero_level::absent, b)
                                     : quantizer::try_make(t[0], t[1], unsigned_codes, zero_level::present, b);
  }
  static expected<quantizer> any(operand which, const bounds_type& b) noexcept {
    return make({b.q_max_min, b.q_max_min}, which, b);
  }
  // Sony: q_max = 2^round(log2 q_max0) of the fixed-point init, q_min = q_max / 2^(2^(b0-1) - 1).
  static std::array<float, 2> pow2_from(float q_max0, int b0) noexcept {
    const float q = std::exp2(std::round(std::log2(q_max0)));
    return {q / std::exp2(std::ldexp(1.0f, b0 - 1) - 1.0f), q};
  }
  static expected<std::array<float, 2>> weight_init(float max_abs, int b0) noexcept {
    auto u = try_uhlich_weight_init(max_abs, b0);
    if (!u) return u.error();
    return pow2_from((*u)[1], b0);
  }
  static std::array<float, 2> activation_init(int b0) noexcept {
    return pow2_from(0.125f * (std::ldexp(1.0f, b0) - 1.0f), b0);
  }
};

}  // namespace detail

/// @brief A learned-bits quantizer uhlich_training supports: U3 (step_range_quantizer<uhlich_u3>)
/// or P3 (pow2_quantizer<pow2_p3>), the parametrizations Uhlich et al. recommend.
template <class Q>
concept UhlichQuantizer = LearnedBitsQuantizer<Q> && requires { typename detail::uhlich_traits<Q>::bounds_type; };

/// @brief How a penalty's excess S − S0 is scaled before squaring.
enum class uhlich_penalty_scale : std::uint8_t {
  kilobytes,  ///< memory in KB (Sony's unit, so λ = 0.1 means what it means in their configs);
              ///< constraints that are not memory (BitOps, average bits) are scaled by their budget
  budget,     ///< every excess relative to its budget: λ·relu(S/S0 − 1)²
};

/// @brief Uhlich et al.'s hyperparameters (algorithms.md §2c, Sony's CIFAR-10 configs).
template <UhlichQuantizer Q>
struct uhlich_options {
  using bounds_type = typename detail::uhlich_traits<Q>::bounds_type;
  double lambda_weights = 0.1;      ///< λ_w, for weight-size and average-weight-bits budgets
  double lambda_activations = 0.1;  ///< λ_a, for activation-memory budgets (sum or peak)
  double lambda_bitops = 0.1;       ///< mpq's extension: BitOps budgets (not in the paper)
  uhlich_penalty_scale scale = uhlich_penalty_scale::kilobytes;
  int initial_weight_bits = 4;      ///< b0 of Sony's init (w_bitwidth)
  int initial_activation_bits = 4;  ///< b0 of the activation init (4, or 6 in some configs)
  bool clip_gradients = true;       ///< Sony clips the quantizer gradients while constraints are set
  bounds_type weight_bounds = detail::uhlich_traits<Q>::weight_bounds();
  bounds_type activation_bounds = detail::uhlich_traits<Q>::activation_bounds();
};

/// @brief Uhlich et al.'s learned bit widths as a training strategy (algorithms.md §2).
///
/// Every searched layer has a weight quantizer (signed) and an input-activation quantizer
/// (unsigned: it replaces the ReLU) of type Q, each with two learned parameters θ = (d, q_max) for
/// U3 or (q_min, q_max) for P3; tied layers share them. Their bit widths are inferred from θ (U3:
/// ceil(log2(q_max/d + 1)) + [signed]), and the layer's bits are those widths, raised to the
/// nearest candidate width of the problem (or the largest). The problem's budgets become penalties
///
///   R = Σ_c λ_c·relu((S_c(bits) − S0_c)/u_c)²,   ∂R/∂θ = 2 λ_c relu(·)/u_c · ∂S_c/∂b · ∂b/∂θ
///
/// for weight size (8a), total or peak activation memory (8b, 8c), parameter-weighted average
/// weight bits, and (mpq's extension) BitOps; ∂b/∂θ is the quantizer's bits_gradient() (the STE of
/// ceil, round and the power of two through the smooth surrogate). A peak's gradient reaches only
/// the layer holding the peak. Other constraint kinds are rejected at construction.
/// Hooks: try_prepare_update clips the quantizer gradients to ±d (P3: ±q_min) when the problem has
/// a budget; try_finish_update projects θ (d < q_max, bounds with Sony's 1e-5 margins).
/// Model selection: try_offer_checkpoint(score) keeps the best state whose allocation meets every
/// budget; try_derive returns that allocation (or the current one when none was kept).
template <UhlichQuantizer Q = u3_quantizer>
class uhlich_training : public detail::training_base<uhlich_training<Q>> {
  using base = detail::training_base<uhlich_training<Q>>;
  using traits = detail::uhlich_traits<Q>;

 public:
  using quantizer = Q;
  using options_type = uhlich_options<Q>;
  using base::try_backward;

  static constexpr const char* name() noexcept { return "uhlich"; }

  /// @brief Checked: every searched layer's candidates are a full grid; every budget is one of the
  /// supported kinds; options valid. Weights start from Sony's init for max|W| = 1 until
  /// try_init_weights() sees the real weights; activations from Sony's activation init.
  static expected<uhlich_training> try_make(const problem& p, const options_type& o = {}) {
    constexpr const char* who = "uhlich";
    MPQ_TRY(detail::check_has_layers(p, who));
    for (double lam : {o.lambda_weights, o.lambda_activations, o.lambda_bitops})
      if (!(lam >= 0.0) || !std::isfinite(lam))
        return status::failure(errc::invalid_argument, "uhlich: lambda = %g: every lambda must be finite and >= 0", lam);
    if (o.initial_weight_bits < 2 || o.initial_weight_bits > 8 || o.initial_activation_bits < 1 ||
        o.initial_activation_bits > 8)
      return status::failure(errc::invalid_argument,
                             "uhlich: initial bits W%d A%d: weights need 2..8 (a sign bit), activations 1..8",
                             o.initial_weight_bits, o.initial_activation_bits);
    uhlich_training s;
    s.problem_ = p;
    s.options_ = o;
    MPQ_TRY(detail::read_grid_widths(p, who, s.widths_));
    for (int which = 0; which < 2; ++which) {
      const operand op = which == 0 ? operand::weights : operand::activations;
      s.slots_[which] = detail::make_slots(p, op, true);
      MPQ_TRY(detail::check_slot_widths(p, s.slots_[which], op, who));
    }
    // Parameters: 2 per weight slot, then 2 per activation slot.
    s.allocate_parameters(2 * (s.slots_[0].count() + s.slots_[1].count()));
    auto wq = traits::any(operand::weights, o.weight_bounds);
    if (!wq) return wq.error();
    auto aq = traits::any(operand::activations, o.activation_bounds);
    if (!aq) return aq.error();
    auto w0 = traits::weight_init(1.0f, o.initial_weight_bits);
    if (!w0) return w0.error();
    const auto wt = wq->project(*w0);
    const auto at = aq->project(traits::activation_init(o.initial_activation_bits));
    for (std::size_t k = 0; k < s.slots_[0].count(); ++k) s.set_theta(s.offset(0, k), wt);
    for (std::size_t k = 0; k < s.slots_[1].count(); ++k) s.set_theta(s.offset(1, k), at);
    MPQ_TRY(s.read_penalties());
    return s;
  }
  explicit uhlich_training(const problem& p, const options_type& o = {}) : uhlich_training(try_make(p, o).value()) {}

  const options_type& options() const noexcept { return options_; }

  /// @brief Checked: Sony's weight init from these weights (max|W|, b0 = initial_weight_bits) for
  /// layer `layer`'s quantizer (shared with the layers tied to it), projected into the bounds.
  status try_init_weights(std::size_t layer, std::span<const float> w) {
    MPQ_TRY(detail::check_layer_index("uhlich: init_weights", layer, this->layer_count()));
    const std::size_t slot = slots_[0].of_layer[layer];
    if (slot == detail::no_slot) return {};
    auto m = try_moments(w);
    if (!m) return m.error();
    auto t = traits::weight_init(static_cast<float>(m->max_abs), options_.initial_weight_bits);
    if (!t) return t.error();
    auto q = traits::any(operand::weights, options_.weight_bounds);
    if (!q) return q.error();
    set_theta(offset(0, slot), q->project(*t));
    return {};
  }

  /// @brief Whether the layer has learned quantizers (is not fixed).
  bool is_searched(std::size_t layer) const noexcept { return slots_[0].of_layer[layer] != detail::no_slot; }
  /// @brief Offset of the layer operand's θ (2 values) in parameters(); detail::no_slot when fixed.
  std::size_t parameter_offset(std::size_t layer, operand which) const noexcept {
    const std::size_t k = slots_[index(which)].of_layer[layer];
    return k == detail::no_slot ? detail::no_slot : offset(index(which), k);
  }
  /// @brief Checked: the layer operand's quantizer at the current θ (errors when θ is outside its
  /// bounds, i.e. after an optimizer step without try_finish_update()).
  expected<Q> try_quantizer(std::size_t layer, operand which) const {
    MPQ_TRY(detail::check_layer_index("uhlich: quantizer", layer, this->layer_count()));
    const std::size_t off = parameter_offset(layer, which);
    if (off == detail::no_slot)
      return status::failure(errc::invalid_argument, "uhlich: layer %zu '%s' is fixed: it has no learned quantizer",
                             layer, problem_.layer(layer).name.c_str());
    return make(which, theta(off));
  }

  /// @brief The bits the layer uses now: each inferred width raised to the nearest candidate width.
  bit_pair current_bits(std::size_t layer) const noexcept {
    if (!is_searched(layer)) return problem_.candidates(layer)[0];
    return {snap(layer, operand::weights, inferred_bits(layer, operand::weights)),
            snap(layer, operand::activations, inferred_bits(layer, operand::activations))};
  }
  /// @brief The width the layer operand's quantizer infers from θ (before snapping).
  int inferred_bits(std::size_t layer, operand which) const noexcept {
    auto q = make(which, theta(parameter_offset(layer, which)));
    return q ? q->bits() : widths_[index(which)][layer].back();
  }

  // ---- forward / backward ------------------------------------------------------------------------

  /// @brief Checked: y = Q(x) with the layer operand's quantizer (fixed layers: x unchanged for
  /// weights, ReLU for activations).
  status try_forward(std::size_t layer, operand which, std::span<const float> x, std::span<float> y) const {
    MPQ_TRY(detail::check_forward("uhlich: forward", layer, this->layer_count(), x.size(), y.size()));
    if (!is_searched(layer)) {
      detail::float_forward(which, x, y);
      return {};
    }
    auto q = try_quantizer(layer, which);
    if (!q) return q.error();
    return try_fake_quantize(*q, x, y);
  }

  /// @brief Checked: the quantizer's straight-through backward; ∂L/∂θ added to grad_theta.
  status try_backward(std::size_t layer, operand which, std::span<const float> x, std::span<const float> grad_y,
                      std::span<float> grad_x, std::span<float> grad_theta) const {
    MPQ_TRY(detail::check_backward("uhlich: backward", layer, this->layer_count(), x.size(), grad_y.size(),
                                   grad_x.size(), grad_theta.size(), params_.size()));
    if (!is_searched(layer)) {
      detail::float_backward(which, x, grad_y, grad_x);
      return {};
    }
    auto q = try_quantizer(layer, which);
    if (!q) return q.error();
    return q->try_backward(x, grad_y, grad_x, grad_theta.subspan(parameter_offset(layer, which), 2));
  }

  // ---- penalties ------------------------------------------------------------------------------------

  /// @brief S_c: constraint c's network cost at current_bits(), in the constraint's unit.
  double constraint_use(std::size_t c) const {
    std::vector<bit_pair> bits(this->layer_count());
    for (std::size_t l = 0; l < bits.size(); ++l) bits[l] = current_bits(l);
    return problem_.cost(c, bits);
  }
  /// @brief True when current_bits() meets every budget of the problem.
  bool meets_constraints() const {
    std::vector<bit_pair> bits(this->layer_count());
    for (std::size_t l = 0; l < bits.size(); ++l) bits[l] = current_bits(l);
    return best_feasible_checkpoint::meets_budgets(problem_, bits);
  }

  /// @brief R = Σ_c λ_c relu((S_c − S0_c)/u_c)².
  double regularizer() const noexcept {
    double r = 0.0;
    for (const penalty& pen : penalties_) {
      const double e = excess(pen);
      r += pen.lambda * e * e;
    }
    return r;
  }

  /// @brief Checked: grad_theta += ∂R/∂θ.
  status try_regularizer_gradient(std::span<float> grad_theta) const {
    MPQ_TRY(detail::check_parameter_buffer("uhlich: regularizer_gradient", grad_theta.size(), params_.size()));
    for (const penalty& pen : penalties_) {
      const double e = excess(pen);
      if (e <= 0.0) continue;
      const double outer = 2.0 * pen.lambda * e / pen.unit / pen.normalizer;
      std::size_t peak_layer = detail::no_slot;
      if (pen.peak) {
        double top = -1.0;
        for (std::size_t l = 0; l < this->layer_count(); ++l) {
          const double t = term(pen, l, current_bits(l));
          if (t > top) top = t, peak_layer = l;
        }
      }
      for (std::size_t l = 0; l < this->layer_count(); ++l) {
        if (!is_searched(l) || (pen.peak && l != peak_layer)) continue;
        const bit_pair b = current_bits(l);
        const double k = coefficient(pen, l);
        const double dw = pen.ew ? k * (pen.ea ? b.a : 1) : 0.0;  // ∂term/∂b_w
        const double da = pen.ea ? k * (pen.ew ? b.w : 1) : 0.0;  // ∂term/∂b_a
        for (int which = 0; which < 2; ++which) {
          const double d = which == 0 ? dw : da;
          if (d == 0.0) continue;
          const operand op = which == 0 ? operand::weights : operand::activations;
          auto q = make(op, theta(parameter_offset(l, op)));
          if (!q) continue;  // outside the bounds (no finish_update yet): the forward reports it
          const auto g = q->bits_gradient();
          float* out = grad_theta.data() + parameter_offset(l, op);
          out[0] += static_cast<float>(outer * d * g[0]);
          out[1] += static_cast<float>(outer * d * g[1]);
        }
      }
    }
    return {};
  }

  // ---- hooks ---------------------------------------------------------------------------------------------

  /// @brief Sony's gradient clipping (algorithms.md §2b step 2): while the problem has a budget,
  /// each quantizer's gradients are clipped to ±d (U3) or ±q_min (P3).
  status try_prepare_update() {
    if (!options_.clip_gradients || problem_.constraint_count() == 0) return {};
    for (int which = 0; which < 2; ++which)
      for (std::size_t k = 0; k < slots_[which].count(); ++k) {
        const std::size_t off = offset(which, k);
        auto q = make(which == 0 ? operand::weights : operand::activations, theta(off));
        if (!q) return q.error();
        const auto g = q->clip_gradients({grads_[off], grads_[off + 1]});
        grads_[off] = g[0];
        grads_[off + 1] = g[1];
      }
    return {};
  }

  /// @brief Sony's projection (step 4) of every θ; a NaN (a diverged run) is an error and nothing
  /// changes. Counts the step.
  status try_finish_update() {
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (std::isnan(params_[i]))
        return status::failure(errc::not_finite, "uhlich: parameter %zu is NaN after step %llu: training diverged", i,
                               static_cast<unsigned long long>(steps_));
    for (int which = 0; which < 2; ++which) {
      const operand op = which == 0 ? operand::weights : operand::activations;
      auto q = traits::any(op, which == 0 ? options_.weight_bounds : options_.activation_bounds);
      if (!q) return q.error();
      for (std::size_t k = 0; k < slots_[which].count(); ++k) set_theta(offset(which, k), q->project(theta(offset(which, k))));
    }
    ++steps_;
    return {};
  }

  /// @brief Checked: offer the current state for model selection with the host's validation score
  /// (higher is better). Kept (true) only when current_bits() meets every budget and the score
  /// beats the best kept so far: save the host's weights exactly then.
  expected<bool> try_offer_checkpoint(double score) {
    std::vector<bit_pair> bits(this->layer_count());
    for (std::size_t l = 0; l < bits.size(); ++l) bits[l] = current_bits(l);
    return best_.try_offer(problem_, bits, params_, score, steps_);
  }
  const best_feasible_checkpoint& checkpoint() const noexcept { return best_; }
  /// @brief Checked: put the kept checkpoint's θ back into parameters() (errc::invalid_argument
  /// when none was kept).
  status try_restore_checkpoint() {
    if (!best_.has_value())
      return status::failure(errc::invalid_argument, "uhlich: no checkpoint met every budget yet");
    std::copy(best_.best().parameters.begin(), best_.best().parameters.end(), params_.begin());
    return {};
  }

  /// @brief Checked: the kept checkpoint's allocation, or the current one when none was kept
  /// (errc::infeasible when that breaks a budget). objective = Σ_l n_l |b_w − real weight bits|
  /// (how far snapping moved the learned widths).
  status try_derive(search_result& out) const {
    std::vector<bit_pair> bits(this->layer_count());
    if (best_.has_value()) {
      bits = best_.best().bits;
    } else {
      for (std::size_t l = 0; l < bits.size(); ++l) bits[l] = current_bits(l);
    }
    std::vector<double> scores(problem_.candidate_count(), 0.0);
    for (std::size_t l = 0; l < bits.size(); ++l) {
      if (!is_searched(l)) continue;
      auto q = make(operand::weights, theta(parameter_offset(l, operand::weights)));
      const double real = q ? q->real_bits() : 0.0;
      const auto c = problem_.candidates(l);
      for (std::size_t j = 0; j < c.size(); ++j)
        scores[problem_.candidate_offset(l) + j] = static_cast<double>(problem_.layer(l).weights) * std::fabs(c[j].w - real);
    }
    return detail::derive_result(problem_, bits, scores, name(), steps_, out);
  }

 private:
  using base::grads_;
  using base::params_;
  using base::problem_;
  using base::steps_;

  uhlich_training() = default;

  static constexpr std::size_t index(operand which) noexcept { return which == operand::weights ? 0 : 1; }
  std::size_t offset(std::size_t which, std::size_t slot) const noexcept {
    return which == 0 ? 2 * slot : 2 * (slots_[0].count() + slot);
  }
  std::array<float, 2> theta(std::size_t off) const noexcept { return {params_[off], params_[off + 1]}; }
  void set_theta(std::size_t off, const std::array<float, 2>& t) noexcept {
    params_[off] = t[0];
    params_[off + 1] = t[1];
  }
  expected<Q> make(operand which, const std::array<float, 2>& t) const noexcept {
    return traits::make(t, which, which == operand::weights ? options_.weight_bounds : options_.activation_bounds);
  }
  int snap(std::size_t layer, operand which, int bits) const noexcept {
    for (int w : widths_[index(which)][layer])
      if (w >= bits) return w;
    return widths_[index(which)][layer].back();
  }

  // One budget as a penalty: its network cost is aggregate_l term_l / normalizer with
  // term_l = k_l · b_w^ew · b_a^ea (k_l from the layer's shape and the model's unit).
  struct penalty {
    std::size_t constraint = 0;
    enum class shape : std::uint8_t { weights, activations, macs } coef = shape::weights;
    bool ew = false, ea = false, peak = false;
    double per_unit = 1.0;    // bits per unit of the model (1 or 8)
    double normalizer = 1.0;  // the constraint's normalizer
    double budget = 0.0;      // S0, in the model's (normalized) unit
    double lambda = 0.0;
    double unit = 1.0;        // u_c, in the model's (normalized) unit
  };

  double coefficient(const penalty& p, std::size_t l) const noexcept {
    const layer_info& li = problem_.layer(l);
    const double n = p.coef == penalty::shape::weights ? static_cast<double>(li.weights)
                     : p.coef == penalty::shape::activations ? static_cast<double>(li.activations)
                                                             : static_cast<double>(li.macs);
    return n / p.per_unit;
  }
  double term(const penalty& p, std::size_t l, bit_pair b) const noexcept {
    return coefficient(p, l) * (p.ew ? b.w : 1) * (p.ea ? b.a : 1);
  }
  double excess(const penalty& p) const noexcept {
    double s = 0.0;
    for (std::size_t l = 0; l < this->layer_count(); ++l) {
      const double t = term(p, l, current_bits(l));
      s = p.peak ? (t > s ? t : s) : s + t;
    }
    const double e = (s / p.normalizer - p.budget) / p.unit;
    return e > 0.0 ? e : 0.0;
  }

  // Recognises each budget of the problem by its cost model's name.
  status read_penalties() {
    for (std::size_t c = 0; c < problem_.constraint_count(); ++c) {
      const constraint_info& ci = problem_.constraint(c);
      const char* n = ci.name.c_str();
      penalty p;
      p.constraint = c;
      p.normalizer = ci.normalizer;
      p.budget = ci.budget_value;
      bool memory = true;
      auto is = [n](const char* s) { return std::strcmp(n, s) == 0; };
      if (is("weight_size_bits") || is("weight_size_bytes")) {
        p.coef = penalty::shape::weights, p.ew = true, p.lambda = options_.lambda_weights;
        p.per_unit = is("weight_size_bits") ? 1.0 : 8.0;
      } else if (is("activation_memory_sum_bits") || is("activation_memory_sum_bytes") ||
                 is("activation_memory_peak_bits") || is("activation_memory_peak_bytes")) {
        p.coef = penalty::shape::activations, p.ea = true, p.lambda = options_.lambda_activations;
        p.per_unit = (is("activation_memory_sum_bits") || is("activation_memory_peak_bits")) ? 1.0 : 8.0;
        p.peak = ci.aggregation == cost_aggregation::max;
      } else if (is("parameter_weighted_average_bits")) {
        p.coef = penalty::shape::weights, p.ew = true, p.lambda = options_.lambda_weights, memory = false;
      } else if (is("bitops")) {
        p.coef = penalty::shape::macs, p.ew = p.ea = true, p.lambda = options_.lambda_bitops, memory = false;
      } else {
        return status::failure(errc::unsupported,
                               "uhlich: constraint '%s' has no differentiable form here: Uhlich et al. learn bits "
                               "under weight-size and activation-memory budgets (mpq also takes average weight "
                               "bits and BitOps)",
                               n);
      }
      if (memory && options_.scale == uhlich_penalty_scale::kilobytes) {
        p.unit = 8192.0 / p.per_unit / p.normalizer;  // 1 KB in the model's unit
      } else {
        if (!(p.budget > 0.0))
          return status::failure(errc::invalid_argument,
                                 "uhlich: constraint '%s' has budget %g: a penalty relative to its budget needs a "
                                 "budget > 0",
                                 n, p.budget);
        p.unit = p.budget;
      }
      penalties_.push_back(p);
    }
    return {};
  }

  options_type options_{};
  detail::layer_widths widths_;
  std::array<detail::operand_slots, 2> slots_;
  std::vector<penalty> penalties_;
  best_feasible_checkpoint best_;
};

}  // namespace mpq
