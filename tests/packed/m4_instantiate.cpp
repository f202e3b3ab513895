// Instantiates the packed/ core API for the Cortex-M4 (compiled by arm-none-eabi-g++ in a ctest):
// -fsyntax-only on a header alone checks no template, and on the M4 int32_t is long and size_t is
// 32 bits, which the host compilers cannot see.
#include <array>
#include <cstdint>
#include <vector>

#include "mpq/packed/array.hpp"
#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/pack.hpp"
#include "mpq/packed/strided_block.hpp"
#include "mpq/packed/ternary.hpp"
#include "mpq/quant/uniform.hpp"

constexpr mpq::uniform_quantizer<4, mpq::signed_codes> q4(0.25f);
constexpr auto w = mpq::packed_matrix<4, mpq::signed_codes, 2, 3>::quantize(q4, {0.3f, -2.5f, 1.9f, 0.f, -0.1f, 0.6f});
static_assert(w(0, 1) == -8);
constexpr auto t = mpq::packed_array<2, mpq::signed_codes, 7, mpq::ternary_base3>::from_codes({1, -1, 0, 0, 1, -1, -1});
static_assert(t.bytes[0] == 88);

template <int Bits, mpq::signedness S, class L>
int exercise() {
  std::vector<std::int8_t> codes(100, 0);
  auto r = mpq::try_pack<Bits, S, L>(codes, 2, 50);
  if (!r) return 1;
  std::array<std::int16_t, 100> out{};
  if (!mpq::try_unpack(*r, out)) return 2;
  std::array<float, 100> x{};
  if (!mpq::try_dequantize(*r, x)) return 3;
  if (!mpq::try_quantize_pack_into(mpq::uniform_quantizer<Bits, S>(0.5f), x, r->span())) return 4;
  (*r)(0, 0) = 0;
  auto c = mpq::try_convert_layout<mpq::interleaved>(*r);
  using M = mpq::packed_matrix<Bits, S, 2, 50, L>;
  static_cast<void>(M::from_bytes(std::array<std::uint8_t, M::byte_size>{}));
  return c ? 0 : 5;
}

int m4_main() {
  return exercise<3, mpq::signed_codes, mpq::interleaved>() + exercise<5, mpq::unsigned_codes, mpq::bitplane>() +
         exercise<4, mpq::signed_codes, mpq::strided_block<16>>() +
         exercise<2, mpq::signed_codes, mpq::ternary_base3>() + exercise<2, mpq::signed_codes, mpq::ternary2>();
}
