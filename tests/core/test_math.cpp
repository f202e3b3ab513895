// Tests for mpq/core/math.hpp.
#include <doctest/doctest.h>

#include <limits>

#include "mpq/core/math.hpp"

static_assert(mpq::ceil_div(7, 8) == 1 && mpq::ceil_div(8, 8) == 1 && mpq::ceil_div(9, 8) == 2);
static_assert(mpq::round_up(65, 64) == 128 && mpq::round_up(0, 64) == 0);
static_assert(mpq::is_finite(1.0f) && !mpq::is_nan(1.0f));

TEST_CASE("is_finite / is_nan classify the special values") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK_FALSE(mpq::is_finite(inf));
  CHECK_FALSE(mpq::is_finite(-inf));
  CHECK_FALSE(mpq::is_finite(nan));
  CHECK(mpq::is_nan(nan));
  CHECK_FALSE(mpq::is_nan(inf));
  CHECK(mpq::is_finite(std::numeric_limits<float>::max()));
  CHECK(mpq::is_finite(std::numeric_limits<double>::denorm_min()));
  CHECK(mpq::is_power_of_two(64));
  CHECK_FALSE(mpq::is_power_of_two(48));
  CHECK_FALSE(mpq::is_power_of_two(0));
}
