// measure_latency_table: time mpq's own GEMV/GEMM kernels (the runtime-bits front end, the kernels a
// deployment runs) for every layer shape × (W, A) pair on this CPU, into a latency_table.
// Includes the SIMD kernels (hence _simd): not part of the xsimd-free mpq::core subset.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/cost/latency_table.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/kernel/gemm.hpp"
#include "mpq/kernel/overflow.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/tensor.hpp"

namespace mpq {

/// @brief How measure_latency_table times each (layer, pair).
struct latency_options {
  std::size_t repetitions = 5;  ///< timed runs per entry; the median is kept
  double min_seconds = 2e-4;    ///< each run repeats the kernel until this much time has passed
  /// GEMM time is linear in the activation rows M (a conv's output positions): at most this many
  /// rows are timed and the result is scaled by M / rows (0: time all of them).
  std::size_t max_rows = 256;
  std::uint64_t seed = 1;       ///< of the random codes
};

namespace detail {

template <int B, signedness S>
packed_tensor<B, S, interleaved> random_codes(std::size_t rows, std::size_t cols, std::uint64_t& state) {
  packed_tensor<B, S, interleaved> t(rows, cols);
  const std::int32_t lo = mpq::code_min(B, S), span = mpq::code_max(B, S) - lo + 1;
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;  // LCG: any codes will do
      t(i, j) = lo + static_cast<std::int32_t>((state >> 33) % static_cast<std::uint64_t>(span));
    }
  return t;
}

// Seconds per call of `run`: median over `reps` runs of (calls until min_seconds) / calls.
template <class Run>
double time_per_call(Run&& run, const latency_options& o) {
  std::vector<double> per;
  per.reserve(o.repetitions);
  for (std::size_t r = 0; r < o.repetitions; ++r) {
    std::size_t calls = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double el = 0.0;
    do {
      run();
      ++calls;
      el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (el < o.min_seconds);
    per.push_back(el / static_cast<double>(calls));
  }
  std::sort(per.begin(), per.end());
  return per[per.size() / 2];
}

// One GEMM of M activation rows × K against N weight rows at (W, A), int32 output.
template <int W, int A>
expected<double> time_gemm(std::size_t m, std::size_t k, std::size_t n, const latency_options& o,
                           std::uint64_t& state) {
  auto w = random_codes<W, signed_codes>(n, k, state);
  auto a = random_codes<A, unsigned_codes>(m, k, state);
  auto pw = kernel::packed_weights::try_prepack_for(w.view(), A);
  if (!pw) return pw.error();
  std::vector<std::int32_t> c(m * n);
  const kernel::runtime_view<interleaved> av(a.view());
  MPQ_TRY(kernel::try_gemm(av, *pw, std::span<std::int32_t>(c), n));  // checks once, outside the timing
  return time_per_call([&] { (void)kernel::try_gemm(av, *pw, std::span<std::int32_t>(c), n); }, o);
}

template <int W>
expected<double> time_gemm_a(int a_bits, std::size_t m, std::size_t k, std::size_t n, const latency_options& o,
                             std::uint64_t& state) {
  switch (a_bits) {
    case 1: return time_gemm<W, 1>(m, k, n, o, state);
    case 2: return time_gemm<W, 2>(m, k, n, o, state);
    case 3: return time_gemm<W, 3>(m, k, n, o, state);
    case 4: return time_gemm<W, 4>(m, k, n, o, state);
    case 5: return time_gemm<W, 5>(m, k, n, o, state);
    case 6: return time_gemm<W, 6>(m, k, n, o, state);
    case 7: return time_gemm<W, 7>(m, k, n, o, state);
    default: return time_gemm<W, 8>(m, k, n, o, state);
  }
}

inline expected<double> time_layer(const layer_info& l, bit_pair b, const latency_options& o, std::uint64_t& state) {
  const std::size_t m_all = static_cast<std::size_t>(l.gemm_n), k = static_cast<std::size_t>(l.gemm_k),
                    n = static_cast<std::size_t>(l.gemm_m);
  const std::size_t m = o.max_rows == 0 ? m_all : std::min(m_all, o.max_rows);
  expected<double> t = [&]() -> expected<double> {
    switch (b.w) {
      case 1: return time_gemm_a<1>(b.a, m, k, n, o, state);
      case 2: return time_gemm_a<2>(b.a, m, k, n, o, state);
      case 3: return time_gemm_a<3>(b.a, m, k, n, o, state);
      case 4: return time_gemm_a<4>(b.a, m, k, n, o, state);
      case 5: return time_gemm_a<5>(b.a, m, k, n, o, state);
      case 6: return time_gemm_a<6>(b.a, m, k, n, o, state);
      case 7: return time_gemm_a<7>(b.a, m, k, n, o, state);
      default: return time_gemm_a<8>(b.a, m, k, n, o, state);
    }
  }();
  if (!t) return t;
  // Rows not timed (linear in M), then one GEMM per group (depthwise and grouped convs).
  return *t * static_cast<double>(m_all) / static_cast<double>(m) * static_cast<double>(l.gemm_groups);
}

}  // namespace detail

/// @brief Checked: a latency_table with, for every layer and every pair of `pairs` with both widths
/// in 1..8, the seconds mpq's runtime-bits GEMM (GEMV when the layer's N is 1) takes for the layer's
/// GEMM view (groups × [M = gemm_n activation rows] × [K = gemm_k] × [N = gemm_m weight rows],
/// int32 output, one thread) on this CPU: random codes, weights prepacked in the format the kernel
/// choice table picks, median of `repetitions`. Pairs with 16 or 32 bits (kept float) have no
/// integer kernel: they are skipped, so set() them from a float measurement of your own if the
/// problem offers them. Layers need names (the table's rows) and a GEMM view (conv2d_layer and
/// linear_layer give one); K must be within the kernels' exact bound for each pair.
inline expected<latency_table> try_measure_latency_table(std::span<const layer_info> layers,
                                                         std::span<const bit_pair> pairs,
                                                         const latency_options& options = {}) {
  if (options.repetitions == 0 || !(options.min_seconds >= 0.0))
    return status::failure(errc::invalid_argument,
                           "measure_latency_table: repetitions = %zu, min_seconds = %g: need >= 1 and >= 0",
                           options.repetitions, options.min_seconds);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const layer_info& l = layers[i];
    if (l.name.empty())
      return status::failure(errc::invalid_argument, "measure_latency_table: layer %zu has no name", i);
    if (l.gemm_m == 0 || l.gemm_k == 0 || l.gemm_n == 0 || l.gemm_groups == 0)
      return status::failure(errc::invalid_argument,
                             "measure_latency_table: layer %zu '%s' has no GEMM view (M, K, N, groups = %llu, %llu, "
                             "%llu, %llu); build it with conv2d_layer or linear_layer",
                             i, l.name.c_str(), static_cast<unsigned long long>(l.gemm_n),
                             static_cast<unsigned long long>(l.gemm_k), static_cast<unsigned long long>(l.gemm_m),
                             static_cast<unsigned long long>(l.gemm_groups));
  }
  for (bit_pair b : pairs) {
    MPQ_TRY(check_candidate_bits(b.w, "measure_latency_table: weight bits"));
    MPQ_TRY(check_candidate_bits(b.a, "measure_latency_table: activation bits"));
  }
  latency_table table;
  std::uint64_t state = options.seed;
  for (const layer_info& l : layers)
    for (bit_pair b : pairs) {
      if (!is_packable_bits(b.w) || !is_packable_bits(b.a)) continue;
      if (l.gemm_k > static_cast<std::uint64_t>(kernel::max_exact_k(b.w, b.a)))
        return status::failure(errc::overflow,
                               "measure_latency_table: layer '%s': K = %llu exceeds the exact bound %zu of W%d A%d",
                               l.name.c_str(), static_cast<unsigned long long>(l.gemm_k),
                               static_cast<std::size_t>(kernel::max_exact_k(b.w, b.a)), b.w, b.a);
      auto t = detail::time_layer(l, b, options, state);
      if (!t) return t.error();
      MPQ_TRY(table.try_set(l.name, b, *t));
    }
  return table;
}

/// @brief As try_measure_latency_table; throws mpq::error on failure.
inline latency_table measure_latency_table(std::span<const layer_info> layers, std::span<const bit_pair> pairs,
                                           const latency_options& options = {}) {
  return try_measure_latency_table(layers, pairs, options).value();
}

}  // namespace mpq
