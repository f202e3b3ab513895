// Runtime dispatch: a layer whose bit widths come from a search at run time, run on the best kernels
// this CPU has (the per-ISA kernels are compiled in kernels_*.cpp, each with its own flags; this file
// has baseline flags). Checks the result against the scalar reference and prints what ran.
#include <cstdio>
#include <random>
#include <vector>

#include <mpq/kernel/reference.hpp>
#include <mpq/kernel/runtime_dispatch.hpp>
#include <mpq/packed/interleaved.hpp>

int main() {
  namespace mk = mpq::kernel;
  constexpr std::size_t n = 300, k = 1000;
  // A 3-bit weight matrix and 6-bit activations, packed (what a search over bit widths picked).
  using w_view = mpq::packed_span<3, mpq::signed_codes, mpq::interleaved>;
  using a_view = mpq::packed_span<6, mpq::unsigned_codes, mpq::interleaved>;
  std::vector<std::uint8_t> wb(n * w_view::bytes_per_row(k)), ab(a_view::bytes_per_row(k));
  const w_view w{wb.data(), n, k, w_view::pad_cols(k), w_view::bytes_per_row(k)};
  const a_view a{ab.data(), 1, k, a_view::pad_cols(k), a_view::bytes_per_row(k)};
  std::mt19937 rng(1);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < k; ++j) w.set(i, j, static_cast<std::int32_t>(rng() % 8) - 4);
  for (std::size_t j = 0; j < k; ++j) a.set(0, j, static_cast<std::int32_t>(rng() % 64));

  const mk::isa target = mk::dispatch::detect_isa();
  const mk::packed_weights pw = mk::packed_weights::prepack_for(mpq::packed_view<3, mpq::signed_codes, mpq::interleaved>(w), 6, target);
  const mk::runtime_view<mpq::interleaved> ra = mpq::packed_view<6, mpq::unsigned_codes, mpq::interleaved>(a);
  std::vector<float> scale(n, 0.01f), y(n), ref(n);
  const mk::dequantization dq{scale};
  if (auto s = mk::try_gemm_dispatched(ra, pw, dq, std::span<float>(y), n); !s.ok()) {
    std::printf("kernel dispatch: error: %s\n", s.message());
    return 1;
  }
  mk::reference_gemv(mpq::packed_view<3, mpq::signed_codes, mpq::interleaved>(w),
                     mpq::packed_view<6, mpq::unsigned_codes, mpq::interleaved>(a), dq, std::span<float>(ref));
  const bool same = y == ref;
  std::printf("kernel dispatch: %s kernels, %s weights, W3A6 gemv %zu x %zu: %s\n", mk::to_string(target),
              mk::to_string(pw.algorithm()), n, k, same ? "ok (equals the reference)" : "MISMATCH");
  return same ? 0 : 1;
}
