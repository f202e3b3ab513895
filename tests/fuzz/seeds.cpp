// The seed corpus of the loader fuzzer: small valid files covering every layout, both signednesses,
// rank 1 and 2, empty tensors and several tensors per file. Generated, not committed.
#include "seeds.hpp"

#include <cstdint>
#include <vector>

#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/file_format.hpp"
#include "mpq/packed/pack.hpp"
#include "mpq/packed/strided_block.hpp"
#include "mpq/packed/ternary.hpp"

namespace {

template <int Bits, mpq::signedness S, class L>
mpq::packed_tensor<Bits, S, L> ramp(std::size_t rows, std::size_t cols, int rank = 2) {
  constexpr std::int32_t lo = mpq::layout_code_min<L>(Bits, S), hi = mpq::layout_code_max<L>(Bits, S);
  std::vector<std::int32_t> codes(rows * cols);
  for (std::size_t k = 0; k < codes.size(); ++k) codes[k] = lo + static_cast<std::int32_t>(k * 7 % static_cast<std::size_t>(hi - lo + 1));
  auto t = rank == 1 ? mpq::pack<Bits, S, L>(codes) : mpq::pack<Bits, S, L>(codes, rows, cols);
  for (std::size_t i = 0; i < t.rows(); ++i) {
    t.scales()[i] = 0.125f * static_cast<float>(i + 1);
    t.zero_points()[i] = S == mpq::signed_codes ? 0.0f : 1.0f;
  }
  return t;
}

std::vector<std::uint8_t> image(const mpq::packed_model& m) {
  std::vector<std::uint8_t> out;
  if (!mpq::try_serialize(m, out).ok()) return {};
  return out;
}

}  // namespace

std::vector<std::vector<std::uint8_t>> mpq_fuzz_seeds() {
  std::vector<std::vector<std::uint8_t>> seeds;
  auto one = [&](auto t, const char* name) {
    mpq::packed_model m;
    m.add(name, std::move(t));
    seeds.push_back(image(m));
  };
  one(ramp<4, mpq::signed_codes, mpq::interleaved>(2, 7), "w4");
  one(ramp<3, mpq::unsigned_codes, mpq::interleaved>(1, 65, 1), "a3");
  one(ramp<1, mpq::signed_codes, mpq::bitplane>(3, 9), "b1");
  one(ramp<6, mpq::unsigned_codes, mpq::bitplane>(1, 5, 1), "");
  one(ramp<2, mpq::signed_codes, mpq::ternary_base3>(2, 12), "t3");
  one(ramp<2, mpq::signed_codes, mpq::ternary2>(1, 6, 1), "t2");
  one(ramp<8, mpq::signed_codes, mpq::strided_block<16>>(2, 3), "s8");
  one(ramp<4, mpq::unsigned_codes, mpq::strided_block<32>>(1, 40), "s4");
  one(mpq::packed_tensor<5, mpq::signed_codes>(0, 3), "empty");
  mpq::packed_model many;
  many.add("conv1", ramp<4, mpq::signed_codes, mpq::interleaved>(2, 3));
  many.add("conv2", ramp<2, mpq::signed_codes, mpq::bitplane>(1, 4));
  many.add("fc", ramp<7, mpq::unsigned_codes, mpq::interleaved>(1, 2, 1));
  seeds.push_back(image(many));
  seeds.push_back(image(mpq::packed_model{}));
  return seeds;
}
