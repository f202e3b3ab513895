// openmp_executor (compiled with OpenMP): every task runs exactly once on the requested team, and
// the kernels give the serial result through it, also when two callers use it at once.
#include <doctest/doctest.h>

#include <omp.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <algorithm>
#include <set>
#include <span>
#include <thread>
#include <vector>

#include "kernel_test_util.hpp"
#include "mpq/kernel/gemm.hpp"

namespace {
using mpq::signed_codes;
using mpq::unsigned_codes;
using mpq_test::code_matrix;
namespace mk = mpq::kernel;
}  // namespace

static_assert(mk::Executor<mk::openmp_executor>);

TEST_CASE("openmp_executor runs every task once, on the team it was given") {
  for (int threads : {1, 2, 3}) {
    const mk::openmp_executor ex{threads};
    CHECK(ex.concurrency() == static_cast<std::size_t>(threads));
    std::vector<std::atomic<int>> runs(1001);
    std::vector<int> thread_of(1001, -1);
    ex.parallel_for(runs.size(), [&](std::size_t i) {
      runs[i].fetch_add(1);
      thread_of[i] = omp_get_thread_num();
    });
    std::set<int> team;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      REQUIRE(runs[i].load() == 1);
      team.insert(thread_of[i]);
    }
    // schedule(static) with a fixed team: every thread takes a range (OMP_DYNAMIC is off by default).
    CHECK(team.size() == static_cast<std::size_t>(threads));
  }
  CHECK(mk::openmp_executor{}.concurrency() == static_cast<std::size_t>(omp_get_max_threads()));
  int calls = 0;
  mk::openmp_executor{2}.parallel_for(0, [&](std::size_t) { ++calls; });
  CHECK(calls == 0);
}

TEST_CASE("gemm and gemv through openmp_executor equal the serial result, also from two callers at once") {
  std::mt19937 rng(21);
  code_matrix<4, signed_codes, mpq::interleaved> w(301, 257, rng);
  code_matrix<8, unsigned_codes, mpq::interleaved> a(37, 257, rng);
  for (auto algo : {mk::algorithm::unpack_dot, mk::algorithm::lut, mk::algorithm::bitserial}) {
    const auto pw = mk::packed_weights::prepack(w.view(), algo);
    std::vector<std::int32_t> serial(37 * 301), omp(37 * 301, -1), other(37 * 301, -2);
    mk::gemm<4, 8>(a.view(), pw, std::span<std::int32_t>(serial), 301);
    mk::gemm<4, 8>(a.view(), pw, std::span<std::int32_t>(omp), 301, mk::openmp_executor{2});
    CHECK(omp == serial);
    std::fill(omp.begin(), omp.end(), -1);
    std::thread th([&] { mk::gemm<4, 8>(a.view(), pw, std::span<std::int32_t>(other), 301, mk::openmp_executor{2}); });
    mk::gemm<4, 8>(a.view(), pw, std::span<std::int32_t>(omp), 301, mk::openmp_executor{2});
    th.join();
    CHECK(omp == serial);
    CHECK(other == serial);
    std::vector<std::int32_t> y(301);
    mk::gemv<4, 8>(pw, a.view().row_view(0), std::span<std::int32_t>(y), mk::openmp_executor{2});
    CHECK(std::vector<std::int32_t>(serial.begin(), serial.begin() + 301) == y);
  }
}
