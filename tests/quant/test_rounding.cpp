// Tests for mpq/quant/rounding.hpp against std::nearbyint (half-even) and std::round (half-away).
#include <doctest/doctest.h>

#include <cfenv>
#include <cmath>
#include <limits>
#include <random>

#include "mpq/quant/rounding.hpp"

static_assert(mpq::round_integral<mpq::round_half_even>(2.5f) == 2.0f);
static_assert(mpq::round_integral<mpq::round_half_even>(-2.5f) == -2.0f);
static_assert(mpq::round_integral<mpq::round_half_even>(3.5f) == 4.0f);
static_assert(mpq::round_integral<mpq::round_half_away>(2.5f) == 3.0f);
static_assert(mpq::round_integral<mpq::round_half_away>(-2.5f) == -3.0f);
static_assert(mpq::round_integral<mpq::round_half_away>(-0.4f) == 0.0f);

TEST_CASE("round_integral agrees with the C library on ties, near-ties and random floats") {
  REQUIRE(std::fegetround() == FE_TONEAREST);
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> wide(-1e7f, 1e7f), narrow(-40.0f, 40.0f);
  auto check_one = [](float x) {
    CAPTURE(x);
    CHECK(mpq::round_integral<mpq::round_half_even>(x) == std::nearbyint(x));
    CHECK(mpq::round_integral<mpq::round_half_away>(x) == std::round(x));
  };
  for (int i = -200; i <= 200; ++i) {
    const float tie = static_cast<float>(i) + 0.5f;
    check_one(tie);
    check_one(std::nextafter(tie, 1e9f));
    check_one(std::nextafter(tie, -1e9f));
  }
  for (int i = 0; i < 100000; ++i) {
    check_one(wide(rng));
    check_one(narrow(rng));
  }
  // Large values (already integral) and the 2^23 boundary.
  for (float x : {8388607.5f, 8388608.0f, 16777217.0f, -8388607.5f, 3.0e38f, -3.0e38f}) check_one(x);
}

TEST_CASE("round_integral passes NaN and Inf through") {
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(mpq::round_integral<mpq::round_half_even>(inf) == inf);
  CHECK(mpq::round_integral<mpq::round_half_away>(-inf) == -inf);
  CHECK(std::isnan(mpq::round_integral<mpq::round_half_even>(std::numeric_limits<float>::quiet_NaN())));
}
