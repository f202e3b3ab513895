// Concepts of the kernel layer: Executor (who runs the tasks of a gemv/gemm) and DotKernel (an integer
// gemm over packed operands for one bit pair and one arch).
#pragma once

#include <concepts>
#include <cstddef>

namespace mpq::kernel {

class packed_weights;
struct decoded_activations;
struct output_spec;
class executor_ref;

/// @brief Runs `tasks` independent tasks and returns when all are done: e.parallel_for(n, f) calls
/// f(i) exactly once for each i in [0, n), possibly concurrently; e.concurrency() says how many
/// run at once (the kernels cut their work into that many tasks).
/// Satisfied by serial_executor, thread_executor, openmp_executor and any caller's pool adapter.
template <class E>
concept Executor = requires(const E& e, std::size_t n, void (*f)(std::size_t)) {
  e.parallel_for(n, f);
  { e.concurrency() } -> std::convertible_to<std::size_t>;
};

/// @brief An integer gemm for W-bit weights and A-bit activations on one arch:
/// K::run(weights, activations, output, executor) writes C[m][n] = sum_k A[m][k] W[n][k] through the
/// epilogue of `output` (kernel/operands.hpp), exactly as the reference kernel does, for every K up
/// to max_exact_k(K::w_bits, K::a_bits). Operands are validated by the caller (the front end).
/// Satisfied by reference_kernel<W, A> and gemm_kernel<W, A, Arch> for every compiled arch tag.
template <class K>
concept DotKernel = requires(const packed_weights& w, const decoded_activations& a, const output_spec& o,
                             const executor_ref& e) {
  { K::w_bits } -> std::convertible_to<int>;
  { K::a_bits } -> std::convertible_to<int>;
  { K::name() } -> std::convertible_to<const char*>;
  K::run(w, a, o, e);
};

}  // namespace mpq::kernel
