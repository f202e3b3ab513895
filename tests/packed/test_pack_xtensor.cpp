// xtensor in and out of packed tensors: shapes, codes and values survive; bad ranks are refused.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/pack_xtensor.hpp"
#include "mpq/quant/uniform.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;

TEST_CASE("pack an xtensor expression and get it back") {
  const xt::xarray<std::int8_t> codes = {{1, -2, 3, -4, 5}, {-6, 7, -8, 0, 1}};
  auto t = mpq::pack<4, signed_codes, mpq::bitplane>(codes);
  CHECK(t.rank() == 2);
  CHECK(t.rows() == 2);
  CHECK(t.cols() == 5);
  CHECK(t(1, 2) == -8);
  CHECK(mpq::to_xarray<std::int8_t>(t) == codes);
  CHECK(mpq::to_xarray(t) == xt::xarray<std::int32_t>(codes));

  // a lazy expression of rank 1 (uint16 codes 0..69 % 8)
  const xt::xtensor<std::uint16_t, 1> r = xt::arange<std::uint16_t>(0, 70) % std::uint16_t{8};
  auto v = mpq::pack<3, unsigned_codes>(r);
  CHECK(v.rank() == 1);
  CHECK(v.size() == 70);
  CHECK(mpq::to_xarray<std::uint16_t>(v) == xt::xarray<std::uint16_t>(r));
  // a strided view is evaluated in row-major order
  auto col = mpq::pack<4, signed_codes>(xt::view(codes, xt::all(), 1));
  CHECK(col.size() == 2);
  CHECK(col[0] == -2);
  CHECK(col[1] == 7);
}

TEST_CASE("xtensor: bad input is refused with a clear error") {
  const xt::xarray<std::int32_t> cube = xt::zeros<std::int32_t>({2, 2, 2});
  auto r = mpq::try_pack<4, signed_codes>(cube);
  REQUIRE_FALSE(r);
  CHECK(std::string(r.error().message()) == "pack: an expression of rank 3: packed tensors have rank 1 or 2");
  const xt::xarray<std::int32_t> big = {{0, 8}};
  auto b = mpq::try_pack<4, signed_codes>(big);
  REQUIRE_FALSE(b);
  CHECK(b.error().code() == mpq::errc::out_of_range);
}

TEST_CASE("quantize + pack an xtensor expression per channel, dequantize to xtensor") {
  const xt::xarray<float> w = {{0.3f, -1.0f, 0.05f}, {2.0f, -0.4f, 0.6f}};
  const mpq::uniform_quantizer<4, signed_codes> q0(0.1f), q1(0.25f);
  const mpq::uniform_quantizer<4, signed_codes> qs[] = {q0, q1};
  auto t = mpq::try_quantize_pack<4, signed_codes>(std::span<const mpq::uniform_quantizer<4, signed_codes>>(qs), w);
  REQUIRE(t);
  const auto y = mpq::dequantize_to_xarray(*t);
  REQUIRE(y.shape() == w.shape());
  for (std::size_t j = 0; j < 3; ++j) {
    CHECK(y(0, j) == q0.fake_quantize(w(0, j)));
    CHECK(y(1, j) == q1.fake_quantize(w(1, j)));
  }
  auto one = mpq::quantize_pack<8, signed_codes>(mpq::uniform_quantizer<8, signed_codes>(0.1f),
                                                 xt::xarray<float>{1.0f, -1.0f});
  CHECK(mpq::to_xarray(one) == xt::xarray<std::int32_t>{10, -10});
}
