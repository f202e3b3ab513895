// mpq::embedded::engine: input codes, errors, compile-time facts of layers and networks, the SMLAD
// staging order.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "embedded_test_util.hpp"

namespace {
using namespace mpq::embedded;
using embedded_test::built_network;
using embedded_test::mlp;
}  // namespace

TEST_CASE("engine: try_run_codes equals try_run on the same codes") {
  using Net = mlp<4, 8>;
  built_network<Net> b(7, false);
  engine<Net, reference_backend> e(*b.parameters);
  const std::vector<float> x = embedded_test::random_input(Net::input_size, 5);
  std::vector<std::uint8_t> codes(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    codes[i] = static_cast<std::uint8_t>(mpq::kernel::requantize_output(x[i], b.prepared.layers[0].input));
  std::vector<float> y1(Net::output_size), y2(Net::output_size);
  REQUIRE(e.try_run(x, y1).ok());
  REQUIRE(e.try_run_codes(codes, y2).ok());
  CHECK(embedded_test::same_bits(y1, y2));
  CHECK(argmax(y1) < Net::output_size);
}

TEST_CASE("engine: bad sizes and codes are errors that name the value") {
  using Net = mlp<4, 4>;
  built_network<Net> b(9, false);
  engine<Net, reference_backend> e(*b.parameters);
  std::vector<float> x(Net::input_size, 0.5f), y(Net::output_size, 7.0f);
  std::vector<float> short_x(Net::input_size - 1), long_y(Net::output_size + 1);
  mpq::status s = e.try_run(short_x, y);
  CHECK(s.code() == mpq::errc::shape_mismatch);
  CHECK(std::string(s.message()).find("76 values") != std::string::npos);
  CHECK(e.try_run(x, long_y).code() == mpq::errc::shape_mismatch);
  CHECK(y[0] == 7.0f);  // nothing written
  std::vector<std::uint8_t> codes(Net::input_size, 3);
  codes[5] = 16;  // 4-bit input codes end at 15
  s = e.try_run_codes(codes, y);
  CHECK(s.code() == mpq::errc::out_of_range);
  CHECK(std::string(s.message()).find("input code 5 = 16") != std::string::npos);
}

TEST_CASE("engine: compile-time facts of a network") {
  using L0 = layer<conv2d<3, 1, 1>, 4, 8, chw{1, 28, 28}, 8, maxpool<2>>;
  using L1 = layer<fc, 2, 4, 8 * 14 * 14, 10>;
  using Net = network<L0, L1>;
  static_assert(L0::output_shape == chw{8, 14, 14} && L0::k == 9 && L0::window_rows == 4 && L0::windows == 196);
  static_assert(L0::macs == 8ull * 9 * 28 * 28 && L0::weight_count == 72 && L0::input_count == 784);
  static_assert(Net::weight_size_bits == 72 * 4 + 1568 * 10 * 2);
  static_assert(Net::bitops == L0::macs * 32 + 15680ull * 8);
  static_assert(Net::activation_bits_peak == 1568 * 4 && Net::activation_bits_sum == 784 * 8 + 1568 * 4);
  static_assert(Net::input_size == 784 && Net::output_size == 10);
  // Staging: the larger of one pooling window (4 rows of 9 8-bit codes, padded to 64) and the fc
  // row (1568 4-bit codes padded to 1600): 800 bytes packed, 1600 int16 for the SMLAD kernels.
  static_assert(engine<Net, reference_backend>::staging_bytes == 800);
  static_assert(engine<Net, cortex_m_dsp_backend>::staging_bytes == 3200);
  CHECK(engine<Net, reference_backend>::workspace_bytes > 0);
}

TEST_CASE("smlad format: staged positions are a permutation of each group") {
  auto check = []<int W>() {
    using F = mpq::arch::cortex_m::smlad_format<W>;
    std::array<int, 64> seen{};
    for (std::size_t k = 0; k < 64; ++k) ++seen[F::position(k)];
    for (int s : seen) CHECK(s == 1);
  };
  check.template operator()<1>();
  check.template operator()<2>();
  check.template operator()<3>();
  check.template operator()<4>();
  check.template operator()<8>();
  // W = 4 worked example of smlad.hpp: a0 a4 a2 a6 a1 a5 a3 a7.
  using F4 = mpq::arch::cortex_m::smlad_format<4>;
  const std::size_t want[8] = {0, 4, 2, 6, 1, 5, 3, 7};  // staged slot s holds code want[s]
  for (std::size_t s = 0; s < 8; ++s) CHECK(F4::position(want[s]) == s);
}
