// Tests for mpq/core/error.hpp: status messages, expected, raise/throw with exceptions.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "mpq/core/error.hpp"

TEST_CASE("status: default is ok, failure carries code and formatted message") {
  mpq::status ok;
  CHECK(ok.ok());
  CHECK(static_cast<bool>(ok));
  CHECK(std::string(ok.message()).empty());

  auto s = mpq::status::failure(mpq::errc::invalid_argument, "bits = %d: must be 1..8", 9);
  CHECK_FALSE(s.ok());
  CHECK(s.code() == mpq::errc::invalid_argument);
  CHECK(std::string(s.message()) == "bits = 9: must be 1..8");
}

TEST_CASE("status: an over-long message is truncated, never overflows") {
  std::string longer(1000, 'x');
  auto s = mpq::status::failure(mpq::errc::io_error, "%s", longer.c_str());
  CHECK(std::strlen(s.message()) == mpq::status::message_capacity - 1);
}

TEST_CASE("to_string names every error code") {
  CHECK(std::string(mpq::to_string(mpq::errc::shape_mismatch)) == "shape_mismatch");
  CHECK(std::string(mpq::to_string(mpq::errc::corrupt_data)) == "corrupt_data");
  CHECK(std::string(mpq::to_string(mpq::errc::ok)) == "ok");
}

TEST_CASE("raise throws mpq::error with code and message; throw_if_error passes ok through") {
  auto s = mpq::status::failure(mpq::errc::not_finite, "step = %s: must be finite", "nan");
  try {
    mpq::raise(s);
    FAIL("raise returned");
  } catch (const mpq::error& e) {
    CHECK(e.code() == mpq::errc::not_finite);
    CHECK(std::string(e.what()) == "step = nan: must be finite");
  }
  CHECK_NOTHROW(mpq::throw_if_error(mpq::status{}));
  CHECK_THROWS_AS(mpq::throw_if_error(s), mpq::error);
  // mpq::error is a std::runtime_error, so generic handlers catch it.
  CHECK_THROWS_AS(mpq::throw_if_error(s), std::runtime_error);
}

TEST_CASE("expected: value or status; value() on failure throws") {
  mpq::expected<std::string> good(std::string("packed"));
  REQUIRE(good.has_value());
  CHECK(*good == "packed");
  CHECK(good->size() == 6);
  CHECK(good.error().ok());

  mpq::expected<std::string> bad(mpq::status::failure(mpq::errc::infeasible, "budget %d below minimum %d", 3, 5));
  CHECK_FALSE(bad.has_value());
  CHECK(bad.error().code() == mpq::errc::infeasible);
  CHECK_THROWS_WITH_AS(bad.value(), "budget 3 below minimum 5", mpq::error);

  // copies and moves keep the state
  mpq::expected<std::string> copy = good;
  CHECK(*copy == "packed");
  mpq::expected<std::string> moved = std::move(copy);
  CHECK(*moved == "packed");
  moved = bad;
  CHECK_FALSE(moved.has_value());
  CHECK(moved.error().code() == mpq::errc::infeasible);
}

namespace {
mpq::status try_twice(bool fail_first) {
  MPQ_TRY(fail_first ? mpq::status::failure(mpq::errc::overflow, "first") : mpq::status{});
  MPQ_TRY(mpq::status::failure(mpq::errc::io_error, "second"));
  return {};
}
}  // namespace

TEST_CASE("MPQ_TRY returns the first failure") {
  CHECK(try_twice(true).code() == mpq::errc::overflow);
  CHECK(try_twice(false).code() == mpq::errc::io_error);
}
