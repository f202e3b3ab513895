// Latency-table cost model: seconds per (layer, W bits, A bits), user-supplied or measured on mpq's
// kernels (cost/measure_latency_simd.hpp); rows are keyed by layer name, so layer order is free.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/cost/cost_concepts.hpp"
#include "mpq/cost/layer.hpp"

namespace mpq {

/// @brief A lookup table of per-layer latencies, LUT[layer][b_w][b_a] (HAQ's latency mode,
/// HAWQ-V3's latency constraint; algorithms.md §1.5-1.6). Rows are found by layer name; a layer or
/// (W,A) pair without an entry has cost NaN, which the problem model reports as an error naming the
/// layer and the pair. Entries are seconds (any unit works if budgets use the same one).
class latency_table {
 public:
  latency_table() = default;

  static constexpr const char* name() noexcept { return "latency"; }
  static constexpr cost_aggregation aggregation() noexcept { return cost_aggregation::sum; }

  /// @brief Checked: store `seconds` (finite, >= 0) for layer `layer_name` at `bits`.
  status try_set(std::string_view layer_name, bit_pair bits, double seconds) {
    MPQ_TRY(check_candidate_bits(bits.w, "latency_table: weight bits"));
    MPQ_TRY(check_candidate_bits(bits.a, "latency_table: activation bits"));
    if (!(seconds >= 0.0) || !std::isfinite(seconds))
      return status::failure(errc::invalid_argument,
                             "latency_table: layer '%.*s' at (W%d, A%d): latency = %g: must be finite and >= 0",
                             static_cast<int>(layer_name.size()), layer_name.data(), bits.w, bits.a, seconds);
    row_of(layer_name)[slot(bits)] = seconds;
    return {};
  }

  /// @brief store `seconds` for layer `layer_name` at `bits`; throws mpq::error on bad input.
  void set(std::string_view layer_name, bit_pair bits, double seconds) {
    throw_if_error(try_set(layer_name, bits, seconds));
  }

  /// @brief The stored latency, or NaN when the table has no entry.
  double lookup(std::string_view layer_name, bit_pair bits) const {
    if (!is_candidate_bits(bits.w) || !is_candidate_bits(bits.a)) return nan();
    const auto it = index_.find(std::string(layer_name));
    return it == index_.end() ? nan() : rows_[it->second][slot(bits)];
  }

  bool contains(std::string_view layer_name, bit_pair bits) const {
    return !std::isnan(lookup(layer_name, bits));
  }

  /// @brief Number of layers with at least one entry.
  std::size_t layer_count() const noexcept { return rows_.size(); }

  double layer_cost(const layer_info& l, std::size_t, bit_pair bits) const { return lookup(l.name, bits); }

  /// @brief Every layer must be named, names must be unique, and each must have a row.
  status check(std::span<const layer_info> layers) const {
    std::unordered_map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const std::string& n = layers[i].name;
      if (n.empty())
        return status::failure(errc::invalid_argument,
                               "latency_table: layer %zu has no name; the table finds rows by name", i);
      if (auto [it, fresh] = seen.emplace(n, i); !fresh)
        return status::failure(errc::invalid_argument,
                               "latency_table: layers %zu and %zu are both named '%s'; names must be unique",
                               it->second, i, n.c_str());
      if (index_.find(n) == index_.end())
        return status::failure(errc::invalid_argument, "latency_table: no row for layer %zu '%s'", i, n.c_str());
    }
    return {};
  }

 private:
  static constexpr int slots = candidate_bits_count;
  static constexpr std::size_t slot(bit_pair p) noexcept {
    return static_cast<std::size_t>(candidate_bits_index(p.w) * slots + candidate_bits_index(p.a));
  }
  static double nan() noexcept { return std::numeric_limits<double>::quiet_NaN(); }

  std::vector<double>& row_of(std::string_view layer_name) {
    auto [it, fresh] = index_.emplace(std::string(layer_name), rows_.size());
    if (fresh) rows_.emplace_back(static_cast<std::size_t>(slots * slots), nan());
    return rows_[it->second];
  }

  std::vector<std::vector<double>> rows_;
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace mpq
