// Tests for mpq::uniform_quantizer: forward against an independent scalar model, bad input, constexpr.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "mpq/quant/uniform.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;

// Quantize at compile time (what an embedded build does with its weights).
constexpr mpq::uniform_quantizer<4, signed_codes> q4(0.25f);
static_assert(q4.quantize(0.3f) == 1);
static_assert(q4.quantize(0.375f) == 2);   // 1.5 -> 2 (half to even)
static_assert(q4.quantize(0.625f) == 2);   // 2.5 -> 2 (half to even)
static_assert(q4.quantize(100.0f) == 7 && q4.quantize(-100.0f) == -8);
static_assert(q4.dequantize(-8) == -2.0f && q4.max_value() == 1.75f);
static_assert(mpq::UniformQuantizer<mpq::uniform_quantizer<2, unsigned_codes>>);
static_assert(mpq::Quantizer<mpq::uniform_quantizer<16, signed_codes, mpq::round_half_away>>);
constexpr mpq::uniform_quantizer<4, signed_codes, mpq::round_half_away> q4away(0.25f);
static_assert(q4away.quantize(0.625f) == 3);

namespace {
// Independent model: double arithmetic, explicit clamp, std::nearbyint / std::round.
template <class Q>
std::int32_t model_code(const Q& q, float x, bool half_even) {
  const double scaled = static_cast<double>(x * q.inverse_step());
  double r = half_even ? std::nearbyint(scaled) : std::round(scaled);
  r += q.zero_point();
  if (r < q.code_min()) r = q.code_min();
  if (r > q.code_max()) r = q.code_max();
  return static_cast<std::int32_t>(r);
}

template <int B, mpq::signedness S, class R>
void sweep(float step, std::int32_t zp) {
  mpq::uniform_quantizer<B, S, R> q(step, zp);
  const bool half_even = std::is_same_v<R, mpq::round_half_even>;
  const float lo = q.min_value() - 3 * step, hi = q.max_value() + 3 * step;
  const int n = 4001;
  for (int i = 0; i < n; ++i) {
    const float x = lo + (hi - lo) * static_cast<float>(i) / (n - 1);
    CAPTURE(B);
    CAPTURE(x);
    const auto c = q.quantize(x);
    CHECK(c == model_code(q, x, half_even));
    CHECK(q.fake_quantize(x) == q.dequantize(c));
    // inside the range the round trip is within half a step (plus float rounding of x / step)
    if (x >= q.min_value() && x <= q.max_value())
      CHECK(std::fabs(q.fake_quantize(x) - x) <= step * 0.5f + std::fabs(x) * 2e-7f);
  }
}
}  // namespace

TEST_CASE("uniform_quantizer matches the scalar model on dense grids, every width") {
  sweep<1, signed_codes, mpq::round_half_even>(0.5f, 0);
  sweep<2, signed_codes, mpq::round_half_even>(0.3f, 0);
  sweep<3, unsigned_codes, mpq::round_half_away>(0.125f, 0);
  sweep<4, signed_codes, mpq::round_half_away>(0.07f, 0);
  sweep<5, unsigned_codes, mpq::round_half_even>(0.01f, 3);
  sweep<6, signed_codes, mpq::round_half_even>(1.5f, -4);
  sweep<7, unsigned_codes, mpq::round_half_even>(0.02f, 0);
  sweep<8, unsigned_codes, mpq::round_half_even>(0.02f, 128);
  sweep<8, signed_codes, mpq::round_half_away>(0.001f, 0);
  sweep<16, signed_codes, mpq::round_half_even>(1e-3f, 0);
}

TEST_CASE("uniform_quantizer: NaN maps to the zero point, Inf to the ends") {
  mpq::uniform_quantizer<8, unsigned_codes> q(0.1f, 10);
  CHECK(q.quantize(std::numeric_limits<float>::quiet_NaN()) == 10);
  CHECK(q.quantize(std::numeric_limits<float>::infinity()) == 255);
  CHECK(q.quantize(-std::numeric_limits<float>::infinity()) == 0);
}

TEST_CASE("uniform_quantizer: a narrower symmetric code range clips there") {
  mpq::uniform_quantizer<4, signed_codes> q(1.0f, 0, -7, 7);
  CHECK(q.quantize(-100.0f) == -7);
  CHECK(q.min_value() == -7.0f);
}

TEST_CASE("uniform_quantizer rejects bad parameters with a clear error and try_make reports it") {
  using Q = mpq::uniform_quantizer<4, signed_codes>;
  CHECK_THROWS_WITH_AS(Q(0.0f), "uniform_quantizer: step = 0: the step must be finite and > 0", mpq::error);
  CHECK_THROWS_AS(Q{std::numeric_limits<float>::quiet_NaN()}, mpq::error);
  CHECK_THROWS_AS(Q{std::numeric_limits<float>::infinity()}, mpq::error);
  CHECK_THROWS_WITH_AS(Q(1.0f, 0, -9, 7),
                       "uniform_quantizer: code range [-9, 7]: must satisfy -8 <= lo <= hi <= 7 for 4-bit signed codes",
                       mpq::error);
  CHECK_THROWS_AS((Q(1.0f, 0, 3, 2)), mpq::error);
  CHECK_THROWS_AS((Q(1.0f, 8)), mpq::error);

  auto bad = Q::try_make(-1.0f);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code() == mpq::errc::invalid_argument);
  auto good = Q::try_make(0.5f, 1);
  REQUIRE(good.has_value());
  CHECK(good->quantize(1.0f) == 3);
}
