// The kernel front end beyond bit-exactness: layouts' worked examples, prepack formats, runtime bits,
// executors and threads, dot, layer chaining in packed form, and errors at the boundary.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernel_test_archs.hpp"
#include "kernel_test_util.hpp"
#include "mpq/kernel/gemm.hpp"
#include "mpq/kernel/reference.hpp"
#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/interleaved.hpp"

namespace {
using mpq::signed_codes;
using mpq::unsigned_codes;
using mpq_test::code_matrix;
using mpq_test::fill;
namespace mk = mpq::kernel;

// A caller's executor that runs its tasks in reverse order on the calling thread.
struct reverse_executor {
  template <class F>
  void parallel_for(std::size_t n, F&& f) const {
    for (std::size_t i = n; i-- > 0;) f(i);
  }
  std::size_t concurrency() const { return 5; }
};

template <class L>
constexpr std::array<std::uint8_t, 128> pack_split(int bits, std::initializer_list<std::pair<int, int>> codes) {
  std::array<std::uint8_t, 128> row{};
  for (auto [j, c] : codes) L::store(row, bits, 256, static_cast<std::size_t>(j), mpq::code_to_field(c, bits));
  return row;
}
}  // namespace

// The worked examples in split_planes.hpp and row_tiles.hpp, checked at compile time.
static_assert([] {
  auto row = pack_split<mk::split_planes>(3, {{0, 5}, {32, 2}, {64, 7}});
  return row[0] == 0b0011'1001 && row[64] == 0b0000'0101 && row[1] == 0 && row[65] == 0;
}());
static_assert([] {
  std::array<std::uint8_t, 64> tile{};
  const int r0[8] = {1, -1, 0, -2, 1, 1, 0, 0}, r1[8] = {-1, -1, -1, -1, 0, 0, 0, 1};
  for (std::size_t k = 0; k < 8; ++k) {
    mk::row_tiles::store(tile.data(), 2, 0, k, mpq::code_to_field(r0[k], 2));
    mk::row_tiles::store(tile.data(), 2, 1, k, mpq::code_to_field(r1[k], 2));
  }
  return tile[0] == 0b0011'0011 && tile[1] == 0b1000'1111 && tile[32] == 0b0000'1010 && tile[33] == 0b0000'1111;
}());
static_assert(mpq::PackedLayout<mk::split_planes>);
static_assert(mk::DotKernel<mk::gemm_kernel<4, 8, mpq::arch::best_arch>>);
static_assert(mk::DotKernel<mk::gemm_kernel<1, 1, mpq::arch::generic<xsimd::default_arch>>>);
static_assert(!mk::DotKernel<mk::packed_weights>);
static_assert(mk::Executor<mk::serial_executor> && mk::Executor<mk::thread_executor>);

TEST_CASE("split_planes round-trips every width and its block is what the kernels step over") {
  std::mt19937 rng(3);
  for (int bits = 1; bits <= 8; ++bits) {
    const std::size_t block = mk::split_planes::col_block(bits);
    CHECK(block % 64 == 0);
    CHECK(block == (bits == 4 || bits == 8 ? 64u : (bits == 2 || bits == 6 ? 128u : 256u)));
    std::vector<std::uint8_t> row(mk::split_planes::row_bytes(bits, 2 * block));
    std::vector<std::uint32_t> fields(2 * block);
    for (auto& f : fields) f = rng() & ((1u << bits) - 1u);
    for (std::size_t j = 0; j < fields.size(); ++j) mk::split_planes::store(row, bits, 2 * block, j, fields[j]);
    for (std::size_t j = 0; j < fields.size(); ++j) REQUIRE(mk::split_planes::load(row, bits, 2 * block, j) == fields[j]);
  }
}

TEST_CASE("prepack keeps every code in every format, with exact row sums") {
  std::mt19937 rng(5);
  code_matrix<3, signed_codes, mpq::interleaved> w(45, 77, rng);
  for (auto algo : {mk::algorithm::unpack_dot, mk::algorithm::lut, mk::algorithm::bitserial}) {
    const auto pw = mk::packed_weights::prepack(w.view(), algo);
    CHECK(pw.algorithm() == algo);
    CHECK(reinterpret_cast<std::uintptr_t>(pw.data()) % 64 == 0);
    for (std::size_t n = 0; n < 45; ++n) {
      std::int64_t s = 0;
      for (std::size_t k = 0; k < 77; ++k) {
        REQUIRE(pw.code(n, k) == w.code(n, k));
        s += w.code(n, k);
      }
      CHECK(pw.row_sums()[n] == s);
    }
  }
}

TEST_CASE("1-bit interleaved activations read in place by bitserial: bits past K are ignored, odd strides fall back") {
  std::mt19937 rng(11);
  constexpr std::size_t m = 6, n = 37, k = 77;  // K ends mid-word: 13 bits of word 1 are padding
  code_matrix<2, signed_codes, mpq::interleaved> w(n, k, rng);
  code_matrix<1, unsigned_codes, mpq::interleaved> a(m, k, rng);
  std::vector<std::int32_t> ref(m * n);
  REQUIRE(mk::try_reference_gemm(a.view(), w.view(), std::span<std::int32_t>(ref), n).ok());
  // Garbage in every padding bit (codes k .. 127) of every row: the weights are zero there.
  for (std::size_t i = 0; i < m; ++i) {
    std::uint8_t* row = a.bytes.data() + i * a.stride;
    for (std::size_t b = k / 8; b < 16; ++b) row[b] |= static_cast<std::uint8_t>(b == k / 8 ? 0xFFu << (k % 8) : 0xFFu);
  }
  const auto pw = mk::packed_weights::prepack(w.view(), mk::algorithm::bitserial);
  const std::size_t words = mk::detail::bitserial_words(pw);
  CHECK(words == 2);
  CHECK(mk::activation_codes::decode(a.view(), mk::serial_executor{}, words).get().planes != nullptr);
  CHECK(mk::activation_codes::decode(a.view(), mk::serial_executor{}, 0).get().planes == nullptr);
  std::vector<std::int32_t> c(m * n, -1);
  REQUIRE(mk::try_gemm<2, 1>(a.view(), pw, std::span<std::int32_t>(c), n).ok());
  CHECK(c == ref);
  // The activation row sums (masked to K) enter through the epilogue's zero points.
  std::vector<float> scale(n, 0.25f), bias(n, 1.0f), ref_f(m * n), f(m * n, -1.0f);
  const mk::dequantization dq{scale, bias, 0.5f, -3.0f};
  REQUIRE(mk::try_reference_gemm(a.view(), w.view(), dq, std::span<float>(ref_f), n).ok());
  REQUIRE(mk::try_gemm<2, 1>(a.view(), pw, dq, std::span<float>(f), n).ok());
  CHECK(f == ref_f);
  // A row stride that is not a whole number of words: decoded to bytes as usual, same result.
  mpq_test::aligned_bytes odd(m * (a.stride + 4) + 64);
  for (std::size_t i = 0; i < m; ++i) std::memcpy(odd.data() + i * (a.stride + 4), a.bytes.data() + i * a.stride, a.stride);
  const mpq::packed_view<1, unsigned_codes, mpq::interleaved> ov{odd.data(), m, k, a.padded_cols, a.stride + 4};
  CHECK(mk::activation_codes::decode(ov, mk::serial_executor{}, words).get().planes == nullptr);
  std::vector<std::int32_t> c2(m * n, -1);
  REQUIRE(mk::try_gemm<2, 1>(ov, pw, std::span<std::int32_t>(c2), n).ok());
  CHECK(c2 == ref);
}

TEST_CASE("the runtime-bits front end dispatches to the pair the operands carry") {
  std::mt19937 rng(7);
  code_matrix<5, signed_codes, mpq::interleaved> w(19, 100, rng);
  code_matrix<3, signed_codes, mpq::interleaved> a(1, 100, rng);
  std::vector<std::int32_t> ref(19), y(19);
  mk::reference_gemv(w.view(), a.view(), std::span<std::int32_t>(ref));
  const auto pw = mk::packed_weights::prepack_for(w.view(), 3);
  const mk::runtime_view<mpq::interleaved> ra = a.view();
  CHECK(ra.bits == 3);
  REQUIRE(mk::try_gemv(pw, ra, std::span<std::int32_t>(y)).ok());
  CHECK(y == ref);
  // compile-time entry with the wrong W: a clear error, nothing written
  std::vector<std::int32_t> z(19, 7);
  auto s = mk::try_gemv<4, 3>(pw, a.view(), std::span<std::int32_t>(z));
  CHECK(s.code() == mpq::errc::invalid_argument);
  CHECK(std::string(s.message()).find("W = 4") != std::string::npos);
  CHECK(z == std::vector<std::int32_t>(19, 7));
}

TEST_CASE("prepacked rows 4 KiB apart get one more cache line, and compute the same") {
  std::mt19937 rng(7);
  // W4 unpack_dot rows of 8192 codes and W2 bitserial rows of 16384 codes are 4096 bytes each.
  code_matrix<4, signed_codes, mpq::interleaved> w4(5, 8192, rng);
  code_matrix<2, signed_codes, mpq::interleaved> w2(5, 16384, rng);
  code_matrix<8, unsigned_codes, mpq::interleaved> a4(1, 8192, rng), a2(1, 16384, rng);
  const auto p4 = mk::packed_weights::prepack(w4.view(), mk::algorithm::unpack_dot);
  const auto p2 = mk::packed_weights::prepack(w2.view(), mk::algorithm::bitserial);
  CHECK(p4.stride() == 4096 + 64);
  CHECK(p2.stride() == 4096 + 64);
  // A stride that is not a multiple of 4 KiB stays as it was.
  const auto p4s = mk::packed_weights::prepack(code_matrix<4, signed_codes, mpq::interleaved>(3, 8000, rng).view(),
                                               mk::algorithm::unpack_dot);
  CHECK(p4s.stride() == 4032);
  std::vector<std::int32_t> y4(5), y2(5);
  mk::gemm<4, 8>(a4.view(), p4, std::span<std::int32_t>(y4), 5);
  mk::gemm<2, 8>(a2.view(), p2, std::span<std::int32_t>(y2), 5);
  for (std::size_t n = 0; n < 5; ++n) {
    CHECK(y4[n] == mpq_test::naive_dot(w4, n, a4, 0));
    CHECK(y2[n] == mpq_test::naive_dot(w2, n, a2, 0));
  }
}

TEST_CASE("two threads (and a caller's executor) give the serial result, and calls are re-entrant") {
  std::mt19937 rng(9);
  code_matrix<4, signed_codes, mpq::interleaved> w(301, 257, rng);
  code_matrix<8, unsigned_codes, mpq::interleaved> a(7, 257, rng);
  for (auto algo : {mk::algorithm::unpack_dot, mk::algorithm::lut, mk::algorithm::bitserial}) {
    const auto pw = mk::packed_weights::prepack(w.view(), algo);
    std::vector<std::int32_t> serial(7 * 301), threaded(7 * 301, -1), pooled(7 * 301, -2);
    mk::gemm<4, 8>(a.view(), pw, std::span<std::int32_t>(serial), 301);
    mk::gemm<4, 8>(a.view(), pw, std::span<std::int32_t>(threaded), 301, mk::thread_executor{2});
    CHECK(threaded == serial);
    // A caller's executor: runs tasks in reverse order (any order must give the same result).
    mk::gemm<4, 8>(a.view(), pw, std::span<std::int32_t>(pooled), 301, reverse_executor{});
    CHECK(pooled == serial);
    // Two gemms on the same weights from two threads at once.
    std::vector<std::int32_t> t1(7 * 301), t2(7 * 301);
    std::thread th([&] { mk::gemm<4, 8>(a.view(), pw, std::span<std::int32_t>(t1), 301); });
    mk::gemm<4, 8>(a.view(), pw, std::span<std::int32_t>(t2), 301, mk::thread_executor{2});
    th.join();
    CHECK(t1 == serial);
    CHECK(t2 == serial);
  }
}

TEST_CASE("dot equals the reference row by row") {
  std::mt19937 rng(11);
  code_matrix<2, signed_codes, mpq::interleaved> w(40, 99, rng);
  code_matrix<6, signed_codes, mpq::bitplane> a(1, 99, rng);
  for (auto algo : {mk::algorithm::unpack_dot, mk::algorithm::lut, mk::algorithm::bitserial}) {
    const auto pw = mk::packed_weights::prepack(w.view(), algo);
    for (std::size_t n : {0u, 31u, 32u, 39u}) CHECK(mk::dot<2, 6>(pw, n, a.view()) == mpq::kernel::reference_dot(w.view(), n, a.view(), 0));
  }
}

TEST_CASE("two layers chain in packed form: requantized codes are the next gemv's activations") {
  std::mt19937 rng(13);
  code_matrix<4, signed_codes, mpq::interleaved> w1(64, 96, rng), w2(10, 64, rng);
  code_matrix<8, unsigned_codes, mpq::interleaved> x(1, 96, rng);
  code_matrix<4, unsigned_codes, mpq::interleaved> h(1, 64, rng), h_ref(1, 64, rng);
  std::vector<float> s1(64, 0.003f), s2(10, 0.05f), y(10), y_ref(10);
  const mk::dequantization dq1{s1}, dq2{s2};
  const auto rq = mk::requantization::from(mpq::uniform_quantizer<4, unsigned_codes>(0.1f));
  const auto p1 = mk::packed_weights::prepack_for(w1.view(), 8), p2 = mk::packed_weights::prepack_for(w2.view(), 4);
  mk::gemv<4, 8>(p1, x.view(), dq1, rq, h.span());
  mk::gemv<4, 4>(p2, h.view(), dq2, std::span<float>(y));
  mk::reference_gemv(w1.view(), x.view(), dq1, rq, h_ref.span());
  mk::reference_gemv(w2.view(), h_ref.view(), dq2, std::span<float>(y_ref));
  for (std::size_t j = 0; j < 64; ++j) CHECK(h.view().get(0, j) == h_ref.view().get(0, j));
  CHECK(y == y_ref);
}

TEST_CASE("bad input is a clear error and changes nothing") {
  std::mt19937 rng(15);
  code_matrix<8, signed_codes, mpq::interleaved> w(3, 70, rng);
  code_matrix<8, unsigned_codes, mpq::interleaved> a(1, 70, rng), a_short(1, 69, rng), a2(2, 70, rng);
  const auto pw = mk::packed_weights::prepack_for(w.view(), 8);
  std::vector<std::int32_t> y(3, 9);
  auto s = mk::try_gemv<8, 8>(pw, a_short.view(), std::span<std::int32_t>(y));
  CHECK(s.code() == mpq::errc::shape_mismatch);
  CHECK(mk::try_gemv<8, 8>(pw, a2.view(), std::span<std::int32_t>(y)).code() == mpq::errc::shape_mismatch);
  std::vector<std::int32_t> y2(2, 9);
  CHECK(mk::try_gemv<8, 8>(pw, a.view(), std::span<std::int32_t>(y2)).code() == mpq::errc::shape_mismatch);
  std::vector<float> yf(3, 1.0f), scale2(2, 1.0f);
  CHECK(mk::try_gemv<8, 8>(pw, a.view(), mk::dequantization{scale2}, std::span<float>(yf)).code() ==
        mpq::errc::shape_mismatch);
  CHECK(y == std::vector<std::int32_t>(3, 9));
  CHECK(yf == std::vector<float>(3, 1.0f));
  CHECK(mk::try_gemv<8, 8>(mk::packed_weights{}, a.view(), std::span<std::int32_t>(y)).code() ==
        mpq::errc::invalid_argument);

  // K beyond the exact bound of the pair.
  const std::size_t k = mk::max_exact_k(8, 8) + 1;
  code_matrix<8, signed_codes, mpq::interleaved> wk(1, k, rng);
  code_matrix<8, unsigned_codes, mpq::interleaved> ak(1, k, rng);
  const auto pk = mk::packed_weights::prepack_for(wk.view(), 8);
  std::vector<std::int32_t> yk(1, 3);
  auto so = mk::try_gemv<8, 8>(pk, ak.view(), std::span<std::int32_t>(yk));
  CHECK(so.code() == mpq::errc::overflow);
  CHECK(std::string(so.message()).find("K = 33026") != std::string::npos);
  CHECK(yk[0] == 3);

  // Borrowing the caller's split_planes rows needs 64-byte aligned rows.
  using sp = mpq::packed_view<4, signed_codes, mk::split_planes>;
  mpq_test::aligned_bytes buf(4 * 128 + 64);
  const sp aligned{buf.data(), 4, 64, 64, 64};
  CHECK(mk::packed_weights::try_borrow(aligned).has_value());
  const sp shifted{buf.data() + 32, 4, 64, 64, 64};
  auto b1 = mk::packed_weights::try_borrow(shifted);
  REQUIRE(!b1.has_value());
  CHECK(b1.error().code() == mpq::errc::misaligned);
  const sp strided{buf.data(), 4, 64, 64, 96};
  CHECK(mk::packed_weights::try_borrow(strided).error().code() == mpq::errc::misaligned);
}

TEST_CASE("borrowed split_planes weights compute the same as prepacked ones") {
  std::mt19937 rng(17);
  code_matrix<6, signed_codes, mk::split_planes> w(9, 130, rng);
  code_matrix<7, unsigned_codes, mpq::interleaved> a(1, 130, rng);
  auto borrowed = mk::packed_weights::try_borrow(w.view());
  REQUIRE(borrowed.has_value());
  std::vector<std::int32_t> y(9), ref(9);
  mk::gemv<6, 7>(*borrowed, a.view(), std::span<std::int32_t>(y));
  mk::reference_gemv(w.view(), a.view(), std::span<std::int32_t>(ref));
  CHECK(y == ref);
}
