// The static_assert wall of the search concepts (cost/cost_concepts.hpp: CostModel;
// search/sensitivity_concepts.hpp: SensitivityModel; search/strategy_concepts.hpp: SearchStrategy):
// every model passes, every named non-model is rejected.
#include <cstddef>

#include "mpq/cost/activation_memory.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/bitops.hpp"
#include "mpq/cost/cost_concepts.hpp"
#include "mpq/cost/latency_table.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/search/convex.hpp"
#include "mpq/search/exhaustive.hpp"
#include "mpq/search/greedy.hpp"
#include "mpq/search/ilp.hpp"
#include "mpq/search/sensitivity_concepts.hpp"
#include "mpq/search/sensitivity_fisher.hpp"
#include "mpq/search/sensitivity_limpq.hpp"
#include "mpq/search/sensitivity_mse.hpp"
#include "mpq/search/sensitivity_synthetic.hpp"
#include "mpq/search/sensitivity_tables.hpp"
#include "mpq/search/strategy_concepts.hpp"

namespace mpq_static {
int& wall_count();
}

namespace {
using namespace mpq;

// ---- models ---------------------------------------------------------------------------------------
template <class... M>
constexpr bool all_cost_models = (CostModel<M> && ...);
static_assert(all_cost_models<bitops, weight_size, parameter_weighted_average_bits, mean_layer_bits,
                              activation_memory, latency_table>);

template <class... S>
constexpr bool all_sensitivity_models = (SensitivityModel<S> && ...);
using limpq_like = combined_sensitivity<per_bit_sensitivity, per_bit_sensitivity>;
static_assert(all_sensitivity_models<weight_quantization_error, hawq_sensitivity, limpq_indicators,
                                     fisher_sensitivity, sensitivity_table, per_bit_sensitivity, limpq_like,
                                     synthetic_sensitivity>);

template <class... S>
constexpr bool all_strategies = (SearchStrategy<S> && ...);
static_assert(all_strategies<ilp_search, greedy_search, convex_search, exhaustive_search>);

// A user's own cost model needs name, aggregation and layer_cost, nothing else.
struct energy_model {
  const char* name() const { return "energy"; }
  cost_aggregation aggregation() const { return cost_aggregation::sum; }
  double layer_cost(const layer_info& l, std::size_t, bit_pair b) const { return 1e-12 * l.macs * b.w * b.a; }
};
static_assert(CostModel<energy_model>);

// ---- non-models -----------------------------------------------------------------------------------
struct cost_without_aggregation {
  const char* name() const { return "x"; }
  double layer_cost(const layer_info&, std::size_t, bit_pair) const { return 0.0; }
};
struct cost_with_bool_aggregation {
  const char* name() const { return "x"; }
  bool aggregation() const { return true; }
  double layer_cost(const layer_info&, std::size_t, bit_pair) const { return 0.0; }
};
static_assert(!CostModel<cost_without_aggregation> && !CostModel<cost_with_bool_aggregation> && !CostModel<int>);
// A sensitivity model is not a cost model (no aggregation), and a cost model not a sensitivity.
static_assert(!CostModel<synthetic_sensitivity> && !SensitivityModel<bitops>);

struct sensitivity_without_name {
  double sensitivity(const layer_info&, std::size_t, bit_pair) const { return 0.0; }
};
struct sensitivity_of_index_only {
  const char* name() const { return "x"; }
  double sensitivity(std::size_t) const { return 0.0; }
};
static_assert(!SensitivityModel<sensitivity_without_name> && !SensitivityModel<sensitivity_of_index_only>);

struct strategy_without_checked_form {
  const char* name() const { return "x"; }
  search_result solve(const problem&) { return {}; }
};
struct strategy_returning_bool {
  const char* name() const { return "x"; }
  bool try_solve(const problem&, search_result&) { return true; }
  search_result solve(const problem&) { return {}; }
};
static_assert(!SearchStrategy<strategy_without_checked_form> && !SearchStrategy<strategy_returning_bool>);
static_assert(!SearchStrategy<int>);

const bool registered = (++mpq_static::wall_count(), true);
}  // namespace
