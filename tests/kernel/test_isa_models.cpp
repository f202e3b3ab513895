// The software models of AVX-512 instructions (mpq/arch/avx512/models.hpp) against scalar
// transcriptions of the instructions' definitions (Intel SDM), on random and extreme operands; and,
// on a CPU that has the instruction and a build that enables it, the instruction itself.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>

#if defined(__AVX2__)
#include <immintrin.h>

#include "kernel_test_archs.hpp"
#include "mpq/arch/avx512/instructions.hpp"
#include "mpq/arch/avx512/models.hpp"

namespace {

using bytes32 = std::array<std::uint8_t, 32>;
using dwords8 = std::array<std::int32_t, 8>;

template <class T>
__m256i load(const T& a) {
  static_assert(sizeof(T) == 32);
  __m256i v;
  std::memcpy(&v, a.data(), 32);
  return v;
}
template <class T>
T store(__m256i v) {
  T a;
  std::memcpy(a.data(), &v, 32);
  return a;
}

// VPDPBUSD (Intel SDM): per dword j, ORIGDEST + four ZeroExtend(u8) * SignExtend(s8) products,
// 32-bit wrapping adds (no saturation).
dwords8 scalar_dpbusd(const dwords8& src, const bytes32& u, const bytes32& s) {
  dwords8 d{};
  for (int j = 0; j < 8; ++j) {
    std::uint32_t acc = static_cast<std::uint32_t>(src[j]);
    for (int b = 0; b < 4; ++b)
      acc += static_cast<std::uint32_t>(std::int32_t{u[4 * j + b]} * std::int32_t{static_cast<std::int8_t>(s[4 * j + b])});
    d[j] = static_cast<std::int32_t>(acc);
  }
  return d;
}

// Random operands, then every byte at an extreme, then accumulators at the edges of int32 (wrapping).
template <class F>
void for_dpbusd_operands(F&& f) {
  std::mt19937 rng(42);
  auto random_bytes = [&] {
    bytes32 b;
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
  };
  for (int i = 0; i < 20000; ++i) {
    dwords8 src;
    for (auto& x : src) x = static_cast<std::int32_t>(rng());
    f(src, random_bytes(), random_bytes());
  }
  const std::uint8_t extremes[] = {0x00, 0x01, 0x7F, 0x80, 0x81, 0xFF};
  const std::int32_t edges[] = {0, 1, -1, INT32_MAX, INT32_MIN, INT32_MAX - 65000, INT32_MIN + 65000};
  for (std::uint8_t ue : extremes)
    for (std::uint8_t se : extremes)
      for (std::int32_t e : edges) {
        bytes32 u, s;
        u.fill(ue);
        s.fill(se);
        dwords8 src;
        src.fill(e);
        f(src, u, s);
      }
}

}  // namespace

TEST_CASE("the vpdpbusd model equals the instruction's definition (random, extreme bytes, wrapping sums)") {
  int checked = 0;
  for_dpbusd_operands([&](const dwords8& src, const bytes32& u, const bytes32& s) {
    const dwords8 want = scalar_dpbusd(src, u, s);
    REQUIRE(store<dwords8>(mpq::arch::avx512_model::dpbusd_epi32(load(src), load(u), load(s))) == want);
    // the helper the kernels call, on the model tag
    using model = mpq::arch::avx512vnni_model;
    REQUIRE(store<dwords8>(mpq::arch::dpbusd_epi32(load(src), load(u), load(s), model{}, model{})) == want);
    ++checked;
  });
  CHECK(checked > 20000);
  // A hand-computed case: 255 * -128 four times onto INT32_MIN + 1 wraps to INT32_MAX - 130558.
  dwords8 src;
  src.fill(INT32_MIN + 1);
  bytes32 u, s;
  u.fill(255);
  s.fill(0x80);
  CHECK(store<dwords8>(mpq::arch::avx512_model::dpbusd_epi32(load(src), load(u), load(s)))[0] ==
        INT32_MAX - 130558);
}

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
TEST_CASE("on AVX-512 VNNI hardware, vpdpbusd itself equals its definition") {
  if (!mpq_test::cpu_runs<mpq::arch::avx512vnni>()) {
    MESSAGE("this CPU has no AVX-512 VNNI: the instruction is not run (its model is tested above)");
    return;
  }
  for_dpbusd_operands([&](const dwords8& src, const bytes32& u, const bytes32& s) {
    REQUIRE(store<dwords8>(_mm256_dpbusd_epi32(load(src), load(u), load(s))) == scalar_dpbusd(src, u, s));
  });
}
#endif

#endif  // __AVX2__ (the models are AVX2 code; builds without AVX2 have no test cases here)
