// Tests for mpq/core/bits.hpp: code ranges, field <-> code conversion, checked bit validation.
#include <doctest/doctest.h>

#include <string>

#include "mpq/core/bits.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;

static_assert(mpq::code_traits<1, signed_codes>::min == -1 && mpq::code_traits<1, signed_codes>::max == 0);
static_assert(mpq::code_traits<4, signed_codes>::min == -8 && mpq::code_traits<4, signed_codes>::max == 7);
static_assert(mpq::code_traits<4, unsigned_codes>::max == 15);
static_assert(mpq::code_traits<16, signed_codes>::min == -32768);
static_assert(mpq::code_traits<8, unsigned_codes>::levels == 256);

TEST_CASE("code range of every width matches 2^bits levels") {
  for (int b = 1; b <= 8; ++b) {
    CAPTURE(b);
    CHECK(mpq::code_max(b, signed_codes) - mpq::code_min(b, signed_codes) + 1 == (1 << b));
    CHECK(mpq::code_max(b, unsigned_codes) - mpq::code_min(b, unsigned_codes) + 1 == (1 << b));
    CHECK(mpq::code_min(b, unsigned_codes) == 0);
  }
}

TEST_CASE("field_to_code inverts code_to_field for every code of every width") {
  for (int b = 1; b <= 8; ++b) {
    for (auto s : {signed_codes, unsigned_codes}) {
      for (int c = mpq::code_min(b, s); c <= mpq::code_max(b, s); ++c) {
        const auto field = mpq::code_to_field(c, b);
        CHECK(field < (1u << b));
        CHECK(mpq::field_to_code(field, b, s) == c);
      }
    }
  }
}

TEST_CASE("bit-width checks name the value and the rule") {
  CHECK(mpq::check_packable_bits(1).ok());
  CHECK(mpq::check_packable_bits(8).ok());
  auto s = mpq::check_packable_bits(9, "weight_bits");
  CHECK(s.code() == mpq::errc::invalid_argument);
  CHECK(std::string(s.message()) == "weight_bits = 9: packed codes must be 1..8 bits wide");
  CHECK_FALSE(mpq::check_packable_bits(0).ok());
  CHECK(mpq::check_quantizer_bits(16).ok());
  CHECK_FALSE(mpq::check_quantizer_bits(12).ok());
  CHECK_FALSE(mpq::check_packable_bits(16).ok());
}
