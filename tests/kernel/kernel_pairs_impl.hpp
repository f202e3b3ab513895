// Every (W, A) pair for one W (MPQ_TEST_W): each algorithm's weights x each ISA compiled into this
// test x signed/unsigned activations x odd shapes, bit-exact against the reference kernel, for int32,
// float and requantized outputs. Included by test_pairs_w<W>.cpp (one TU per W, to build in parallel).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kernel_test_util.hpp"
#include "kernel_test_archs.hpp"
#include "mpq/kernel/gemm.hpp"
#include "mpq/kernel/reference.hpp"
#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/interleaved.hpp"

#ifndef MPQ_TEST_W
#error "define MPQ_TEST_W (the weight width this translation unit tests)"
#endif

namespace {

using mpq::signed_codes;
using mpq::unsigned_codes;
using mpq_test::code_matrix;
using mpq_test::fill;
namespace mk = mpq::kernel;

constexpr mk::algorithm all_algorithms[] = {mk::algorithm::unpack_dot, mk::algorithm::lut, mk::algorithm::bitserial};

template <int A>
struct a_bits {
  static constexpr int value = A;
};

// One shape, one fill: the reference result, then every algorithm x arch must match it exactly.
// Activations in layout LA: the bitplane layout's decode goes through its generic path, the
// interleaved one's through the bulk unpack to bytes.
template <int W, int A, mpq::signedness SA, class LA = mpq::bitplane>
void check_shape(std::size_t m, std::size_t n, std::size_t k, fill wf, fill af, unsigned seed) {
  std::mt19937 rng(seed);
  code_matrix<W, signed_codes, mpq::interleaved> w(n, k, rng, wf);
  code_matrix<A, SA, LA> a(m, k, rng, af);
  std::vector<std::int32_t> ref(m * n);
  REQUIRE(mk::try_reference_gemm(a.view(), w.view(), std::span<std::int32_t>(ref), n).ok());
  // The epilogue: per-channel scales, a bias, a mid-rise weight offset and an activation zero point.
  std::vector<float> scale(n), bias(n);
  for (std::size_t j = 0; j < n; ++j) {
    scale[j] = 0.001f * static_cast<float>(j % 7 + 1);
    bias[j] = static_cast<float>(j % 5) - 2.0f;
  }
  const mk::dequantization dq{scale, bias, 0.5f, -3.0f};
  const mpq::uniform_quantizer<3, unsigned_codes> next(0.2f, 1);
  const auto rq = mk::requantization::from(next);
  std::vector<float> ref_f(m * n);
  code_matrix<3, unsigned_codes, mpq::interleaved> ref_q(m, n, rng);
  REQUIRE(mk::try_reference_gemm(a.view(), w.view(), dq, std::span<float>(ref_f), n).ok());
  REQUIRE(mk::try_reference_gemm(a.view(), w.view(), dq, rq, ref_q.span()).ok());

  for (mk::algorithm algo : all_algorithms) {
    const mk::packed_weights pw = mk::packed_weights::prepack(w.view(), algo);
    mpq_test::for_each_test_arch([&](auto arch, const char* arch_name) {
      using Arch = decltype(arch);
      CAPTURE(std::string(arch_name));
      CAPTURE(std::string(mk::to_string(algo)));
      CAPTURE(W);
      CAPTURE(A);
      CAPTURE(std::string(mpq::to_string(SA)));
      CAPTURE(m);
      CAPTURE(n);
      CAPTURE(k);
      std::vector<std::int32_t> c(m * n, 12345);
      REQUIRE(mk::try_gemm<W, A, Arch>(a.view(), pw, std::span<std::int32_t>(c), n).ok());
      for (std::size_t i = 0; i < m * n; ++i)
        if (c[i] != ref[i]) {
          CAPTURE(i);
          REQUIRE(c[i] == ref[i]);
        }
      std::vector<float> f(m * n, -1.0f);
      REQUIRE(mk::try_gemm<W, A, Arch>(a.view(), pw, dq, std::span<float>(f), n).ok());
      for (std::size_t i = 0; i < m * n; ++i)
        if (f[i] != ref_f[i]) {
          CAPTURE(i);
          REQUIRE(f[i] == ref_f[i]);
        }
      code_matrix<3, unsigned_codes, mpq::interleaved> q(m, n, rng);
      REQUIRE(mk::try_gemm<W, A, Arch>(a.view(), pw, dq, rq, q.span()).ok());
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j)
          if (q.view().get(i, j) != ref_q.view().get(i, j)) {
            CAPTURE(i);
            CAPTURE(j);
            REQUIRE(q.view().get(i, j) == ref_q.view().get(i, j));
          }
    });
  }
}

template <int W, int A>
void check_pair() {
  constexpr unsigned seed = 1000u * W + 10u * A;
  for (std::size_t k : {1u, 7u, 31u, 33u, 255u, 4097u}) {
    check_shape<W, A, unsigned_codes>(1, 37, k, fill::random, fill::random, seed + 1);  // gemv
    check_shape<W, A, signed_codes, mpq::interleaved>(1, 37, k, fill::random, fill::random, seed + 2);
    check_shape<W, A, unsigned_codes, mpq::interleaved>(5, 67, k, fill::random, fill::random, seed + 3);  // gemm
    check_shape<W, A, signed_codes>(3, 33, k, fill::random, fill::random, seed + 4);
  }
  // The long extreme-code shapes below check sums, not memory: the sanitizer stage (ASan + UBSan,
  // Debug, where they are 2/3 of this test's time) sets MPQ_KERNEL_TEST_EDGES=0 to leave them to
  // the five other CI builds that run them. (Their int32 sums stay below 2^29, so UBSan has no
  // overflow to find there either.)
  if (const char* e = std::getenv("MPQ_KERNEL_TEST_EDGES"); e && std::string(e) == "0") return;
  // Overflow edges: every product at its extreme, over a long K.
  for (auto [wf, af] : {std::pair{fill::all_min, fill::all_max}, std::pair{fill::all_max, fill::all_max},
                        std::pair{fill::all_min, fill::all_min}, std::pair{fill::alternate_extremes, fill::all_max}}) {
    check_shape<W, A, unsigned_codes>(3, 35, 4097, wf, af, seed + 5);
    check_shape<W, A, signed_codes, mpq::interleaved>(5, 35, 4097, wf, af, seed + 6);
  }
  // Past every kernel's periodic widening of narrow sums (bitserial on AVX2 folds byte counts every
  // 31 steps of 256 codes: K = 16385 is 64 steps and a tail word), with saturated planes.
  check_shape<W, A, unsigned_codes>(3, 9, 16385, fill::all_min, fill::all_max, seed + 7);
  check_shape<W, A, signed_codes>(1, 9, 16385, fill::all_max, fill::all_max, seed + 8);
}

}  // namespace

#define MPQ_TEST_STR2(x) #x
#define MPQ_TEST_STR(x) MPQ_TEST_STR2(x)
// The W in the name keeps the 8 TUs' cases apart (doctest tells cases apart by file, line and name).
TEST_CASE_TEMPLATE_DEFINE("every kernel equals the reference, every A, W = " MPQ_TEST_STR(MPQ_TEST_W), P, all_a) {
  check_pair<MPQ_TEST_W, P::value>();
}
TEST_CASE_TEMPLATE_APPLY(all_a, std::tuple<a_bits<1>, a_bits<2>, a_bits<3>, a_bits<4>, a_bits<5>, a_bits<6>,
                                           a_bits<7>, a_bits<8>>);
