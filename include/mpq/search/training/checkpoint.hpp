// "Keep the best checkpoint that meets the constraints" (Uhlich et al.'s model selection, §2b step 5):
// the allocation, the strategy's parameters and the host's validation score of the best state seen.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/search/problem.hpp"

namespace mpq {

/// @brief A snapshot a training strategy kept: its allocation, its parameters, the host's score.
struct training_checkpoint {
  std::vector<bit_pair> bits;
  std::vector<float> parameters;
  double score = 0.0;
  std::uint64_t step = 0;
};

/// @brief The best state (highest score: validation accuracy, or minus a loss) among those whose
/// allocation meets every budget of a problem. States that break a budget are never kept, so the
/// kept allocation is always a valid answer to the problem.
class best_feasible_checkpoint {
 public:
  /// @brief Checked: offer a state. Keeps it when `bits` is an allocation of `p` that meets every
  /// budget and `score` beats the kept one (the first feasible state is always kept). Returns
  /// whether it was kept, so the host saves its own weights exactly then. A NaN score is an error.
  expected<bool> try_offer(const problem& p, std::span<const bit_pair> bits, std::span<const float> parameters,
                           double score, std::uint64_t step) {
    if (std::isnan(score))
      return status::failure(errc::not_finite, "checkpoint: score = NaN at step %llu: scores must be numbers",
                             static_cast<unsigned long long>(step));
    if (!meets_budgets(p, bits)) return false;
    if (has_ && !(score > best_.score)) return false;
    best_.bits.assign(bits.begin(), bits.end());
    best_.parameters.assign(parameters.begin(), parameters.end());
    best_.score = score;
    best_.step = step;
    has_ = true;
    return true;
  }

  /// @brief True when `bits` is an allocation of `p` (candidates, ties) within every budget.
  static bool meets_budgets(const problem& p, std::span<const bit_pair> bits) {
    if (!p.check_allocation(bits).ok()) return false;
    for (std::size_t c = 0; c < p.constraint_count(); ++c)
      if (!p.within_budget(c, p.cost(c, bits))) return false;
    return true;
  }

  bool has_value() const noexcept { return has_; }
  /// @brief The kept state. Precondition (asserted): has_value().
  const training_checkpoint& best() const noexcept {
    MPQ_ASSERT(has_);
    return best_;
  }
  void reset() noexcept { has_ = false; }

 private:
  training_checkpoint best_;
  bool has_ = false;
};

}  // namespace mpq
