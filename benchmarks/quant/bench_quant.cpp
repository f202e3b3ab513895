// mpq_bench_quant: quantize 64 Mi fp32 values to int8 codes and to dequantized fp32 with the SIMD
// span loops, against memcpy of the same 256 MiB input timed in the same iterations.
//
// Counters (medians over repetitions):
//   ratio_vs_memcpy  t(memcpy) / t(op) on the same input, i.e. the op's fp32-input bandwidth over
//                    memcpy's (> 1: the op streams its input faster than memcpy copies it; memcpy
//                    reads 4 and writes 4 bytes per value, quantize-to-int8 reads 4 and writes 1)
//   input_GBps       fp32 input bytes per second of the op
//   memcpy_GBps      the baseline's, measured in the same iterations
// Every buffer (768 MiB in all) is far past the 32 MiB L3 and touched before timing.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include <mpq/quant/lsq.hpp>
#include <mpq/quant/span.hpp>
#include <mpq/quant/span_simd.hpp>
#include <mpq/quant/step_range.hpp>
#include <mpq/quant/uniform.hpp>

namespace {

constexpr std::size_t n_values = std::size_t{64} << 20;  // 64 Mi

struct buffers {
  std::vector<float> input, output, copy;
  std::vector<std::int8_t> codes;
  buffers() : input(n_values), output(n_values), copy(n_values), codes(n_values) {
    std::mt19937 rng(2024);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (std::size_t i = 0; i < 4096; ++i) input[i] = nd(rng);
    for (std::size_t i = 4096; i < n_values; ++i) input[i] = input[i % 4096] * (1.0f + static_cast<float>(i % 7) * 0.01f);
    std::memset(output.data(), 0, n_values * sizeof(float));  // first touch outside the timing
    std::memset(copy.data(), 0, n_values * sizeof(float));
    std::memset(codes.data(), 0, n_values);
  }
};

buffers& data() {
  static buffers b;
  return b;
}

double seconds_of(auto&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Times memcpy and the op alternately in every iteration, so the ratio compares them under the same
// neighbours and memory state; the reported time is the op's.
template <class Op>
void run_against_memcpy(benchmark::State& state, Op&& op) {
  auto& b = data();
  const double bytes = static_cast<double>(n_values * sizeof(float));
  double t_memcpy = 0.0, t_op = 0.0;
  for (auto _ : state) {
    t_memcpy += seconds_of([&] {
      std::memcpy(b.copy.data(), b.input.data(), n_values * sizeof(float));
      benchmark::ClobberMemory();
    });
    const double t = seconds_of([&] {
      op(b);
      benchmark::ClobberMemory();
    });
    t_op += t;
    state.SetIterationTime(t);
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["ratio_vs_memcpy"] = t_memcpy / t_op;
  state.counters["input_GBps"] = bytes * iters / t_op / 1e9;
  state.counters["memcpy_GBps"] = bytes * iters / t_memcpy / 1e9;
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes * iters));
}

template <class Q>
void quantize_int8(benchmark::State& state, const Q& q) {
  run_against_memcpy(state, [&](buffers& b) {
    mpq::simd::quantize(q, std::span<const float>(b.input), std::span<std::int8_t>(b.codes));
  });
}

template <class Q>
void fake_quantize_fp32(benchmark::State& state, const Q& q) {
  run_against_memcpy(state, [&](buffers& b) { mpq::simd::fake_quantize(q, b.input, b.output); });
}

// The scalar (core-layer) loop, for how much the SIMD loop gains.
template <class Q>
void quantize_int8_scalar(benchmark::State& state, const Q& q) {
  run_against_memcpy(state, [&](buffers& b) {
    mpq::quantize(q, std::span<const float>(b.input), std::span<std::int8_t>(b.codes));
  });
}

void memcpy_alone(benchmark::State& state) {
  run_against_memcpy(state, [](buffers& b) {
    std::memcpy(b.output.data(), b.input.data(), n_values * sizeof(float));
  });
}

const mpq::uniform_quantizer<8, mpq::signed_codes> uniform8(4.0f / 127);        // PyTorch-style: x · (1/step)
const mpq::lsq_quantizer<> lsq8(8, mpq::signed_codes, 4.0f / 127);             // LSQ / LIMPQ: x / s
const mpq::u3_quantizer u3_8(1.0f / 32, 3.96875f, mpq::signed_codes);          // Uhlich U3, 8 bits

}  // namespace

#define MPQ_QUANT_BENCH(fn, q) \
  BENCHMARK_CAPTURE(fn, q, q)->UseManualTime()->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true)

BENCHMARK(memcpy_alone)->UseManualTime()->Unit(benchmark::kMillisecond)->Repetitions(5)->ReportAggregatesOnly(true);
MPQ_QUANT_BENCH(quantize_int8, uniform8);
MPQ_QUANT_BENCH(quantize_int8, lsq8);
MPQ_QUANT_BENCH(quantize_int8, u3_8);
MPQ_QUANT_BENCH(fake_quantize_fp32, uniform8);
MPQ_QUANT_BENCH(fake_quantize_fp32, lsq8);
MPQ_QUANT_BENCH(fake_quantize_fp32, u3_8);
MPQ_QUANT_BENCH(quantize_int8_scalar, uniform8);

BENCHMARK_MAIN();
