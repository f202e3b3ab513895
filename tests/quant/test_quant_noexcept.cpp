// The quantizers' checked API compiled with -fno-exceptions (the embedded build): every try_...
// entry point reports the broken rule through mpq::status / mpq::expected and changes nothing.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mpq/quant/calibration.hpp"
#include "mpq/quant/edmips.hpp"
#include "mpq/quant/lsq.hpp"
#include "mpq/quant/per_channel.hpp"
#include "mpq/quant/pow2.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/quant/step_range.hpp"

static_assert(!MPQ_HAS_EXCEPTIONS, "this test must be compiled without exceptions");

TEST_CASE("checked construction and parameter updates without exceptions") {
  const auto bad = mpq::u3_quantizer::try_make(0.5f, 0.25f);
  CHECK_FALSE(bad.has_value());
  CHECK(std::string(bad.error().message()) == "u3_quantizer: q_max = 0.25 is below d = 0.5: the range must hold at least one step");
  auto q = mpq::u3_quantizer::try_make(0.25f, 1.0f);
  CHECK(q.has_value());
  if (!q) return;  // doctest's REQUIRE needs exceptions
  CHECK(q->try_set_parameters({0.25f, 0.1f}).code() == mpq::errc::invalid_argument);
  CHECK(q->parameters() == std::array<float, 2>{0.25f, 1.0f});
  CHECK(q->try_set_parameters(q->project({0.3f, 0.2f})).ok());

  CHECK(mpq::p3_quantizer::try_make(0.5f, 0.25f).error().code() == mpq::errc::invalid_argument);
  CHECK(mpq::lsq_quantizer<>::try_make(1, mpq::signed_codes, 0.1f).error().code() == mpq::errc::invalid_argument);
  CHECK(mpq::gaussian_quantizer<>::try_make(7, 1.0f).error().code() == mpq::errc::invalid_argument);
  CHECK(mpq::hwgq_quantizer<>::try_make(2)->fake_quantize(0.9f) == 1.076f);
}

TEST_CASE("checked span, per-channel and calibration calls without exceptions") {
  const auto q = *mpq::lsq_quantizer<>::try_make(4, mpq::signed_codes, 0.1f);
  std::vector<float> x = {0.234f, 1.0f, -2.0f}, y(3), gx(3);
  std::vector<std::int8_t> codes(3);
  CHECK(mpq::try_quantize(q, std::span<const float>(x), std::span<std::int8_t>(codes)).ok());
  CHECK(codes == std::vector<std::int8_t>{2, 7, -8});
  CHECK(mpq::try_fake_quantize(q, x, std::span<float>(y.data(), 2)).code() == mpq::errc::shape_mismatch);
  std::array<float, 1> gp{};
  CHECK(q.try_backward(x, std::vector<float>{1, 1, 1}, gx, gp).ok());
  CHECK(gx == std::vector<float>{1, 0, 0});
  const std::array<std::size_t, 2> shape{3, 1};
  CHECK(mpq::channel_layout::try_make(shape, mpq::per_channel{2}).error().code() == mpq::errc::out_of_range);
  x[1] = std::numeric_limits<float>::quiet_NaN();
  CHECK(mpq::try_moments(x).error().code() == mpq::errc::not_finite);
}
