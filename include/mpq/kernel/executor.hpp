// Executors: who runs a kernel's tasks (one thread by default, std::thread, an OpenMP team, or the
// caller's pool).
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <utility>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "mpq/core/math.hpp"
#include "mpq/kernel/kernel_concepts.hpp"

namespace mpq::kernel {

/// @brief Runs every task on the calling thread, in order (the default).
struct serial_executor {
  template <class F>
  void parallel_for(std::size_t tasks, F&& f) const {
    for (std::size_t i = 0; i < tasks; ++i) f(i);
  }
  std::size_t concurrency() const noexcept { return 1; }
};

/// @brief Runs the tasks on `threads` threads: the caller's plus threads - 1 started for the call
/// and joined before it returns. Holds no state between calls, so one object serves any number of
/// concurrent calls.
struct thread_executor {
  std::size_t threads = 1;

  template <class F>
  void parallel_for(std::size_t tasks, F&& f) const {
    const std::size_t workers = threads < tasks ? threads : tasks;
    if (workers <= 1) {
      for (std::size_t i = 0; i < tasks; ++i) f(i);
      return;
    }
    // Task i goes to worker i % workers; the calling thread is worker 0.
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    for (std::size_t w = 1; w < workers; ++w)
      pool.emplace_back([&f, w, workers, tasks] {
        for (std::size_t i = w; i < tasks; i += workers) f(i);
      });
    for (std::size_t i = 0; i < tasks; i += workers) f(i);
    for (auto& t : pool) t.join();
  }
  std::size_t concurrency() const noexcept { return threads == 0 ? 1 : threads; }
};

static_assert(Executor<serial_executor>);
static_assert(Executor<thread_executor>);

#if defined(_OPENMP)
/// @brief Runs the tasks in an OpenMP parallel region of `threads` threads (<= 0:
/// omp_get_max_threads()), each thread taking one contiguous range of tasks. OpenMP keeps its
/// threads between regions, so a call starts none, where thread_executor starts threads - 1 per
/// call (on the 2-core VM: 30-40 us per std::thread start and join, 0.4 us per OpenMP region of 2
/// threads; a two-thread GEMM W8A8 at 1024^3 takes 2.5 ms and makes two rounds). Defined only in
/// translation units compiled with OpenMP (-fopenmp; CMake: OpenMP::OpenMP_CXX). Concurrent calls
/// from several threads each get their own team; a call from inside a parallel region runs on one
/// thread unless the caller enabled nested parallelism.
struct openmp_executor {
  int threads = 0;

  template <class F>
  void parallel_for(std::size_t tasks, F&& f) const {
    const auto n = static_cast<std::ptrdiff_t>(tasks);
#pragma omp parallel for num_threads(team_size()) schedule(static)
    for (std::ptrdiff_t i = 0; i < n; ++i) f(static_cast<std::size_t>(i));
  }
  int team_size() const noexcept { return threads > 0 ? threads : omp_get_max_threads(); }
  std::size_t concurrency() const noexcept { return static_cast<std::size_t>(team_size()); }
};

static_assert(Executor<openmp_executor>);
#endif

/// @brief A non-owning, type-erased reference to an Executor (what the compiled kernels take, so
/// they are instantiated once, not once per executor type).
class executor_ref {
 public:
  template <Executor E>
  executor_ref(const E& e) noexcept  // NOLINT(implicit): any executor converts
      : self_(&e), concurrency_(e.concurrency()), run_(&run_with<E>) {}

  /// @brief Calls fn(i) for i in [0, tasks) and returns when all are done.
  template <class F>
  void parallel_for(std::size_t tasks, F&& fn) const {
    run_(self_, tasks, &fn, [](void* ctx, std::size_t i) { (*static_cast<std::remove_reference_t<F>*>(ctx))(i); });
  }
  std::size_t concurrency() const noexcept { return concurrency_; }

 private:
  using task_fn = void (*)(void*, std::size_t);
  template <class E>
  static void run_with(const void* self, std::size_t tasks, void* ctx, task_fn fn) {
    static_cast<const E*>(self)->parallel_for(tasks, [ctx, fn](std::size_t i) { fn(ctx, i); });
  }
  const void* self_;
  std::size_t concurrency_;
  void (*run_)(const void*, std::size_t, void*, task_fn);
};

namespace detail {

/// @brief f(begin, end) over [0, n) cut into `unit`-aligned ranges, one task each, as many tasks as
/// the executor's concurrency and the units allow (the last range ends at n).
template <class F>
void for_each_task(const executor_ref& ex, std::size_t n, std::size_t unit, F&& f) {
  const std::size_t units = ceil_div(n, unit);
  const std::size_t tasks = std::max<std::size_t>(1, std::min(ex.concurrency(), units));
  ex.parallel_for(tasks, [&](std::size_t t) {
    const std::size_t b = units * t / tasks * unit, e = std::min(n, units * (t + 1) / tasks * unit);
    if (b < e) f(b, e);
  });
}

}  // namespace detail

}  // namespace mpq::kernel
