// mpq_bench_kernels: every (W, A) gemv at 16384 x 16384 and gemm at 1024^3, with OpenBLAS sgemv/sgemm
// (one thread) and the scalar reference kernel as baselines measured in the same run. Counters:
//   speedup_vs_sgemv / speedup_vs_sgemm  baseline median time / this kernel's time, same shape
//   speedup_vs_reference                 the reference kernel's time per MAC (512 x 16384) / ours
//   weights_GBps                         bytes of packed weights streamed per second (gemv)
//   MACs_per_cycle                       at the core clock estimated at start (dependent-add chain)
//   speedup_vs_1_thread                  (threads:2 rows) the one-thread time of the same kernel / this
// The threads:2 rows run on thread_executor (two threads started per call) and, in builds with
// OpenMP, also on openmp_executor (an OpenMP team kept between calls): the .../openmp rows.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "mpq/kernel/gemm.hpp"
#include "mpq/kernel/reference.hpp"
#include "mpq/packed/interleaved.hpp"

namespace {

namespace mk = mpq::kernel;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t gemv_n = 16384, gemv_k = 16384;   // past the 32 MiB L3 at every W >= 2
constexpr std::size_t gemm_m = 1024, gemm_n = 1024, gemm_k = 1024;
constexpr std::size_t ref_n = 512;                        // reference baseline: 512 x 16384

double seconds_of(const clock_type::duration& d) { return std::chrono::duration<double>(d).count(); }

// Google Benchmark times one-thread rows in the main thread's CPU time (so a neighbour's compile
// does not count); the baselines are timed the same way. Rows with threads use wall time.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
double wall_seconds() { return seconds_of(clock_type::now().time_since_epoch()); }

template <class F>
double median_seconds(int reps, F&& f, bool wall = false) {
  std::vector<double> t;
  f();  // warm-up
  for (int i = 0; i < reps; ++i) {
    const double t0 = wall ? wall_seconds() : thread_cpu_seconds();
    f();
    t.push_back((wall ? wall_seconds() : thread_cpu_seconds()) - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Core clock: a chain of dependent adds runs at one per cycle.
double cycle_hz() {
  static const double hz = [] {
    const long n = 200'000'000;
    const double t0 = thread_cpu_seconds();
    long x = 0;
    for (long i = 0; i < n; ++i) {
#if defined(__x86_64__)
      __asm__ volatile("add $1, %0" : "+r"(x));
#elif defined(__aarch64__)
      __asm__ volatile("add %0, %0, #1" : "+r"(x));
#else
      x += 1;
#endif
    }
    benchmark::DoNotOptimize(x);
    return static_cast<double>(n) / (thread_cpu_seconds() - t0);
  }();
  return hz;
}

// Random packed codes (any bits are valid codes; K is a multiple of 64, so there is no padding).
template <int B, mpq::signedness S>
struct random_matrix {
  using view_t = mpq::packed_view<B, S, mpq::interleaved>;
  std::vector<std::uint8_t> bytes;
  view_t view;
  random_matrix(std::size_t rows, std::size_t cols, unsigned seed) {
    const std::size_t stride = view_t::bytes_per_row(cols);
    bytes.resize(rows * stride);
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i + 8 <= bytes.size(); i += 8) {
      const std::uint64_t r = rng();
      for (int j = 0; j < 8; ++j) bytes[i + static_cast<std::size_t>(j)] = static_cast<std::uint8_t>(r >> (8 * j));
    }
    view = view_t{bytes.data(), rows, cols, view_t::pad_cols(cols), stride};
  }
};

// Prepacked weights, cached per (W, algorithm, shape): building a 16384^2 matrix takes seconds.
template <int W>
const mk::packed_weights& weights(mk::algorithm algo, std::size_t n, std::size_t k) {
  static std::map<std::tuple<int, std::size_t, std::size_t>, std::unique_ptr<mk::packed_weights>> cache;
  auto key = std::make_tuple(static_cast<int>(algo), n, k);
  auto it = cache.find(key);
  if (it == cache.end()) {
    random_matrix<W, mpq::signed_codes> w(n, k, 17u * W);
    it = cache.emplace(key, std::make_unique<mk::packed_weights>(mk::packed_weights::prepack(w.view, algo))).first;
  }
  return *it->second;
}

template <int A>
const random_matrix<A, mpq::unsigned_codes>& activations(std::size_t rows, std::size_t k) {
  static std::map<std::pair<std::size_t, std::size_t>, std::unique_ptr<random_matrix<A, mpq::unsigned_codes>>> cache;
  auto& p = cache[{rows, k}];
  if (!p) p = std::make_unique<random_matrix<A, mpq::unsigned_codes>>(rows, k, 29u * A + rows);
  return *p;
}

// ---- OpenBLAS baselines ---------------------------------------------------------------------------

struct sgemv_data {
  std::vector<float> a, x, y;
  sgemv_data() : a(gemv_n * gemv_k), x(gemv_k), y(gemv_n) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    for (auto& v : a) v = d(rng);
    for (auto& v : x) v = d(rng);
  }
  void run() {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(gemv_n), static_cast<int>(gemv_k), 1.0f, a.data(),
                static_cast<int>(gemv_k), x.data(), 1, 0.0f, y.data(), 1);
  }
};
sgemv_data& sgemv_buffers() {
  static sgemv_data d;
  return d;
}
struct sgemm_data {
  std::vector<float> a, b, c;
  sgemm_data() : a(gemm_m * gemm_k), b(gemm_n * gemm_k), c(gemm_m * gemm_n) {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    for (auto& v : a) v = d(rng);
    for (auto& v : b) v = d(rng);
  }
  void run() {  // C = A * B^T, B is N x K like mpq's weights
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(gemm_m), static_cast<int>(gemm_n),
                static_cast<int>(gemm_k), 1.0f, a.data(), static_cast<int>(gemm_k), b.data(),
                static_cast<int>(gemm_k), 0.0f, c.data(), static_cast<int>(gemm_n));
  }
};
sgemm_data& sgemm_buffers() {
  static sgemm_data d;
  return d;
}
double sgemv_seconds() {
  static const double t = median_seconds(7, [] { sgemv_buffers().run(); });
  return t;
}
double sgemm_seconds() {
  static const double t = median_seconds(7, [] { sgemm_buffers().run(); });
  return t;
}

void BM_sgemv(benchmark::State& state) {
  auto& d = sgemv_buffers();
  for (auto _ : state) d.run();
  state.counters["weights_GBps"] = benchmark::Counter(static_cast<double>(gemv_n * gemv_k * 4),
                                                      benchmark::Counter::kIsIterationInvariantRate);
  state.counters["MACs_per_cycle"] = benchmark::Counter(static_cast<double>(gemv_n * gemv_k) / cycle_hz(),
                                                        benchmark::Counter::kIsIterationInvariantRate);
}
void BM_sgemm(benchmark::State& state) {
  auto& d = sgemm_buffers();
  for (auto _ : state) d.run();
  state.counters["MACs_per_cycle"] = benchmark::Counter(static_cast<double>(gemm_m * gemm_n * gemm_k) / cycle_hz(),
                                                        benchmark::Counter::kIsIterationInvariantRate);
}

// ---- mpq ------------------------------------------------------------------------------------------

// One-thread time of a kernel, measured once per instantiation (the threads:2 rows compare to it, in
// every repetition, so it is a median of 15 runs: with 3, the ratio moved by up to 20% between
// processes on the shared VM while the two-thread times moved by 2%).
template <class Tag>
double one_thread_seconds(const std::function<void()>& run1) {
  static const double t = median_seconds(15, run1, true);
  return t;
}
template <int W, int A, bool Gemm, class Exec>
struct one_thread_tag {};

// Reference time per MAC of a pair (the scalar oracle on 512 x 16384).
template <int W, int A>
double reference_seconds_per_mac() {
  static const double t = [] {
    random_matrix<W, mpq::signed_codes> w(ref_n, gemv_k, 7u * W);
    const auto& a = activations<A>(1, gemv_k);
    std::vector<std::int32_t> y(ref_n);
    const double s = median_seconds(1, [&] { mk::reference_gemv(w.view, a.view, std::span<std::int32_t>(y)); });
    return s / static_cast<double>(ref_n * gemv_k);
  }();
  return t;
}

// The executor of a row: Exec with `threads` threads.
template <class Exec>
Exec executor_with(std::size_t threads) {
  return Exec{static_cast<decltype(Exec{}.threads)>(threads)};
}

template <int W, int A, class Exec = mk::thread_executor>
void BM_gemv(benchmark::State& state, int threads, mk::algorithm algo = mk::choose_algorithm(mk::compiled_isa, W, A)) {
  const mk::packed_weights& w = weights<W>(algo, gemv_n, gemv_k);
  const auto& a = activations<A>(1, gemv_k);
  std::vector<float> scale(gemv_n, 0.01f), bias(gemv_n, 0.5f), y(gemv_n);
  const mk::dequantization dq{scale, bias};
  auto run_with = [&](std::size_t t) { mk::gemv<W, A>(w, a.view, dq, std::span<float>(y), executor_with<Exec>(t)); };
  const double base = sgemv_seconds();
  const double ref = reference_seconds_per_mac<W, A>();
  const double one = threads > 1 ? one_thread_seconds<one_thread_tag<W, A, false, Exec>>([&] { run_with(1); }) : 0.0;
  for (auto _ : state) run_with(static_cast<std::size_t>(threads));
  const double macs = static_cast<double>(gemv_n * gemv_k);
  using C = benchmark::Counter;
  state.counters["speedup_vs_sgemv"] = C(base, C::kIsIterationInvariantRate);
  state.counters["speedup_vs_reference"] = C(ref * macs, C::kIsIterationInvariantRate);
  state.counters["weights_GBps"] = C(macs * W / 8.0, C::kIsIterationInvariantRate);
  state.counters["MACs_per_cycle"] = C(macs / cycle_hz(), C::kIsIterationInvariantRate);
  if (threads > 1) state.counters["speedup_vs_1_thread"] = C(one, C::kIsIterationInvariantRate);
  state.SetLabel(mk::to_string(w.algorithm()));
}


template <int W, int A, class Exec = mk::thread_executor>
void BM_gemm(benchmark::State& state, int threads, mk::algorithm algo = mk::choose_algorithm(mk::compiled_isa, W, A)) {
  const mk::packed_weights& w = weights<W>(algo, gemm_n, gemm_k);
  const auto& a = activations<A>(gemm_m, gemm_k);
  std::vector<float> scale(gemm_n, 0.01f), bias(gemm_n, 0.5f), c(gemm_m * gemm_n);
  const mk::dequantization dq{scale, bias};
  auto run_with = [&](std::size_t t) {
    mk::gemm<W, A>(a.view, w, dq, std::span<float>(c), gemm_n, executor_with<Exec>(t));
  };
  const double base = sgemm_seconds();
  const double one = threads > 1 ? one_thread_seconds<one_thread_tag<W, A, true, Exec>>([&] { run_with(1); }) : 0.0;
  for (auto _ : state) run_with(static_cast<std::size_t>(threads));
  const double macs = static_cast<double>(gemm_m * gemm_n * gemm_k);
  using C = benchmark::Counter;
  state.counters["speedup_vs_sgemm"] = C(base, C::kIsIterationInvariantRate);
  state.counters["MACs_per_cycle"] = C(macs / cycle_hz(), C::kIsIterationInvariantRate);
  if (threads > 1) state.counters["speedup_vs_1_thread"] = C(one, C::kIsIterationInvariantRate);
  state.SetLabel(mk::to_string(w.algorithm()));
}

template <int W, int A>
void BM_gemv_one(benchmark::State& state) {
  BM_gemv<W, A>(state, 1);
}
template <int W, int A>
void BM_gemm_one(benchmark::State& state) {
  BM_gemm<W, A>(state, 1);
}

template <int... I>
void register_pairs(std::integer_sequence<int, I...>) {
  (benchmark::RegisterBenchmark(("BM_gemv/W" + std::to_string(I / 8 + 1) + "A" + std::to_string(I % 8 + 1)).c_str(),
                                BM_gemv_one<I / 8 + 1, I % 8 + 1>)
       ->Unit(benchmark::kMillisecond),
   ...);
  (benchmark::RegisterBenchmark(("BM_gemm/W" + std::to_string(I / 8 + 1) + "A" + std::to_string(I % 8 + 1)).c_str(),
                                BM_gemm_one<I / 8 + 1, I % 8 + 1>)
       ->Unit(benchmark::kMillisecond),
   ...);
}

// The low-bit pairs under each algorithm (BM_gemv_algo/W1A1/bitserial, ...): the measurements
// choose_algorithm's choices rest on (docs/kernels.md). Not part of sweep.sh's table.
template <int W, int A>
void register_algorithms() {
  for (mk::algorithm algo : {mk::algorithm::unpack_dot, mk::algorithm::lut, mk::algorithm::bitserial}) {
    // (snprintf: g++ 12 warns falsely (-Wrestrict) on "literal" + std::string here)
    char gemv_name[64], gemm_name[64];
    std::snprintf(gemv_name, sizeof gemv_name, "BM_gemv_algo/W%dA%d/%s", W, A, mk::to_string(algo));
    std::snprintf(gemm_name, sizeof gemm_name, "BM_gemm_algo/W%dA%d/%s", W, A, mk::to_string(algo));
    benchmark::RegisterBenchmark(gemv_name, [algo](benchmark::State& s) { BM_gemv<W, A>(s, 1, algo); })
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(gemm_name, [algo](benchmark::State& s) { BM_gemm<W, A>(s, 1, algo); })
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  openblas_set_num_threads(1);
  benchmark::RegisterBenchmark("BM_sgemv", BM_sgemv)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_sgemm", BM_sgemm)->Unit(benchmark::kMillisecond);
  register_pairs(std::make_integer_sequence<int, 64>{});
  // Two threads against one (the threads:2 rows carry speedup_vs_1_thread).
  benchmark::RegisterBenchmark("BM_gemm/W8A8/threads:2", [](benchmark::State& s) { BM_gemm<8, 8>(s, 2); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_gemv/W8A8/threads:2", [](benchmark::State& s) { BM_gemv<8, 8>(s, 2); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
#if defined(_OPENMP)
  benchmark::RegisterBenchmark("BM_gemm/W8A8/threads:2/openmp",
                               [](benchmark::State& s) { BM_gemm<8, 8, mk::openmp_executor>(s, 2); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_gemv/W8A8/threads:2/openmp",
                               [](benchmark::State& s) { BM_gemv<8, 8, mk::openmp_executor>(s, 2); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
#endif
  register_algorithms<1, 1>();
  register_algorithms<1, 2>();
  register_algorithms<2, 1>();
  register_algorithms<2, 2>();
  register_algorithms<1, 8>();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("core clock estimate: %.2f GHz; kernels: %s\n", cycle_hz() / 1e9, mpq::arch::best_arch::name());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
