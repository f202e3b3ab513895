// The reference kernels against an independent sum over int codes, the epilogue's algebra and rounding,
// and the errors at the boundary. Core-only: this TU builds without xsimd/xtensor.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kernel_test_util.hpp"
#include "mpq/kernel/reference.hpp"
#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/quant/uniform.hpp"

namespace {

using mpq::signed_codes;
using mpq::unsigned_codes;
using mpq_test::code_matrix;
using mpq_test::fill;

template <int W, int A>
struct bit_pair {
  static constexpr int w = W;
  static constexpr int a = A;
};

template <int... I>
std::tuple<bit_pair<I / 8 + 1, I % 8 + 1>...> make_all_pairs(std::integer_sequence<int, I...>);
using all_pairs = decltype(make_all_pairs(std::make_integer_sequence<int, 64>{}));

// Weights in one layout, activations in another, so the reference is checked across layouts.
template <int W, int A, mpq::signedness SA>
void check_reference_pair(std::size_t n, std::size_t m, std::size_t k, fill wf, fill af, unsigned seed) {
  std::mt19937 rng(seed);
  code_matrix<W, signed_codes, mpq::bitplane> w(n, k, rng, wf);
  code_matrix<A, SA, mpq::interleaved> a(m, k, rng, af);
  std::vector<std::int32_t> c(m * n, -7);
  REQUIRE(mpq::kernel::try_reference_gemm(a.view(), w.view(), std::span<std::int32_t>(c), n).ok());
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      CAPTURE(i);
      CAPTURE(j);
      REQUIRE(c[i * n + j] == mpq_test::naive_dot(w, j, a, i));
    }
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("reference gemm equals the sum over int codes, every pair and signedness", P,
                          reference_all_pairs) {
  constexpr int W = P::w, A = P::a;
  CAPTURE(W);
  CAPTURE(A);
  for (std::size_t k : {1u, 7u, 33u, 130u}) {
    check_reference_pair<W, A, unsigned_codes>(3, 2, k, fill::random, fill::random, 11u * W + A);
    check_reference_pair<W, A, signed_codes>(3, 2, k, fill::random, fill::random, 13u * W + A);
  }
  check_reference_pair<W, A, unsigned_codes>(2, 1, 65, fill::all_min, fill::all_max, 1);
  check_reference_pair<W, A, signed_codes>(2, 1, 65, fill::all_min, fill::all_min, 2);
  check_reference_pair<W, A, signed_codes>(2, 1, 65, fill::alternate_extremes, fill::alternate_extremes, 3);
}
TEST_CASE_TEMPLATE_APPLY(reference_all_pairs, all_pairs);

TEST_CASE("max_exact_k is the largest K with K (2^W-1)(2^A-1) <= 2^31-1") {
  for (int wb = 1; wb <= 8; ++wb)
    for (int ab = 1; ab <= 8; ++ab) {
      const std::int64_t prod = ((std::int64_t{1} << wb) - 1) * ((std::int64_t{1} << ab) - 1);
      const auto k = static_cast<std::int64_t>(mpq::kernel::max_exact_k(wb, ab));
      CHECK(k * prod <= INT32_MAX);
      CHECK((k + 1) * prod > INT32_MAX);
      CHECK(mpq::kernel::check_exact_k(wb, ab, static_cast<std::size_t>(k)).ok());
      CHECK(mpq::kernel::check_exact_k(wb, ab, static_cast<std::size_t>(k) + 1).code() == mpq::errc::overflow);
    }
}

TEST_CASE("reference gemv at the overflow edge: W8A8 with K = max_exact_k and extreme codes") {
  constexpr std::size_t k = mpq::kernel::max_exact_k(8, 8);
  std::mt19937 rng(5);
  code_matrix<8, signed_codes, mpq::interleaved> w(2, k, rng, fill::all_min);
  code_matrix<8, unsigned_codes, mpq::interleaved> a(1, k, rng, fill::all_max);
  std::vector<std::int32_t> y(2);
  REQUIRE(mpq::kernel::try_reference_gemv(w.view(), a.view(), std::span<std::int32_t>(y)).ok());
  CHECK(y[0] == -128 * 255 * static_cast<std::int64_t>(k));
  CHECK(y[1] == y[0]);
}

TEST_CASE("the epilogue folds code offsets: scale * r equals the real dot product of dequantized values") {
  std::mt19937 rng(17);
  constexpr std::size_t n = 5, k = 37;
  code_matrix<3, signed_codes, mpq::interleaved> w(n, k, rng);
  code_matrix<4, unsigned_codes, mpq::interleaved> a(1, k, rng);
  std::vector<float> scale(n), bias(n), y(n);
  for (std::size_t j = 0; j < n; ++j) {
    scale[j] = 0.01f * static_cast<float>(j + 1);
    bias[j] = 0.5f - static_cast<float>(j);
  }
  for (float ow : {0.0f, 0.5f, -3.0f}) {
    for (float oa : {0.0f, -7.0f, 0.5f}) {
      mpq::kernel::dequantization dq{scale, bias, ow, oa};
      REQUIRE(mpq::kernel::try_reference_gemv(w.view(), a.view(), dq, std::span<float>(y)).ok());
      for (std::size_t j = 0; j < n; ++j) {
        double real = 0;
        for (std::size_t t = 0; t < k; ++t) real += (w.code(j, t) + double{ow}) * (a.code(0, t) + double{oa});
        const double expect = real * scale[j] + bias[j];
        CAPTURE(ow);
        CAPTURE(oa);
        CHECK(y[j] == doctest::Approx(expect).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("requantize_output is uniform_quantizer::quantize, with ReLU raising the floor to the zero point") {
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> dist(-40.0f, 40.0f);
  const mpq::uniform_quantizer<4, unsigned_codes> q(0.37f, 3);
  const auto relu = mpq::kernel::requantization::from(q, true);
  const auto plain = mpq::kernel::requantization::from(q, false);
  CHECK(relu.code_lo == 3);
  CHECK(plain.code_lo == 0);
  for (int i = 0; i < 20000; ++i) {
    float v = dist(rng);
    if (i % 5 == 0) v = 0.37f * (static_cast<float>(i % 40) - 20.0f + 0.5f);  // exact ties
    CHECK(mpq::kernel::requantize_output(v, plain) == q.quantize(v));
    const std::int32_t c = q.quantize(v);
    CHECK(mpq::kernel::requantize_output(v, relu) == (c < 3 ? 3 : c));
  }
  CHECK(mpq::kernel::requantize_output(std::nanf(""), plain) == q.quantize(std::nanf("")));
}

TEST_CASE("reference gemm writes requantized codes that chain into the next layer") {
  std::mt19937 rng(29);
  constexpr std::size_t m = 3, n = 9, k = 70;
  code_matrix<2, signed_codes, mpq::interleaved> w(n, k, rng);
  code_matrix<5, unsigned_codes, mpq::bitplane> a(m, k, rng);
  code_matrix<3, unsigned_codes, mpq::interleaved> out(m, n, rng);  // overwritten
  std::vector<float> scale(n, 0.02f), bias(n, 0.1f), y(m * n);
  mpq::kernel::dequantization dq{scale, bias};
  const mpq::uniform_quantizer<3, unsigned_codes> next(0.25f);
  const auto rq = mpq::kernel::requantization::from(next);
  REQUIRE(mpq::kernel::try_reference_gemm(a.view(), w.view(), dq, rq, out.span()).ok());
  REQUIRE(mpq::kernel::try_reference_gemm(a.view(), w.view(), dq, std::span<float>(y), n).ok());
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const std::int32_t expect = std::max(next.quantize(y[i * n + j]), 0);
      CHECK(out.view().get(i, j) == expect);
    }
}

TEST_CASE("reference kernels reject bad input with a clear error and leave the output untouched") {
  std::mt19937 rng(31);
  code_matrix<4, signed_codes, mpq::interleaved> w(3, 10, rng);
  code_matrix<8, unsigned_codes, mpq::interleaved> a(1, 11, rng);
  code_matrix<8, unsigned_codes, mpq::interleaved> a2(2, 10, rng);
  std::vector<std::int32_t> y(3, 42);
  auto s = mpq::kernel::try_reference_gemv(w.view(), a.view(), std::span<std::int32_t>(y));
  CHECK(s.code() == mpq::errc::shape_mismatch);
  CHECK(std::string(s.message()).find("K = 10") != std::string::npos);
  CHECK(mpq::kernel::try_reference_gemv(w.view(), a2.view(), std::span<std::int32_t>(y)).code() ==
        mpq::errc::shape_mismatch);
  std::vector<std::int32_t> short_y(2, 42);
  code_matrix<8, unsigned_codes, mpq::interleaved> a1(1, 10, rng);
  CHECK(mpq::kernel::try_reference_gemv(w.view(), a1.view(), std::span<std::int32_t>(short_y)).code() ==
        mpq::errc::shape_mismatch);
  for (auto v : y) CHECK(v == 42);
  for (auto v : short_y) CHECK(v == 42);

  std::vector<float> scale(2, 1.0f), yf(3, 9.0f);
  mpq::kernel::dequantization dq{scale};
  CHECK(mpq::kernel::try_reference_gemv(w.view(), a1.view(), dq, std::span<float>(yf)).code() ==
        mpq::errc::shape_mismatch);
  std::vector<float> one(1, 1.0f);
  mpq::kernel::dequantization bad_offset{one, {}, 0.25f};
  auto so = mpq::kernel::try_reference_gemv(w.view(), a1.view(), bad_offset, std::span<float>(yf));
  CHECK(so.code() == mpq::errc::invalid_argument);
  CHECK(std::string(so.message()).find("weight_code_offset = 0.25") != std::string::npos);
  for (auto v : yf) CHECK(v == 9.0f);

  // K beyond the exact bound: W8A8 allows 33025.
  const std::size_t k = mpq::kernel::max_exact_k(8, 8) + 1;
  code_matrix<8, signed_codes, mpq::interleaved> wk(1, k, rng);
  code_matrix<8, unsigned_codes, mpq::interleaved> ak(1, k, rng);
  std::vector<std::int32_t> yk(1, 5);
  auto sk = mpq::kernel::try_reference_gemv(wk.view(), ak.view(), std::span<std::int32_t>(yk));
  CHECK(sk.code() == mpq::errc::overflow);
  CHECK(std::string(sk.message()).find("W8A8") != std::string::npos);
  CHECK(yk[0] == 5);
}
