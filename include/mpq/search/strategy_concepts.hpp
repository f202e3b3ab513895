// The SearchStrategy concept: a one-shot strategy that turns a problem into an allocation, with the
// same inputs and the same result type for every strategy.
#pragma once

#include <concepts>

#include "mpq/core/error.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"

namespace mpq {

/// @brief Solves a problem in one call: try_solve(p, out) fills `out` and returns ok, or returns
/// the error (errc::infeasible with each constraint's smallest achievable cost, ...) and leaves
/// `out` unchanged; solve(p) returns the result or throws. The object may keep a workspace, so it
/// is taken by non-const reference and reused across calls.
/// Satisfied by ilp_search, greedy_search, convex_search, exhaustive_search.
template <class S>
concept SearchStrategy = requires(S& s, const problem& p, search_result& out) {
  { s.name() } -> std::convertible_to<const char*>;
  { s.try_solve(p, out) } -> std::same_as<status>;
  { s.solve(p) } -> std::same_as<search_result>;
};

namespace detail {
/// The throwing solve() of a strategy, written once: try_solve, then raise on failure (CRTP).
template <class Derived>
struct throwing_solve {
  search_result solve(const problem& p) {
    search_result r;
    throw_if_error(static_cast<Derived&>(*this).try_solve(p, r));
    return r;
  }
};
}  // namespace detail

}  // namespace mpq
