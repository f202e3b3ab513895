// The bitwidth-search problem: layers with candidate (W,A) pairs, fixed layers, ties, any number of
// constraints (cost model + budget) and the objective table every strategy minimizes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/cost/cost_concepts.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/search/sensitivity_concepts.hpp"

namespace mpq {

/// @brief How a constraint's budget is given; resolved to a number when the constraint is added.
///
/// - `absolute(v)`: the network cost must be <= v (in the cost model's unit).
/// - `uniform(w, a)`: the cost the network would have with every layer at (w, a), fixed layers
///   (a single candidate) at their own pair: "as cheap as uniform W4A4" (LIMPQ's --wb/--ab).
/// - `between_low_high(r)`: low + r·(high − low), low/high the cost with every layer at its cheapest
///   / dearest candidate (HAWQ-V3's r between all-4-bit and all-8-bit, algorithms.md §1.5).
struct budget {
  enum class kind : std::uint8_t { absolute, uniform, between_low_high };
  kind how = kind::absolute;
  double value = 0.0;   // absolute: the budget; between_low_high: r
  bit_pair bits{};      // uniform: the pair

  static constexpr budget absolute(double v) noexcept { return {kind::absolute, v, {}}; }
  static constexpr budget uniform(int w, int a) noexcept { return {kind::uniform, 0.0, {w, a}}; }
  static constexpr budget uniform(bit_pair b) noexcept { return {kind::uniform, 0.0, b}; }
  static constexpr budget between_low_high(double r) noexcept { return {kind::between_low_high, r, {}}; }
};

/// @brief Which bits two tied layers must share.
enum class tie_kind : std::uint8_t { both, weights, activations };

/// @brief Two layers that must share bits (e.g. a residual block's shortcut conv and the parallel
/// main-path conv reading the same input, HAWQ-V3).
struct layer_tie {
  std::size_t first = 0;
  std::size_t second = 0;
  tie_kind kind = tie_kind::both;
};

/// @brief What the problem knows of a constraint after it was added.
struct constraint_info {
  std::string name;                                  // the cost model's name()
  cost_aggregation aggregation = cost_aggregation::sum;
  budget spec{};                                     // as given
  double budget_value = 0.0;                         // resolved, in the model's (normalized) unit
  double normalizer = 1.0;                           // network cost = aggregate(layer costs) / normalizer
};

/// @brief A bitwidth-allocation problem. Build it in this order: layers (add_layer, fix_layer),
/// then constraints (add_constraint) and the objective (set_objective), ties at any time. The
/// objective may be replaced any number of times (a training loop re-solving every T steps does
/// exactly that, without allocating). Every mutating call validates first and changes nothing
/// when it fails.
class problem {
 public:
  problem() = default;

  // ---- layers -------------------------------------------------------------------------------

  /// @brief Checked: add a layer whose candidates are every (w, a) with w in `weight_bits` and a in
  /// `activation_bits`; returns its index.
  expected<std::size_t> try_add_layer(layer_info layer, std::span<const int> weight_bits,
                                      std::span<const int> activation_bits) {
    std::vector<bit_pair> pairs;
    pairs.reserve(weight_bits.size() * activation_bits.size());
    for (int w : weight_bits)
      for (int a : activation_bits) pairs.push_back({w, a});
    return try_add_layer(std::move(layer), pairs);
  }

  /// @brief Checked: add a layer with an explicit list of (W,A) candidates; returns its index.
  expected<std::size_t> try_add_layer(layer_info layer, std::span<const bit_pair> pairs) {
    MPQ_TRY(check_structure_open("add_layer"));
    if (pairs.empty())
      return status::failure(errc::invalid_argument, "add_layer '%s': the layer needs at least one candidate",
                             layer.name.c_str());
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      MPQ_TRY(check_candidate_bits(pairs[i].w, "add_layer: weight bits"));
      MPQ_TRY(check_candidate_bits(pairs[i].a, "add_layer: activation bits"));
      for (std::size_t j = 0; j < i; ++j)
        if (pairs[i] == pairs[j])
          return status::failure(errc::invalid_argument,
                                 "add_layer '%s': candidate (W%d, A%d) is listed twice", layer.name.c_str(),
                                 pairs[i].w, pairs[i].a);
    }
    layers_.push_back(std::move(layer));
    offsets_.push_back(offsets_.back() + pairs.size());
    candidates_.insert(candidates_.end(), pairs.begin(), pairs.end());
    objective_.resize(candidates_.size(), 0.0);
    return layers_.size() - 1;
  }

  std::size_t add_layer(layer_info layer, std::span<const int> weight_bits, std::span<const int> activation_bits) {
    return try_add_layer(std::move(layer), weight_bits, activation_bits).value();
  }
  std::size_t add_layer(layer_info layer, std::span<const bit_pair> pairs) {
    return try_add_layer(std::move(layer), pairs).value();
  }
  std::size_t add_layer(layer_info layer, std::initializer_list<bit_pair> pairs) {
    return try_add_layer(std::move(layer), std::span<const bit_pair>(pairs.begin(), pairs.size())).value();
  }

  /// @brief Checked: make `bits` the layer's only candidate (e.g. the first and last layer at 8 bits).
  status try_fix_layer(std::size_t layer, bit_pair bits) {
    MPQ_TRY(check_structure_open("fix_layer"));
    MPQ_TRY(check_layer(layer, "fix_layer"));
    MPQ_TRY(check_candidate_bits(bits.w, "fix_layer: weight bits"));
    MPQ_TRY(check_candidate_bits(bits.a, "fix_layer: activation bits"));
    const std::size_t b = offsets_[layer], e = offsets_[layer + 1];
    candidates_.erase(candidates_.begin() + static_cast<std::ptrdiff_t>(b + 1),
                      candidates_.begin() + static_cast<std::ptrdiff_t>(e));
    candidates_[b] = bits;
    for (std::size_t l = layer + 1; l < offsets_.size(); ++l) offsets_[l] -= e - b - 1;
    objective_.resize(candidates_.size(), 0.0);
    return {};
  }
  void fix_layer(std::size_t layer, bit_pair bits) { throw_if_error(try_fix_layer(layer, bits)); }

  /// @brief Checked: layers `first` and `second` must take the same bits (both, or weights only,
  /// or activations only). Ties are transitive.
  status try_tie(std::size_t first, std::size_t second, tie_kind kind = tie_kind::both) {
    MPQ_TRY(check_layer(first, "tie"));
    MPQ_TRY(check_layer(second, "tie"));
    if (first == second)
      return status::failure(errc::invalid_argument, "tie: layer %zu is tied to itself", first);
    ties_.push_back({first, second, kind});
    return {};
  }
  void tie(std::size_t first, std::size_t second, tie_kind kind = tie_kind::both) {
    throw_if_error(try_tie(first, second, kind));
  }

  // ---- constraints --------------------------------------------------------------------------

  /// @brief Checked: add "network cost under `model` <= budget"; returns the constraint's index.
  /// Evaluates the model for every layer and candidate now (the cost table is what strategies use).
  template <CostModel M>
  expected<std::size_t> try_add_constraint(M model, budget b) {
    if (layers_.empty())
      return status::failure(errc::invalid_argument, "add_constraint '%s': add the layers first",
                             static_cast<const char*>(model.name()));
    MPQ_TRY(cost_check(model, std::span<const layer_info>(layers_)));
    constraint_data c;
    c.info.name = model.name();
    c.info.aggregation = model.aggregation();
    c.info.normalizer = cost_normalizer(model, std::span<const layer_info>(layers_));
    if (!(c.info.normalizer > 0.0) || !std::isfinite(c.info.normalizer))
      return status::failure(errc::invalid_argument, "add_constraint '%s': normalizer = %g: must be finite and > 0",
                             c.info.name.c_str(), c.info.normalizer);
    c.evaluate = [model](const layer_info& l, std::size_t i, bit_pair p) {
      return static_cast<double>(model.layer_cost(l, i, p));
    };
    c.costs.resize(candidates_.size());
    for (std::size_t l = 0; l < layers_.size(); ++l)
      for (std::size_t j = offsets_[l]; j < offsets_[l + 1]; ++j) {
        const double v = c.evaluate(layers_[l], l, candidates_[j]);
        if (!(v >= 0.0) || !std::isfinite(v))
          return status::failure(errc::invalid_argument,
                                 "add_constraint '%s': layer %zu '%s' at (W%d, A%d): cost = %g: costs must be "
                                 "finite and >= 0",
                                 c.info.name.c_str(), l, layers_[l].name.c_str(), candidates_[j].w,
                                 candidates_[j].a, v);
        c.costs[j] = v;
      }
    auto value = resolve_budget(c, b);
    if (!value) return value.error();
    c.info.spec = b;
    c.info.budget_value = *value;
    constraints_.push_back(std::move(c));
    return constraints_.size() - 1;
  }
  template <CostModel M>
  std::size_t add_constraint(M model, budget b) {
    return try_add_constraint(std::move(model), b).value();
  }

  /// @brief Checked: replace constraint `index`'s budget (e.g. a schedule that tightens it).
  status try_set_budget(std::size_t index, budget b) {
    if (index >= constraints_.size())
      return status::failure(errc::out_of_range, "set_budget: constraint %zu of %zu", index, constraints_.size());
    auto value = resolve_budget(constraints_[index], b);
    if (!value) return value.error();
    constraints_[index].info.spec = b;
    constraints_[index].info.budget_value = *value;
    return {};
  }
  void set_budget(std::size_t index, budget b) { throw_if_error(try_set_budget(index, b)); }

  // ---- objective ----------------------------------------------------------------------------

  /// @brief Checked: the objective becomes Σ_l s.sensitivity(layer_l, l, bits_l). Evaluates the
  /// model for every layer and candidate; allocation-free once the problem's shape is set.
  template <SensitivityModel S>
  status try_set_objective(const S& s) {
    if (layers_.empty())
      return status::failure(errc::invalid_argument, "set_objective: add the layers first");
    // Validate everything before writing anything (a failed call changes nothing).
    for (std::size_t l = 0; l < layers_.size(); ++l)
      for (std::size_t j = offsets_[l]; j < offsets_[l + 1]; ++j) {
        const double v = static_cast<double>(s.sensitivity(layers_[l], l, candidates_[j]));
        if (std::isnan(v) || v == -std::numeric_limits<double>::infinity())
          return status::failure(errc::not_finite,
                                 "set_objective '%s': layer %zu '%s' at (W%d, A%d): sensitivity = %g: must be "
                                 "finite (or +inf to forbid the choice)",
                                 static_cast<const char*>(s.name()), l, layers_[l].name.c_str(), candidates_[j].w,
                                 candidates_[j].a, v);
      }
    for (std::size_t l = 0; l < layers_.size(); ++l)
      for (std::size_t j = offsets_[l]; j < offsets_[l + 1]; ++j)
        objective_[j] = static_cast<double>(s.sensitivity(layers_[l], l, candidates_[j]));
    objective_name_.assign(static_cast<const char*>(s.name()));
    has_objective_ = true;
    structure_locked_ = true;
    return {};
  }
  template <SensitivityModel S>
  void set_objective(const S& s) {
    throw_if_error(try_set_objective(s));
  }

  /// @brief Checked: set the objective table directly, one value per candidate in layer order
  /// (candidates(0) first); `values.size()` must equal candidate_count().
  status try_set_objective_values(std::span<const double> values) {
    if (values.size() != candidates_.size())
      return status::failure(errc::shape_mismatch, "set_objective_values: %zu values for %zu candidates",
                             values.size(), candidates_.size());
    for (std::size_t j = 0; j < values.size(); ++j)
      if (std::isnan(values[j]) || values[j] == -std::numeric_limits<double>::infinity())
        return status::failure(errc::not_finite,
                               "set_objective_values: value %zu = %g: must be finite (or +inf to forbid)", j,
                               values[j]);
    std::copy(values.begin(), values.end(), objective_.begin());
    objective_name_.assign("table");
    has_objective_ = !layers_.empty();
    structure_locked_ = true;
    return {};
  }

  // ---- reading ------------------------------------------------------------------------------

  std::size_t layer_count() const noexcept { return layers_.size(); }
  std::span<const layer_info> layers() const noexcept { return layers_; }
  const layer_info& layer(std::size_t l) const noexcept { return layers_[l]; }
  /// @brief Layer l's candidates, in the order given (a fixed layer has exactly one).
  std::span<const bit_pair> candidates(std::size_t l) const noexcept {
    return std::span<const bit_pair>(candidates_).subspan(offsets_[l], offsets_[l + 1] - offsets_[l]);
  }
  /// @brief Every layer's candidates in one flat table (layer order; the index the per-candidate
  /// tables use).
  std::span<const bit_pair> candidate_table() const noexcept { return candidates_; }
  /// @brief Index of layer l's first candidate in the flat per-candidate tables.
  std::size_t candidate_offset(std::size_t l) const noexcept { return offsets_[l]; }
  std::size_t candidate_count() const noexcept { return candidates_.size(); }
  bool is_fixed(std::size_t l) const noexcept { return offsets_[l + 1] - offsets_[l] == 1; }
  std::span<const layer_tie> ties() const noexcept { return ties_; }

  std::size_t constraint_count() const noexcept { return constraints_.size(); }
  const constraint_info& constraint(std::size_t c) const noexcept { return constraints_[c].info; }
  /// @brief Layer-term cost table of constraint c, one value per candidate (flat, layer order),
  /// before the normalizer.
  std::span<const double> cost_table(std::size_t c) const noexcept { return constraints_[c].costs; }
  /// @brief The budget of constraint c in the same unit as cost_table (budget_value · normalizer).
  double raw_budget(std::size_t c) const noexcept {
    return constraints_[c].info.budget_value * constraints_[c].info.normalizer;
  }

  bool has_objective() const noexcept { return has_objective_; }
  const char* objective_name() const noexcept { return objective_name_.c_str(); }
  std::span<const double> objective_table() const noexcept { return objective_; }

  /// @brief Checked: index of `bits` among layer l's candidates.
  expected<std::size_t> try_candidate_index(std::size_t l, bit_pair bits) const {
    MPQ_TRY(check_layer(l, "candidate_index"));
    const auto c = candidates(l);
    for (std::size_t j = 0; j < c.size(); ++j)
      if (c[j] == bits) return j;
    return status::failure(errc::invalid_argument, "layer %zu '%s': (W%d, A%d) is not one of its candidates", l,
                           layers_[l].name.c_str(), bits.w, bits.a);
  }

  /// @brief Checked: every layer's bits are one of its candidates and tied layers agree.
  status check_allocation(std::span<const bit_pair> bits) const {
    if (bits.size() != layers_.size())
      return status::failure(errc::shape_mismatch, "allocation has %zu entries for %zu layers", bits.size(),
                             layers_.size());
    for (std::size_t l = 0; l < bits.size(); ++l) {
      auto j = try_candidate_index(l, bits[l]);
      if (!j) return j.error();
    }
    for (const layer_tie& t : ties_)
      if (!tie_holds(t.kind, bits[t.first], bits[t.second]))
        return status::failure(errc::invalid_argument,
                               "allocation breaks the tie of layers %zu (W%d, A%d) and %zu (W%d, A%d)", t.first,
                               bits[t.first].w, bits[t.first].a, t.second, bits[t.second].w, bits[t.second].a);
    return {};
  }

  /// @brief Network cost of an allocation under constraint c, in the model's unit, summed in layer
  /// order. Precondition: check_allocation(bits) is ok (asserted for each layer).
  double cost(std::size_t c, std::span<const bit_pair> bits) const {
    const constraint_data& k = constraints_[c];
    double acc = 0.0;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const double v = k.costs[index_of(l, bits[l])];
      acc = k.info.aggregation == cost_aggregation::sum ? acc + v : (v > acc ? v : acc);
    }
    return acc / k.info.normalizer;
  }

  /// @brief The objective of an allocation, summed in layer order (precondition as for cost()).
  double objective(std::span<const bit_pair> bits) const {
    double acc = 0.0;
    for (std::size_t l = 0; l < layers_.size(); ++l) acc += objective_[index_of(l, bits[l])];
    return acc;
  }

  /// @brief True when `use` meets constraint c's budget (the one rule every strategy's result obeys).
  bool within_budget(std::size_t c, double use) const noexcept { return use <= constraints_[c].info.budget_value; }

  /// @brief Whether bits a and b satisfy a tie of this kind.
  static constexpr bool tie_holds(tie_kind kind, bit_pair a, bit_pair b) noexcept {
    return tie_key(kind, a) == tie_key(kind, b);
  }

  /// @brief What a tie of this kind compares, as one number: the pair (W·64 + A), W, or A.
  static constexpr int tie_key(tie_kind kind, bit_pair b) noexcept {
    return kind == tie_kind::both ? b.w * 64 + b.a : (kind == tie_kind::weights ? b.w : b.a);
  }

 private:
  struct constraint_data {
    constraint_info info;
    std::vector<double> costs;  // per candidate
    std::function<double(const layer_info&, std::size_t, bit_pair)> evaluate;
  };

  status check_layer(std::size_t l, const char* what) const {
    if (l < layers_.size()) return {};
    return status::failure(errc::out_of_range, "%s: layer %zu of %zu", what, l, layers_.size());
  }
  status check_structure_open(const char* what) const {
    if (constraints_.empty() && !structure_locked_) return {};
    return status::failure(errc::invalid_argument,
                           "%s: layers and fixed layers must be set before constraints and the objective", what);
  }
  std::size_t index_of(std::size_t l, bit_pair bits) const {
    for (std::size_t j = offsets_[l]; j < offsets_[l + 1]; ++j)
      if (candidates_[j] == bits) return j;
    MPQ_ASSERT(false && "bits are not a candidate of the layer");
    return offsets_[l];
  }

  // Resolve a budget spec against constraint k's cost table (and its model, for uniform pairs).
  expected<double> resolve_budget(const constraint_data& k, budget b) const {
    const bool sum = k.info.aggregation == cost_aggregation::sum;
    auto combine = [sum](double acc, double v) { return sum ? acc + v : (v > acc ? v : acc); };
    double raw = 0.0;
    switch (b.how) {
      case budget::kind::absolute:
        if (!std::isfinite(b.value))
          return status::failure(errc::not_finite, "budget for '%s' = %g: must be finite", k.info.name.c_str(),
                                 b.value);
        return b.value;
      case budget::kind::uniform:
        MPQ_TRY(check_candidate_bits(b.bits.w, "uniform budget: weight bits"));
        MPQ_TRY(check_candidate_bits(b.bits.a, "uniform budget: activation bits"));
        for (std::size_t l = 0; l < layers_.size(); ++l) {
          const double v = is_fixed(l) ? k.costs[offsets_[l]] : k.evaluate(layers_[l], l, b.bits);
          if (!(v >= 0.0) || !std::isfinite(v))
            return status::failure(errc::invalid_argument,
                                   "uniform budget (W%d, A%d) for '%s': layer %zu '%s' costs %g there", b.bits.w,
                                   b.bits.a, k.info.name.c_str(), l, layers_[l].name.c_str(), v);
          raw = combine(raw, v);
        }
        return raw / k.info.normalizer;
      case budget::kind::between_low_high: {
        if (!(b.value >= 0.0 && b.value <= 1.0))
          return status::failure(errc::invalid_argument, "budget for '%s': r = %g: must lie in [0, 1]",
                                 k.info.name.c_str(), b.value);
        double low = 0.0, high = 0.0;
        for (std::size_t l = 0; l < layers_.size(); ++l) {
          double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
          for (std::size_t j = offsets_[l]; j < offsets_[l + 1]; ++j) {
            lo = k.costs[j] < lo ? k.costs[j] : lo;
            hi = k.costs[j] > hi ? k.costs[j] : hi;
          }
          low = combine(low, lo);
          high = combine(high, hi);
        }
        return (low + b.value * (high - low)) / k.info.normalizer;
      }
    }
    return status::failure(errc::invalid_argument, "budget: unknown kind");
  }

  std::vector<layer_info> layers_;
  std::vector<std::size_t> offsets_{0};  // layer l's candidates: [offsets_[l], offsets_[l+1])
  std::vector<bit_pair> candidates_;
  std::vector<double> objective_;        // per candidate
  std::vector<layer_tie> ties_;
  std::vector<constraint_data> constraints_;
  std::string objective_name_;
  bool has_objective_ = false;
  bool structure_locked_ = false;
};

}  // namespace mpq
