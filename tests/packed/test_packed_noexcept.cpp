// Built with -fno-exceptions: packing, conversions and the file format report through status and
// expected (what an embedded or exception-free host build uses). doctest has no REQUIRE without
// exceptions, so a failed CHECK that later lines depend on returns early.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "mpq/packed/file_format.hpp"
#include "mpq/packed/pack.hpp"
#include "mpq/packed/ternary.hpp"
#include "mpq/quant/uniform.hpp"

static_assert(MPQ_HAS_EXCEPTIONS == 0, "this test must be compiled with -fno-exceptions");

TEST_CASE("without exceptions: pack, convert, quantize_pack report through status/expected") {
  auto bad = mpq::try_pack<2, mpq::signed_codes, mpq::ternary_base3>(std::vector<std::int8_t>{1, 0, -2}, 1, 3);
  CHECK_FALSE(bad);
  CHECK(bad.error().code() == mpq::errc::out_of_range);
  auto t = mpq::try_pack<2, mpq::signed_codes, mpq::ternary2>(std::vector<std::int8_t>{1, 0, -1, 1}, 2, 2);
  CHECK(t);
  if (!t) return;
  auto b3 = mpq::try_convert_layout<mpq::ternary_base3>(*t);
  CHECK(b3);
  if (!b3) return;
  CHECK((*b3)(1, 0) == -1);
  auto q = mpq::uniform_quantizer<3>::try_make(0.5f);
  CHECK(q);
  if (!q) return;
  auto qp = mpq::try_quantize_pack<3, mpq::signed_codes>(*q, std::vector<float>{0.6f, -5.0f, 1.2f}, 1, 3);
  CHECK(qp);
  if (!qp) return;
  CHECK((*qp)(0, 1) == -4);
  std::vector<float> y(3);
  CHECK(mpq::try_dequantize(*qp, y).ok());
  CHECK(y[2] == 1.0f);
}

TEST_CASE("without exceptions: save and load a model, and refuse a corrupted file") {
  mpq::packed_model m;
  CHECK(m.try_add("w", *mpq::try_pack<4, mpq::signed_codes>(std::vector<std::int8_t>{1, 2, 3, -8}, 2, 2)).ok());
  const std::string path = "mpq_packed_noexcept.mpq";
  CHECK(mpq::try_save(m, path).ok());
  auto back = mpq::try_load_model(path);
  CHECK(back);
  if (!back) return;
  CHECK(*back == m);
  auto typed = mpq::try_load<4, mpq::signed_codes, mpq::interleaved>(path);
  CHECK(typed);
  if (!typed) return;
  CHECK((*typed)(1, 1) == -8);

  std::vector<std::uint8_t> image;
  CHECK(mpq::try_read_file(path.c_str(), image).ok());
  if (image.empty()) return;
  image[image.size() - 1] ^= 1;  // the record's checksum
  auto corrupt = mpq::try_load_model(std::span<const std::uint8_t>(image));
  CHECK_FALSE(corrupt);
  CHECK(corrupt.error().code() == mpq::errc::corrupt_data);
  CHECK(std::string(corrupt.error().message()).find("checksum mismatch") != std::string::npos);
  std::remove(path.c_str());
}
