// The packed-model file format: round trips through memory and files, the CRC against zlib, the byte
// layout of docs/packed_format.md, and every corruption refused with its own clear error.
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/file_format.hpp"
#include "mpq/packed/pack.hpp"
#include "mpq/packed/strided_block.hpp"
#include "mpq/packed/ternary.hpp"
#include "packed_test_util.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;

namespace {

constexpr std::uint8_t check_digits[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
static_assert(mpq::detail::crc32(check_digits) == 0xCBF43926u);  // the CRC-32 check value

template <int Bits, mpq::signedness S, class L>
mpq::packed_tensor<Bits, S, L> sample(std::size_t rows, std::size_t cols, unsigned seed, int rank = 2) {
  const auto codes = mpq_test::random_codes(rows * cols, mpq::layout_code_min<L>(Bits, S),
                                            mpq::layout_code_max<L>(Bits, S), seed);
  auto t = rank == 1 ? mpq::pack<Bits, S, L>(codes) : mpq::pack<Bits, S, L>(codes, rows, cols);
  for (std::size_t i = 0; i < t.rows(); ++i) {
    t.scales()[i] = 0.01f * static_cast<float>(i + 1);
    t.zero_points()[i] = S == signed_codes ? -0.5f : static_cast<float>(i % 3);
  }
  return t;
}

mpq::packed_model sample_model() {
  mpq::packed_model m;
  m.add("conv1.weight", sample<4, signed_codes, mpq::interleaved>(8, 65, 1));
  m.add("conv2.weight", sample<3, signed_codes, mpq::bitplane>(5, 1000, 2));
  m.add("fc.weight", sample<1, signed_codes, mpq::strided_block<32>>(3, 7, 3));
  m.add("act.lut", sample<7, unsigned_codes, mpq::interleaved>(1, 63, 4, 1));
  m.add("ternary", sample<2, signed_codes, mpq::ternary_base3>(2, 321, 5));
  m.add("ternary2", sample<2, signed_codes, mpq::ternary2>(2, 1, 6));
  m.add("empty", mpq::packed_tensor<8, unsigned_codes>(0, 5));
  m.add("", sample<6, unsigned_codes, mpq::bitplane>(1, 64, 7, 1));
  return m;
}

std::vector<std::uint8_t> image_of(const mpq::packed_model& m) {
  std::vector<std::uint8_t> out;
  REQUIRE(mpq::try_serialize(m, out).ok());
  return out;
}

std::string load_error(const std::vector<std::uint8_t>& image) {
  auto r = mpq::try_load_model(std::span<const std::uint8_t>(image));
  if (r) return "loaded";
  return std::string(mpq::to_string(r.error().code())) + ": " + r.error().message();
}

// Offsets inside the first record of a one-tensor image (docs/packed_format.md).
constexpr std::size_t rec = mpq::packed_file::header_bytes;
constexpr std::size_t off_bits = rec + 8, off_sign = rec + 9, off_rank = rec + 10, off_layout_len = rec + 11,
                      off_rows = rec + 16, off_cols = rec + 24, off_padded = rec + 32, off_stride = rec + 40,
                      off_strings = rec + 48;

void put_u64(std::vector<std::uint8_t>& img, std::size_t at, std::uint64_t v) {
  for (int k = 0; k < 8; ++k) img[at + static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(v >> (8 * k));
}
std::uint64_t get_u64(const std::vector<std::uint8_t>& img, std::size_t at) {
  return mpq::detail::load_le(img.data() + at, 8);
}
// Recompute the CRC of the record at `at` after a deliberate edit (so the edit itself is what is caught).
void fix_record_crc(std::vector<std::uint8_t>& img, std::size_t at) {
  const std::size_t len = static_cast<std::size_t>(get_u64(img, at));
  const std::uint32_t crc = mpq::detail::crc32(std::span<const std::uint8_t>(img).subspan(at, 8 + len - 4));
  for (int k = 0; k < 4; ++k) img[at + 8 + len - 4 + static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(crc >> (8 * k));
}

std::filesystem::path temp_path(const char* name) {
  return std::filesystem::temp_directory_path() / (std::string("mpq_test_packed_") + std::to_string(::getpid()) + "_" + name);
}

}  // namespace

TEST_CASE("CRC-32 equals zlib's on random buffers of every small length and some large ones") {
  std::mt19937 rng(42);
  std::vector<std::uint8_t> buf(70000);
  for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
  for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 63u, 1000u, 65537u, 70000u}) {
    const auto z = static_cast<std::uint32_t>(::crc32(0L, buf.data(), static_cast<uInt>(n)));
    CHECK(mpq::detail::crc32(std::span<const std::uint8_t>(buf.data(), n)) == z);
    // continuing over two pieces equals one pass
    const std::size_t h = n / 3;
    CHECK(mpq::detail::crc32(std::span<const std::uint8_t>(buf.data() + h, n - h),
                             mpq::detail::crc32(std::span<const std::uint8_t>(buf.data(), h))) == z);
  }
}

TEST_CASE("a packed model round-trips through memory and through a file") {
  const auto m = sample_model();
  const auto img = image_of(m);
  auto back = mpq::try_load_model(std::span<const std::uint8_t>(img));
  REQUIRE(back);
  CHECK(*back == m);
  CHECK(back->size() == 8);
  auto conv2 = back->try_get<3, signed_codes, mpq::bitplane>("conv2.weight");
  REQUIRE(conv2);
  CHECK(*conv2 == m.get<3, signed_codes, mpq::bitplane>("conv2.weight"));
  auto v = back->try_view<2, signed_codes, mpq::ternary_base3>("ternary");
  REQUIRE(v);
  CHECK(v->get(1, 320) == m.get<2, signed_codes, mpq::ternary_base3>("ternary")(1, 320));

  const auto path = temp_path("model.mpq");
  REQUIRE(mpq::try_save(m, path.string()).ok());
  auto from_file = mpq::try_load_model(path.string());
  REQUIRE(from_file);
  CHECK(*from_file == m);
  CHECK(std::filesystem::file_size(path) == img.size());
  std::filesystem::remove(path);
}

TEST_CASE_TEMPLATE("one tensor round-trips for every width and signedness", L, mpq::interleaved, mpq::bitplane,
                   mpq::strided_block<64>, mpq::ternary_base3) {
  const auto path = temp_path((std::string(L::name) + ".mpq").c_str());
  mpq_test::for_each_width<L>([&]<int Bits, mpq::signedness S>() {
    for (std::size_t cols : mpq_test::odd_cols) {
      const auto t = sample<Bits, S, L>(3, cols, static_cast<unsigned>(cols) * 16u + Bits);
      REQUIRE(mpq::try_save(t, path.string()).ok());
      auto back = mpq::try_load<Bits, S, L>(path.string());
      REQUIRE(back);
      CAPTURE(Bits);
      CAPTURE(cols);
      CHECK(*back == t);
    }
  });
  std::filesystem::remove(path);
}

TEST_CASE("the byte layout is the documented one") {
  // One 2 x 3 tensor of 4-bit signed codes, interleaved, named "w".
  auto t = mpq::pack<4, signed_codes>(std::vector<std::int8_t>{1, -2, 3, -8, 7, 0}, 2, 3);
  t.scales()[0] = 0.5f;
  t.scales()[1] = 0.25f;
  mpq::packed_model m;
  m.add("w", t);
  const auto img = image_of(m);
  const std::vector<std::uint8_t> header(img.begin(), img.begin() + 16);
  CHECK(header == std::vector<std::uint8_t>{0x89, 'M', 'P', 'Q', 0x0D, 0x0A, 0x1A, 0x0A, 1, 0, 0, 0, 1, 0, 0, 0});
  // record: record_bytes = 48 - 8 + layout "interleaved" (11) + name (1) + 4 floats (16) + 2 rows x 32 bytes + crc
  CHECK(get_u64(img, rec) == 40 + 11 + 1 + 16 + 64 + 4);
  CHECK(img.size() == rec + 8 + get_u64(img, rec));
  CHECK(img[off_bits] == 4);
  CHECK(img[off_sign] == 1);
  CHECK(img[off_rank] == 2);
  CHECK(img[off_layout_len] == 11);
  CHECK(get_u64(img, off_rows) == 2);
  CHECK(get_u64(img, off_cols) == 3);
  CHECK(get_u64(img, off_padded) == 64);
  CHECK(get_u64(img, off_stride) == 32);
  CHECK(std::string(img.begin() + off_strings, img.begin() + off_strings + 12) == "interleavedw");
  const std::size_t floats = off_strings + 12;
  CHECK(mpq::detail::load_le(img.data() + floats, 4) == 0x3F000000u);      // 0.5f
  CHECK(mpq::detail::load_le(img.data() + floats + 4, 4) == 0x3E800000u);  // 0.25f
  CHECK(mpq::detail::load_le(img.data() + floats + 8, 4) == 0u);           // zero points 0.0f
  const std::size_t payload = floats + 16;
  CHECK(img[payload] == 0xE1);       // codes 1, -2: low nibble 0x1, high nibble 0xE
  CHECK(img[payload + 1] == 0x03);   // code 3, then padding 0
  CHECK(img[payload + 32] == 0x78);  // row 1: codes -8 (0x8), 7 (0x7)
  const auto crc = mpq::detail::load_le(img.data() + img.size() - 4, 4);
  CHECK(crc == mpq::detail::crc32(std::span<const std::uint8_t>(img).subspan(rec, img.size() - rec - 4)));
}

TEST_CASE("every corruption is refused with its own clear error") {
  mpq::packed_model m;
  m.add("w", sample<3, signed_codes, mpq::interleaved>(2, 7, 11));
  const auto good = image_of(m);
  REQUIRE(load_error(good) == "loaded");

  SUBCASE("truncated at every length") {
    for (std::size_t n = 0; n < good.size(); ++n) {
      const std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
      const auto e = load_error(cut);
      CAPTURE(n);
      CHECK(e.find("corrupt_data: packed file: truncated") == 0);
    }
  }
  SUBCASE("wrong magic") {
    auto img = good;
    img[1] = 'X';
    CHECK(load_error(img) == "corrupt_data: packed file: wrong magic (not an mpq packed-model file)");
  }
  SUBCASE("unknown version") {
    auto img = good;
    img[8] = 2;
    CHECK(load_error(img) == "unsupported: packed file: format version 2: this build reads version 1");
  }
  SUBCASE("header checksum") {
    auto img = good;
    img[12] = 2;  // tensor count
    CHECK(load_error(img).find("corrupt_data: packed file: header checksum mismatch") == 0);
  }
  SUBCASE("bits out of range") {
    for (std::uint8_t b : {std::uint8_t{0}, std::uint8_t{9}, std::uint8_t{255}}) {
      auto img = good;
      img[off_bits] = b;
      CHECK(load_error(img) == "corrupt_data: packed file: tensor 0 ('w'): bits = " + std::to_string(b) +
                                   ": packed codes must be 1..8 bits wide");
    }
  }
  SUBCASE("signedness and rank") {
    auto img = good;
    img[off_sign] = 2;
    CHECK(load_error(img) == "corrupt_data: packed file: tensor 0 ('w'): signedness = 2: must be 0 (unsigned) or 1 (signed)");
    img = good;
    img[off_rank] = 3;
    CHECK(load_error(img) == "corrupt_data: packed file: tensor 0 ('w'): rank = 3: must be 1 or 2");
    img = good;
    img[off_rank] = 1;  // rank 1 with 2 rows
    CHECK(load_error(img) == "corrupt_data: packed file: tensor 0 ('w'): rank 1 with rows = 2: must be 1");
  }
  SUBCASE("shape and payload size disagree") {
    auto img = good;
    put_u64(img, off_rows, 3);
    CHECK(load_error(img) == "corrupt_data: packed file: tensor 0 ('w'): shape 3 x 7 with row stride 24 needs a "
                             "record of 152 bytes, the file says 120");  // 40 + 11 + 1 + 3*8 + 3*24 + 4 vs 2 rows
    img = good;
    put_u64(img, off_rows, std::numeric_limits<std::uint64_t>::max() / 2);
    CHECK(load_error(img).find("needs a record of too many bytes") != std::string::npos);
    img = good;
    put_u64(img, off_cols, 70);  // 70 columns pad to 128: 48 bytes per row, not 24
    CHECK(load_error(img) == "corrupt_data: packed file: tensor 0 ('w'): padded_cols = 64, row_stride = 24: layout "
                             "interleaved stores 70 3-bit columns as 128 padded columns of 48 bytes");
  }
  SUBCASE("bad checksum") {
    auto img = good;
    img[img.size() - 5] ^= 0x10;  // a payload bit
    CHECK(load_error(img).find("corrupt_data: packed file: tensor 0 ('w'): checksum mismatch (stored 0x") == 0);
  }
  SUBCASE("unknown layout") {
    auto img = good;
    img[off_strings] = 'X';
    CHECK(load_error(img) == "unsupported: packed file: tensor 0 ('w'): layout 'Xnterleaved' is not one this loader "
                             "knows (interleaved, bitplane, ternary2, ternary_base3, strided_block16, "
                             "strided_block32, strided_block64)");
  }
  SUBCASE("a nonzero padding code, even with a valid checksum") {
    auto img = good;
    img[img.size() - 4 - 24 + 3] = 0x80;  // row 1, code 7 (bits 21..23 are in byte 2; byte 3 holds codes 8..10)
    fix_record_crc(img, rec);
    CHECK(load_error(img) == "corrupt_data: packed file: tensor 0 ('w'): row 1 is not what packing 7 codes in layout "
                             "interleaved gives (a code outside [-4, 3], a nonzero padding code or an impossible byte)");
  }
  SUBCASE("a non-finite scale") {
    auto img = good;
    const std::size_t scale0 = off_strings + 11 + 1;
    img[scale0 + 3] = 0x7F;
    img[scale0 + 2] = 0xC0;  // NaN
    fix_record_crc(img, rec);
    CHECK(load_error(img).find("corrupt_data: packed file: tensor 0 ('w'): row 0: scale nan") == 0);
  }
  SUBCASE("bytes after the last tensor") {
    auto img = good;
    img.push_back(0);
    CHECK(load_error(img) == "corrupt_data: packed file: 1 bytes after the last of 1 tensors");
  }
}

TEST_CASE("a byte-exhaustive corruption sweep: no single corrupted byte loads") {
  mpq::packed_model m;
  m.add("a", sample<5, unsigned_codes, mpq::bitplane>(2, 9, 21));
  m.add("b", sample<2, signed_codes, mpq::ternary_base3>(1, 11, 22, 1));
  const auto good = image_of(m);
  std::mt19937 rng(2024);
  for (std::size_t k = 0; k < good.size(); ++k) {
    auto img = good;
    img[k] ^= static_cast<std::uint8_t>(1 + rng() % 255);
    auto r = mpq::try_load_model(std::span<const std::uint8_t>(img));
    CAPTURE(k);
    REQUIRE_FALSE(r);
    REQUIRE(std::string(r.error().message()).size() > 10);
  }
}

TEST_CASE("ternary_base3: impossible bytes and out-of-range codes are caught even with a valid checksum") {
  mpq::packed_model m;
  m.add("t", sample<2, signed_codes, mpq::ternary_base3>(1, 10, 3, 1));
  const auto good = image_of(m);
  auto img = good;
  const std::size_t payload = img.size() - 4 - 64;
  img[payload] = 243;
  fix_record_crc(img, rec);
  CHECK(load_error(img).find("row 0 is not what packing 10 codes in layout ternary_base3 gives") != std::string::npos);

  mpq::packed_model m2;  // ternary2: the 2-bit field 0b10 (-2) is not a ternary code
  m2.add("t", sample<2, signed_codes, mpq::ternary2>(1, 4, 3, 1));
  auto img2 = image_of(m2);
  img2[img2.size() - 4 - 16] = 0x02;
  fix_record_crc(img2, rec);
  CHECK(load_error(img2).find("a code outside [-1, 1]") != std::string::npos);
}

TEST_CASE("duplicate names, typed loads and layouts outside the default list") {
  mpq::packed_model m;
  m.add("x", sample<3, signed_codes, mpq::interleaved>(1, 5, 1, 1));
  m.add("y", sample<3, signed_codes, mpq::interleaved>(1, 5, 2, 1));
  CHECK(m.try_add("x", mpq::packed_tensor<3, signed_codes>(2)).code() == mpq::errc::invalid_argument);
  auto img = image_of(m);
  const std::size_t second = rec + 8 + static_cast<std::size_t>(get_u64(img, rec));
  img[second + 48 + 11] = 'x';  // rename "y" to "x"
  fix_record_crc(img, second);
  CHECK(load_error(img) == "corrupt_data: packed file: tensor 1: the name 'x' occurs twice");

  // a typed single-tensor load names both types on a mismatch
  mpq::packed_model one;
  one.add("", sample<3, signed_codes, mpq::interleaved>(2, 5, 1));
  const auto one_img = image_of(one);
  auto wrong = mpq::try_load<4, signed_codes, mpq::interleaved>(std::span<const std::uint8_t>(one_img));
  REQUIRE_FALSE(wrong);
  CHECK(std::string(wrong.error().message()) == "packed tensor holds 3-bit signed codes in layout interleaved; 4-bit "
                                                "signed codes in layout interleaved were asked for");
  auto other_layout = mpq::try_load<3, signed_codes, mpq::bitplane>(std::span<const std::uint8_t>(one_img));
  REQUIRE_FALSE(other_layout);
  CHECK(std::string(other_layout.error().message()).find("in layout bitplane were asked for") != std::string::npos);
  auto two = mpq::try_load<3, signed_codes, mpq::interleaved>(std::span<const std::uint8_t>(img));
  REQUIRE_FALSE(two);

  // a kernel's own layout: unknown to the default loader, fine when listed
  mpq::packed_model custom;
  custom.add("k", sample<6, signed_codes, mpq_test::reversed128>(2, 130, 9));
  const auto cimg = image_of(custom);
  CHECK(load_error(cimg).find("layout 'test_reversed128' is not one this loader knows") != std::string::npos);
  auto listed = mpq::try_load_model<mpq::layout_list<mpq::interleaved, mpq_test::reversed128>>(
      std::span<const std::uint8_t>(cimg));
  REQUIRE(listed);
  CHECK(*listed == custom);
  auto typed = mpq::try_load<6, signed_codes, mpq_test::reversed128>(std::span<const std::uint8_t>(cimg));
  REQUIRE(typed);
  CHECK(*typed == custom.get<6, signed_codes, mpq_test::reversed128>("k"));
}

TEST_CASE("a failed save leaves an existing file untouched") {
  const auto path = temp_path("keep.mpq");
  mpq::packed_model m;
  m.add("w", sample<4, signed_codes, mpq::interleaved>(2, 3, 1));
  REQUIRE(mpq::try_save(m, path.string()).ok());
  const auto size = std::filesystem::file_size(path);
  auto bad = sample<4, signed_codes, mpq::interleaved>(2, 3, 1);
  bad.scales()[1] = std::numeric_limits<float>::infinity();
  mpq::packed_model mb;
  mb.add("w", bad);
  const auto s = mpq::try_save(mb, path.string());
  CHECK(s.code() == mpq::errc::not_finite);
  CHECK(std::string(s.message()) == "save: tensor 'w', row 1: scale inf, zero point -0.5: both must be finite");
  auto still = mpq::try_load_model(path.string());
  REQUIRE(still);
  CHECK(*still == m);
  CHECK(std::filesystem::file_size(path) == size);
  CHECK(mpq::try_save(m, "/nonexistent-dir/x.mpq").code() == mpq::errc::io_error);
  CHECK(mpq::try_load_model("/nonexistent-dir/x.mpq").error().code() == mpq::errc::io_error);
  std::filesystem::remove(path);
}
