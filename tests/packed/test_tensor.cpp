// packed_tensor: shape, alignment, proxy references, iteration, row views, scales, copies; layout
// conversion round trips; fused quantize + pack and dequantize against the quantizer.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/pack.hpp"
#include "mpq/packed/strided_block.hpp"
#include "mpq/packed/tensor.hpp"
#include "mpq/packed/ternary.hpp"
#include "mpq/quant/uniform.hpp"
#include "packed_test_util.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;

using t5 = mpq::packed_tensor<5, signed_codes, mpq::interleaved>;
static_assert(std::random_access_iterator<t5::const_iterator>);
static_assert(std::random_access_iterator<t5::iterator>);
static_assert(std::indirectly_writable<t5::iterator, std::int32_t>);
static_assert(std::ranges::random_access_range<t5>);
static_assert(std::is_nothrow_move_constructible_v<t5>);

TEST_CASE("packed_tensor: new tensors hold zero codes, scale 1, zero point 0, aligned") {
  t5 t(3, 70);
  CHECK(t.rank() == 2);
  CHECK(t.padded_cols() == 128);
  CHECK(t.row_stride() == 80);
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % mpq::packed_alignment == 0);
  CHECK(std::all_of(t.begin(), t.end(), [](std::int32_t c) { return c == 0; }));
  CHECK(std::all_of(t.scales().begin(), t.scales().end(), [](float s) { return s == 1.0f; }));
  CHECK(std::all_of(t.zero_points().begin(), t.zero_points().end(), [](float z) { return z == 0.0f; }));
  t5 empty;
  CHECK(empty.size() == 0);
  CHECK(empty.rows() == 0);
}

TEST_CASE("packed_tensor: proxy references read, write and check") {
  t5 t(2, 9);
  t(1, 8) = -16;
  t(0, 0) = 15;
  t(0, 1) = t(1, 8);  // reference to reference copies the value
  CHECK(t(1, 8) == -16);
  CHECK(t(0, 1) == -16);
  CHECK(t(0, 0) == 15);
  CHECK(t[9 + 8] == -16);  // flat row-major
  try {
    t(0, 2) = 16;
    FAIL("expected mpq::error");
  } catch (const mpq::error& e) {
    CHECK(e.code() == mpq::errc::out_of_range);
    CHECK(std::string(e.what()) == "code = 16: 5-bit signed codes in layout interleaved must lie in [-16, 15]");
  }
  CHECK(t(0, 2) == 0);  // the failed write changed nothing
  CHECK_THROWS_AS((t.at(2, 0)), mpq::error);
  CHECK_THROWS_AS((t.at(0, 9) = 1), mpq::error);
  CHECK(t.at(1, 8) == -16);

  // iterators are random access and write through
  std::fill(t.begin(), t.end(), 3);
  CHECK(std::count(t.cbegin(), t.cend(), 3) == 18);
  auto it = t.begin() + 10;
  *it = -7;
  CHECK(t(1, 1) == -7);
  CHECK(t.end() - t.begin() == 18);
  CHECK(std::ranges::distance(t) == 18);
  // padding stays zero codes after element writes
  CHECK(mpq::row_is_canonical<5, signed_codes, mpq::interleaved>(t.view().row_span(1), t.padded_cols(), 9));
}

TEST_CASE("packed_tensor: row views, copies and moves") {
  std::vector<std::int32_t> codes(4 * 33);
  for (std::size_t k = 0; k < codes.size(); ++k) codes[k] = static_cast<std::int32_t>(k % 8);
  auto t = mpq::pack<3, unsigned_codes, mpq::bitplane>(codes, 4, 33);
  t.scales()[2] = 0.5f;
  t.zero_points()[2] = 4.0f;
  auto r = t.row(2);
  CHECK(r.rows == 1);
  CHECK(r.cols == 33);
  for (std::size_t j = 0; j < 33; ++j) CHECK(r.get(0, j) == codes[2 * 33 + j]);
  CHECK(t.value(2, 1) == 0.5f * (static_cast<float>(codes[67]) - 4.0f));
  t.row(3)(0, 5) = 1;  // a writable row span
  CHECK(t(3, 5) == 1);

  auto copy = t;
  CHECK(copy == t);
  CHECK(copy.data() != t.data());
  copy(0, 0) = 7;
  CHECK_FALSE(copy == t);
  auto moved = std::move(copy);
  CHECK(moved(0, 0) == 7);
  CHECK(copy.size() == 0);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  copy = moved;
  CHECK(copy == moved);
}

TEST_CASE("packed_tensor: bad shapes are refused with a clear error") {
  auto r = t5::try_make(mpq::packed_shape{3, 1, 1});
  REQUIRE_FALSE(r);
  CHECK(std::string(r.error().message()) == "packed_tensor: rank = 3: must be 1 or 2");
  auto big = t5::try_make(std::size_t{1} << 40, std::size_t{1} << 40);
  REQUIRE_FALSE(big);
  CHECK(big.error().code() == mpq::errc::overflow);
}

// ---- layout conversion ----

namespace {
template <class From, class To>
void convert_round_trip() {
  mpq_test::for_each_width<From>([]<int Bits, mpq::signedness S>() {
    if constexpr (mpq::layout_supports<To>(Bits, S)) {
      constexpr std::int32_t lo = std::max(mpq::layout_code_min<From>(Bits, S), mpq::layout_code_min<To>(Bits, S));
      constexpr std::int32_t hi = std::min(mpq::layout_code_max<From>(Bits, S), mpq::layout_code_max<To>(Bits, S));
      for (std::size_t cols : mpq_test::odd_cols) {
        const auto codes = mpq_test::random_codes(2 * cols, lo, hi, static_cast<unsigned>(cols) + Bits);
        auto a = mpq::pack<Bits, S, From>(codes, 2, cols);
        a.scales()[1] = 3.0f;
        a.zero_points()[0] = -0.5f;
        const auto b = mpq::convert_layout<To>(a);
        const auto back = mpq::convert_layout<From>(b);
        CAPTURE(Bits);
        CAPTURE(cols);
        REQUIRE(back == a);  // same bytes, scales, zero points
        REQUIRE(std::ranges::equal(b.payload(), mpq::pack<Bits, S, To>(codes, 2, cols).payload()));
        REQUIRE(b.scales()[1] == 3.0f);
        REQUIRE(b.zero_points()[0] == -0.5f);
        std::vector<std::int32_t> out(codes.size());
        mpq::unpack(b, out);
        REQUIRE(out == codes);
      }
    }
  });
}
}  // namespace

TEST_CASE("layout conversion round trips between every pair of layouts") {
  convert_round_trip<mpq::interleaved, mpq::bitplane>();
  convert_round_trip<mpq::bitplane, mpq::interleaved>();
  convert_round_trip<mpq::interleaved, mpq::strided_block<64>>();
  convert_round_trip<mpq::bitplane, mpq::strided_block<16>>();
  convert_round_trip<mpq::interleaved, mpq_test::reversed128>();
  convert_round_trip<mpq::ternary_base3, mpq::ternary2>();
  convert_round_trip<mpq::ternary2, mpq::bitplane>();
  convert_round_trip<mpq::ternary_base3, mpq::strided_block<32>>();
}

TEST_CASE("layout conversion into a narrower layout checks every code first") {
  auto a = mpq::pack<2, signed_codes>(std::vector<std::int8_t>{1, 0, -1, -2, 1}, 1, 5);
  auto r = mpq::try_convert_layout<mpq::ternary_base3>(a);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == mpq::errc::out_of_range);
  CHECK(std::string(r.error().message()) ==
        "convert_layout: code (0, 3) = -2: layout ternary_base3 holds [-1, 1]");
  auto dst = mpq::pack<2, signed_codes, mpq::ternary_base3>(std::vector<std::int8_t>{1, 1, 1, 1, 1}, 1, 5);
  const auto before = dst;
  CHECK_FALSE(mpq::try_convert_into(a.view(), dst.span()).ok());
  CHECK(dst == before);
  auto wrong = mpq::pack<2, signed_codes, mpq::ternary_base3>(std::vector<std::int8_t>{1, 1}, 1, 2);
  CHECK(mpq::try_convert_into(a.view(), wrong.span()).code() == mpq::errc::shape_mismatch);
}

// ---- fused quantize + pack, dequantize ----

namespace {
template <int Bits, mpq::signedness S, class L>
void quantize_pack_matches_quantizer(unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 2.0f);
  for (std::size_t cols : mpq_test::odd_cols) {
    const std::size_t rows = 3;
    std::vector<float> x(rows * cols);
    for (auto& v : x) v = d(rng);
    x[0] = 1e9f;
    x[x.size() - 1] = -1e9f;
    if (x.size() > 2) x[1] = std::nanf("");
    // per-channel: a different step and zero point per row
    std::vector<mpq::uniform_quantizer<Bits, S>> qs;
    for (std::size_t i = 0; i < rows; ++i)
      qs.emplace_back(0.1f + 0.2f * static_cast<float>(i),
                      S == signed_codes ? 0 : static_cast<std::int32_t>(i) % (1 << Bits));
    auto t = mpq::try_quantize_pack<Bits, S, L>(std::span<const mpq::uniform_quantizer<Bits, S>>(qs), x, rows, cols);
    REQUIRE(t);
    std::vector<float> y(x.size());
    mpq::dequantize(*t, y);
    std::vector<float> y2(x.size());
    REQUIRE(mpq::try_dequantize(t->view(), std::span<const mpq::uniform_quantizer<Bits, S>>(qs), y2).ok());
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t j = 0; j < cols; ++j) {
        const std::size_t k = i * cols + j;
        CAPTURE(Bits);
        CAPTURE(k);
        REQUIRE((*t)(i, j) == qs[i].quantize(x[k]));
        REQUIRE(y[k] == qs[i].fake_quantize(x[k]));
        REQUIRE(y2[k] == y[k]);
      }
    }
    REQUIRE(mpq::row_is_canonical<Bits, S, L>(t->view().row_span(rows - 1), t->padded_cols(), cols));
  }
}
}  // namespace

TEST_CASE_TEMPLATE("quantize_pack equals quantizer.quantize code by code; dequantize equals fake_quantize", L,
                   mpq::interleaved, mpq::bitplane, mpq::strided_block<32>, mpq_test::reversed128) {
  mpq_test::for_each_width<L>([]<int Bits, mpq::signedness S>() { quantize_pack_matches_quantizer<Bits, S, L>(Bits); });
}

TEST_CASE("quantize_pack: a quantizer whose codes do not fit is refused, the span unchanged") {
  const mpq::uniform_quantizer<8, signed_codes> q8(0.1f);
  const std::vector<float> x(10, 0.5f);
  auto r = mpq::try_quantize_pack<4, signed_codes>(q8, x, 2, 5);
  REQUIRE_FALSE(r);
  CHECK(std::string(r.error().message()) ==
        "quantize_pack: the quantizer's codes [-128, 127] do not fit 4-bit signed codes in layout interleaved [-8, 7]");
  // a narrowed quantizer range that fits is fine (symmetric 8-bit codes into ternary: no; [-1, 1]: yes)
  const mpq::uniform_quantizer<2, signed_codes> tern(0.5f, 0, -1, 1);
  auto t = mpq::quantize_pack<2, signed_codes, mpq::ternary_base3>(tern, x, 2, 5);
  CHECK(t(1, 4) == 1);
  const mpq::uniform_quantizer<2, signed_codes> full(0.5f);
  CHECK_FALSE(mpq::try_quantize_pack<2, signed_codes, mpq::ternary_base3>(full, x, 2, 5));
  auto dst = mpq::pack<4, signed_codes>(std::vector<std::int8_t>(10, 3), 2, 5);
  const auto before = dst;
  CHECK(mpq::try_quantize_pack_into(q8, x, dst.span()).code() == mpq::errc::invalid_argument);
  CHECK(mpq::try_quantize_pack_into(mpq::uniform_quantizer<4>(1.0f), std::vector<float>(9), dst.span()).code() ==
        mpq::errc::shape_mismatch);
  CHECK(dst == before);
  std::vector<float> out(10);
  const std::vector<float> two(2, 1.0f), three(3, 1.0f);
  CHECK(mpq::try_unpack_to_float(dst.view(), two, two, out).ok());
  CHECK(out[9] == 3.0f - 1.0f);
  CHECK(mpq::try_unpack_to_float(dst.view(), three, two, out).code() == mpq::errc::shape_mismatch);
}
