// mpq_bench_pack: packing throughput against memcpy in the same binary.
//   BM_quantize_pack/B          fp32 -> B-bit codes, quantize + pack fused (mpq::simd), 64 Mi values
//   BM_quantize_pack_scalar/4   the same through the scalar loop (mpq::), for comparison
//   BM_dequantize/B             B-bit codes -> fp32 (mpq::simd)
//   BM_pack<layout>/B           int8 codes -> B-bit codes, 64 Mi values
//   BM_unpack<layout>/B         B-bit codes -> int8 codes
// Every iteration first memcpy's the unpacked side (the fp32 values or the int8 codes: the input of
// packing, the output of unpacking) and then runs the operation; ratio_vs_memcpy is
// median(memcpy time) / median(operation time) over the iterations of the run (>= 1: faster than
// copying the unpacked data once). Working sets (256 MiB fp32, 64 MiB int8) are past the 32 MiB L3.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/pack.hpp"
#include "mpq/packed/pack_simd.hpp"
#include "mpq/quant/uniform.hpp"

namespace {

constexpr std::size_t rows = 4096, cols = 16384, n_values = rows * cols;  // 64 Mi

struct data {
  std::vector<float> x, x_copy;
  std::vector<std::int8_t> codes, codes_copy;
  data() : x(n_values), x_copy(n_values), codes(n_values), codes_copy(n_values) {
    std::uint64_t s = 0x9E3779B97F4A7C15ull;  // xorshift64: uniform values in [-2, 2), codes in [-128, 127]
    for (std::size_t k = 0; k < n_values; ++k) {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      x[k] = static_cast<float>(static_cast<std::int64_t>(s >> 40) - (std::int64_t{1} << 23)) / float(1 << 22);
      codes[k] = static_cast<std::int8_t>(s >> 56);
    }
  }
};
data& inputs() {
  static data d;
  return d;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

/// Runs memcpy(baseline) then op() per iteration; the iteration time is op's.
template <class Op>
void against_memcpy(benchmark::State& state, const void* src, void* dst, std::size_t bytes, Op&& op) {
  using clock = std::chrono::steady_clock;
  std::vector<double> copy_s, op_s;
  for (auto _ : state) {
    const auto t0 = clock::now();
    std::memcpy(dst, src, bytes);
    benchmark::ClobberMemory();
    const auto t1 = clock::now();
    op();
    benchmark::ClobberMemory();
    const auto t2 = clock::now();
    copy_s.push_back(std::chrono::duration<double>(t1 - t0).count());
    op_s.push_back(std::chrono::duration<double>(t2 - t1).count());
    state.SetIterationTime(op_s.back());
  }
  const double c = median(copy_s), o = median(op_s);
  state.counters["ratio_vs_memcpy"] = c / o;
  state.counters["memcpy_GBps"] = static_cast<double>(bytes) / c * 1e-9;
  state.counters["unpacked_GBps"] = static_cast<double>(bytes) / o * 1e-9;
  state.counters["values_per_ns"] = static_cast<double>(n_values) / o * 1e-9;
}

template <class F>
void with_bits(int bits, F&& f) {
  [&]<int... B>(std::integer_sequence<int, B...>) {
    ((bits == B + 1 ? (f.template operator()<B + 1>(), 0) : 0), ...);
  }(std::make_integer_sequence<int, 8>{});
}

/// A quantizer using the whole signed B-bit range over [-2, 2).
template <int B>
mpq::uniform_quantizer<B, mpq::signed_codes> quantizer() {
  return mpq::uniform_quantizer<B, mpq::signed_codes>(B == 1 ? 2.0f : 2.0f / static_cast<float>(1 << (B - 1)));
}

template <int B>
std::vector<std::int8_t> codes_in_range() {
  std::vector<std::int8_t> c(inputs().codes);
  for (auto& v : c) v = static_cast<std::int8_t>(v >> (8 - B));  // arithmetic shift: [-2^(B-1), 2^(B-1))
  return c;
}

void BM_quantize_pack(benchmark::State& state) {
  with_bits(static_cast<int>(state.range(0)), [&]<int B>() {
    auto& d = inputs();
    mpq::packed_tensor<B, mpq::signed_codes> t(rows, cols);
    const auto q = quantizer<B>();
    against_memcpy(state, d.x.data(), d.x_copy.data(), n_values * sizeof(float),
                   [&] { benchmark::DoNotOptimize(mpq::simd::try_quantize_pack_into(q, d.x, t.span())); });
    state.counters["packed_MiB"] = static_cast<double>(t.payload_bytes()) / (1 << 20);
  });
}

void BM_quantize_pack_scalar(benchmark::State& state) {
  with_bits(static_cast<int>(state.range(0)), [&]<int B>() {
    auto& d = inputs();
    mpq::packed_tensor<B, mpq::signed_codes> t(rows, cols);
    const auto q = quantizer<B>();
    against_memcpy(state, d.x.data(), d.x_copy.data(), n_values * sizeof(float),
                   [&] { benchmark::DoNotOptimize(mpq::try_quantize_pack_into(q, d.x, t.span())); });
  });
}

void BM_dequantize(benchmark::State& state) {
  with_bits(static_cast<int>(state.range(0)), [&]<int B>() {
    auto& d = inputs();
    const auto q = quantizer<B>();
    auto t = mpq::simd::quantize_pack<B, mpq::signed_codes>(q, d.x, rows, cols);
    std::vector<float> y(n_values, 1.0f);
    against_memcpy(state, d.x.data(), d.x_copy.data(), n_values * sizeof(float),
                   [&] { benchmark::DoNotOptimize(mpq::simd::try_dequantize(t.view(), q, y)); });
  });
}

template <class L>
void BM_pack(benchmark::State& state) {
  with_bits(static_cast<int>(state.range(0)), [&]<int B>() {
    auto& d = inputs();
    const auto codes = codes_in_range<B>();
    mpq::packed_tensor<B, mpq::signed_codes, L> t(rows, cols);
    against_memcpy(state, codes.data(), d.codes_copy.data(), n_values,
                   [&] { benchmark::DoNotOptimize(mpq::try_pack_into(codes, t.span())); });
  });
}

template <class L>
void BM_unpack(benchmark::State& state) {
  with_bits(static_cast<int>(state.range(0)), [&]<int B>() {
    auto& d = inputs();
    const auto codes = codes_in_range<B>();
    const auto t = mpq::pack<B, mpq::signed_codes, L>(codes, rows, cols);
    std::vector<std::int8_t> out(n_values, 1);
    against_memcpy(state, codes.data(), d.codes_copy.data(), n_values,
                   [&] { benchmark::DoNotOptimize(mpq::try_unpack(t, out)); });
  });
}

}  // namespace

BENCHMARK(BM_quantize_pack)->DenseRange(1, 8)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_quantize_pack_scalar)->Arg(4)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_dequantize)->Arg(4)->Arg(8)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_pack, mpq::interleaved)->DenseRange(1, 8)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_pack, mpq::bitplane)->DenseRange(1, 8)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_unpack, mpq::interleaved)->DenseRange(1, 8)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_unpack, mpq::bitplane)->DenseRange(1, 8)->UseManualTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
