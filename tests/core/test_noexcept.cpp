// Built with -fno-exceptions: checked entry points return status/expected; the handler is settable.
#include <doctest/doctest.h>

#include <string>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"

static_assert(MPQ_HAS_EXCEPTIONS == 0, "this test must be compiled with -fno-exceptions");

namespace {
int handler_calls = 0;
void counting_handler(const mpq::status&) noexcept { ++handler_calls; }
}  // namespace

TEST_CASE("without exceptions, checks report through status and expected") {
  auto s = mpq::check_packable_bits(0);
  CHECK(s.code() == mpq::errc::invalid_argument);
  CHECK(std::string(s.message()).find("bits = 0") != std::string::npos);

  mpq::expected<int> e(s);
  CHECK_FALSE(e.has_value());
  CHECK(e.error().code() == mpq::errc::invalid_argument);
  mpq::expected<int> v(42);
  CHECK(v.value() == 42);
}

TEST_CASE("set_error_handler installs and restores handlers") {
  auto previous = mpq::set_error_handler(&counting_handler);
  CHECK(static_cast<bool>(previous));
  const bool got_ours_back = mpq::set_error_handler(nullptr) == &counting_handler;  // nullptr: default
  CHECK(got_ours_back);
  const bool default_restored = mpq::set_error_handler(previous) == previous;
  CHECK(default_restored);
  CHECK(handler_calls == 0);
}
