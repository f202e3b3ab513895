// What every training strategy shares: the problem it trains for, the flat parameter and gradient
// buffers, the step counter, parameter slots shared by tied layers, and turning a derived
// allocation into the search_result the one-shot strategies return.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/search/mckp.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"
#include "mpq/search/training/quantizer_branch.hpp"

namespace mpq {

namespace detail {

inline constexpr std::size_t no_slot = static_cast<std::size_t>(-1);

/// The distinct weight widths and activation widths among layer l's candidates, ascending.
inline void candidate_widths(const problem& p, std::size_t l, std::vector<int>& w, std::vector<int>& a) {
  w.clear();
  a.clear();
  for (const bit_pair& c : p.candidates(l)) {
    if (std::find(w.begin(), w.end(), c.w) == w.end()) w.push_back(c.w);
    if (std::find(a.begin(), a.end(), c.a) == a.end()) a.push_back(c.a);
  }
  std::sort(w.begin(), w.end());
  std::sort(a.begin(), a.end());
}

/// Ok when layer l's candidates are exactly the grid (weight widths) × (activation widths), which
/// strategies with separate weight and activation choices (EdMIPS) need.
inline status check_full_grid(const problem& p, std::size_t l, const char* who) {
  std::vector<int> w, a;
  candidate_widths(p, l, w, a);
  if (p.candidates(l).size() == w.size() * a.size()) return {};  // candidates are distinct pairs
  return status::failure(errc::invalid_argument,
                         "%s: layer %zu '%s' has %zu candidates, not the full grid of its %zu weight x %zu "
                         "activation widths: weight and activation bits are chosen separately",
                         who, l, p.layer(l).name.c_str(), p.candidates(l).size(), w.size(), a.size());
}

/// Per operand (0: weights, 1: activations) and layer, the candidate widths, ascending.
using layer_widths = std::array<std::vector<std::vector<int>>, 2>;

/// Reads every layer's candidate widths into `out`; searched (not fixed) layers must offer the full
/// grid of their weight × activation widths (strategies that choose the two separately).
inline status read_grid_widths(const problem& p, const char* who, layer_widths& out) {
  const std::size_t L = p.layer_count();
  out[0].resize(L);
  out[1].resize(L);
  for (std::size_t l = 0; l < L; ++l) {
    if (!p.is_fixed(l)) MPQ_TRY(check_full_grid(p, l, who));
    candidate_widths(p, l, out[0][l], out[1][l]);
  }
  return {};
}

/// Parameter slots per operand: layers joined by a tie that covers the operand share a slot (so
/// they learn the same bits); fixed layers (one candidate) get no_slot when `skip_fixed`.
struct operand_slots {
  std::vector<std::size_t> of_layer;  // per layer: its slot, or no_slot
  std::vector<std::size_t> owner;     // per slot: its first layer
  std::size_t count() const noexcept { return owner.size(); }
};

inline operand_slots make_slots(const problem& p, operand which, bool skip_fixed) {
  const std::size_t L = p.layer_count();
  std::vector<std::size_t> parent(L);
  for (std::size_t l = 0; l < L; ++l) parent[l] = l;
  auto find = [&](std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (const layer_tie& t : p.ties()) {
    const bool covers = t.kind == tie_kind::both || (which == operand::weights ? t.kind == tie_kind::weights
                                                                                : t.kind == tie_kind::activations);
    if (!covers) continue;
    const std::size_t a = find(t.first), b = find(t.second);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
  operand_slots s;
  s.of_layer.assign(L, no_slot);
  std::vector<std::size_t> slot_of_root(L, no_slot);
  for (std::size_t l = 0; l < L; ++l) {
    if (skip_fixed && p.is_fixed(l)) continue;
    const std::size_t r = find(l);
    if (slot_of_root[r] == no_slot) {
      slot_of_root[r] = s.owner.size();
      s.owner.push_back(l);
    }
    s.of_layer[l] = slot_of_root[r];
  }
  return s;
}

/// Ok when every layer sharing a slot offers the same widths of that operand as the slot's owner
/// (and no fixed layer is tied to a searched one).
inline status check_slot_widths(const problem& p, const operand_slots& s, operand which, const char* who) {
  std::vector<int> w0, a0, w1, a1;
  for (std::size_t l = 0; l < p.layer_count(); ++l) {
    if (s.of_layer[l] == no_slot) continue;
    const std::size_t o = s.owner[s.of_layer[l]];
    if (o == l) continue;
    candidate_widths(p, o, w0, a0);
    candidate_widths(p, l, w1, a1);
    if ((which == operand::weights ? w0 != w1 : a0 != a1))
      return status::failure(errc::invalid_argument,
                             "%s: tied layers %zu '%s' and %zu '%s' offer different %s widths: tied layers must "
                             "have the same candidates",
                             who, o, p.layer(o).name.c_str(), l, p.layer(l).name.c_str(),
                             which == operand::weights ? "weight" : "activation");
  }
  for (const layer_tie& t : p.ties())
    if (p.is_fixed(t.first) != p.is_fixed(t.second))
      return status::failure(errc::invalid_argument, "%s: layer %zu is fixed but tied to layer %zu, which is searched",
                             who, p.is_fixed(t.first) ? t.first : t.second,
                             p.is_fixed(t.first) ? t.second : t.first);
  return {};
}

/// Ok when the problem has at least one layer.
inline status check_has_layers(const problem& p, const char* who) {
  if (p.layer_count() > 0) return {};
  return status::failure(errc::invalid_argument, "%s: the problem has no layers", who);
}

/// Fills `out` around an allocation a training strategy derived: the allocation must be one of the
/// problem's (candidates, ties) and meet every budget (errc::infeasible naming the first budget it
/// breaks, its use and its budget). `scores` is the strategy's own per-candidate objective (flat,
/// problem candidate order) reported as search_result::objective, or empty for the problem's
/// objective (0 when it has none). No optimality is claimed (lower_bound = -inf); nodes = training steps.
inline status derive_result(const problem& p, std::span<const bit_pair> bits, std::span<const double> scores,
                            const char* strategy, std::uint64_t steps, search_result& out) {
  MPQ_TRY(p.check_allocation(bits));
  for (std::size_t c = 0; c < p.constraint_count(); ++c) {
    const double use = p.cost(c, bits);
    if (!p.within_budget(c, use))
      return status::failure(errc::infeasible,
                             "%s: the derived allocation breaks '%s': it uses %.6g, the budget is %.6g (train "
                             "with a stronger penalty, or keep an earlier checkpoint that met it)",
                             strategy, p.constraint(c).name.c_str(), use, p.constraint(c).budget_value);
  }
  problem q = p;
  if (!scores.empty()) {
    MPQ_TRY(q.try_set_objective_values(scores));
  } else if (!q.has_objective()) {
    const std::vector<double> zeros(q.candidate_count(), 0.0);
    MPQ_TRY(q.try_set_objective_values(zeros));
  }
  mckp k;
  mckp_workspace ws;
  MPQ_TRY(compile(q, k, ws));
  search_result r;
  r.bits.assign(bits.begin(), bits.end());
  fill_result(q, k, r);
  r.strategy = strategy;
  r.lower_bound = -std::numeric_limits<double>::infinity();
  r.proven_optimal = false;
  r.nodes = steps;
  out = std::move(r);
  return {};
}

/// Ok when `span` holds `n` values (a gradient buffer of a strategy with n parameters).
inline status check_parameter_buffer(const char* who, std::size_t size, std::size_t n) {
  if (size == n) return {};
  return status::failure(errc::shape_mismatch, "%s: the gradient buffer has %zu values: it needs one per parameter (%zu)",
                         who, size, n);
}

/// Ok when `layer` indexes the problem's layers.
inline status check_layer_index(const char* who, std::size_t layer, std::size_t layers) {
  if (layer < layers) return {};
  return status::failure(errc::out_of_range, "%s: layer %zu of %zu", who, layer, layers);
}

/// Ok when `layer` is one of the problem's and y has x's size: what every try_forward checks.
inline status check_forward(const char* who, std::size_t layer, std::size_t layers, std::size_t x, std::size_t y) {
  MPQ_TRY(check_layer_index(who, layer, layers));
  return check_same_size(who, "x", x, "y", y);
}

/// What every try_backward checks: the layer; grad_y, and grad_x unless it is empty, of x's size; a
/// gradient buffer of one value per parameter.
inline status check_backward(const char* who, std::size_t layer, std::size_t layers, std::size_t x, std::size_t grad_y,
                             std::size_t grad_x, std::size_t grad_theta, std::size_t parameters) {
  MPQ_TRY(check_layer_index(who, layer, layers));
  MPQ_TRY(check_same_size(who, "grad_y", grad_y, "x", x));
  if (grad_x != 0) MPQ_TRY(check_same_size(who, "grad_x", grad_x, "x", x));
  return check_parameter_buffer(who, grad_theta, parameters);
}

/// The float path of an operand (widths 16/32): identity for weights, ReLU for (post-ReLU) inputs.
inline quantizer_branch float_branch(operand which) noexcept {
  return which == operand::weights ? quantizer_branch::identity() : quantizer_branch::relu();
}
inline void float_forward(operand which, std::span<const float> x, std::span<float> y) noexcept {
  const quantizer_branch f = float_branch(which);
  for (std::size_t k = 0; k < x.size(); ++k) y[k] = f.value(x[k]);
}
/// grad_x = grad_y · ∂f/∂x (nothing when grad_x is empty).
inline void float_backward(operand which, std::span<const float> x, std::span<const float> grad_y,
                           std::span<float> grad_x) noexcept {
  const quantizer_branch f = float_branch(which);
  if (!grad_x.empty())
    for (std::size_t k = 0; k < x.size(); ++k) grad_x[k] = grad_y[k] * f.gradient(x[k]).grad;
}

/// Ok unless a parameter is NaN or infinite after an optimizer step (a diverged run).
inline status check_finite_parameters(const char* who, std::span<const float> params, std::uint64_t steps) {
  for (std::size_t i = 0; i < params.size(); ++i)
    if (!std::isfinite(params[i]))
      return status::failure(errc::not_finite, "%s: parameter %zu = %g after step %llu: training diverged", who, i,
                             static_cast<double>(params[i]), static_cast<unsigned long long>(steps));
  return {};
}

/// The members every training strategy shares (CRTP): the problem, the parameter and gradient
/// buffers (sized once, at construction, so hosts may alias them), the step counter, and the
/// convenience forms of the checked hooks. Derived provides name, try_regularizer_gradient and
/// try_backward with an explicit gradient buffer.
template <class Derived>
class training_base {
 public:
  std::span<float> parameters() noexcept { return params_; }
  std::span<const float> parameters() const noexcept { return params_; }
  std::span<float> gradients() noexcept { return grads_; }
  std::span<const float> gradients() const noexcept { return grads_; }
  std::size_t parameter_count() const noexcept { return params_.size(); }
  void zero_gradients() noexcept { std::fill(grads_.begin(), grads_.end(), 0.0f); }

  std::size_t layer_count() const noexcept { return problem_.layer_count(); }
  /// @brief The problem the strategy trains for (a copy made at construction).
  const problem& search_problem() const noexcept { return problem_; }
  /// @brief Completed optimizer steps (try_finish_update calls).
  std::uint64_t steps() const noexcept { return steps_; }

  /// @brief The backward pass of layer `layer`, accumulating ∂L/∂θ into gradients().
  status try_backward(std::size_t layer, operand which, std::span<const float> x, std::span<const float> grad_y,
                      std::span<float> grad_x) {
    return self().try_backward(layer, which, x, grad_y, grad_x, std::span<float>(grads_));
  }
  /// @brief Adds ∂R/∂θ of the strategy's own term to gradients().
  status try_add_regularizer_gradients() { return self().try_regularizer_gradient(std::span<float>(grads_)); }
  void add_regularizer_gradients() { throw_if_error(try_add_regularizer_gradients()); }

  // Throwing forms of the hooks.
  void forward(std::size_t layer, operand which, std::span<const float> x, std::span<float> y) {
    throw_if_error(self().try_forward(layer, which, x, y));
  }
  void backward(std::size_t layer, operand which, std::span<const float> x, std::span<const float> grad_y,
                std::span<float> grad_x) {
    throw_if_error(try_backward(layer, which, x, grad_y, grad_x));
  }
  void prepare_update() { throw_if_error(self().try_prepare_update()); }
  void finish_update() { throw_if_error(self().try_finish_update()); }
  search_result derive() {
    search_result r;
    throw_if_error(self().try_derive(r));
    return r;
  }

 protected:
  training_base() = default;
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
  const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
  void allocate_parameters(std::size_t n, float value = 0.0f) {
    params_.assign(n, value);
    grads_.assign(n, 0.0f);
  }

  problem problem_;
  std::vector<float> params_, grads_;
  std::uint64_t steps_ = 0;
};

}  // namespace detail

}  // namespace mpq
