// The software models of AVX-512 instructions (mpq/arch/avx512/models.hpp) against scalar
// transcriptions of the instructions' definitions (Intel SDM), on random and extreme operands; and,
// on a CPU that has the instruction and a build that enables it, the instruction itself.
#include <doctest/doctest.h>

#include <array>
#include <bit>
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

namespace {
using qwords4 = std::array<std::uint64_t, 4>;

// VPOPCNTQ (Intel SDM): each 64-bit lane's count of set bits.
qwords4 scalar_popcnt(const qwords4& v) {
  qwords4 d{};
  for (int j = 0; j < 4; ++j) d[j] = static_cast<std::uint64_t>(std::popcount(v[j]));
  return d;
}

// Random lanes, then lanes with exactly b bits set (b = 0..64, low bits, high bits, spread).
template <class F>
void for_popcnt_operands(F&& f) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) f(qwords4{rng(), rng(), rng() & rng(), rng() | rng()});
  for (int b = 0; b <= 64; ++b) {
    const std::uint64_t low = b == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << b) - 1;
    f(qwords4{low, ~low, low << (64 - b) % 64, std::rotl(low, 17)});
  }
}
}  // namespace

TEST_CASE("the vpopcntq model equals the instruction's definition (random lanes, every count 0..64)") {
  int checked = 0;
  for_popcnt_operands([&](const qwords4& v) {
    const qwords4 want = scalar_popcnt(v);
    REQUIRE(store<qwords4>(mpq::arch::avx512_model::popcnt_epi64(load(v))) == want);
    using model = mpq::arch::avx512vnni_model;
    REQUIRE(store<qwords4>(mpq::arch::popcnt_epi64(load(v), model{}, model{})) == want);
    ++checked;
  });
  CHECK(checked > 20000);
  CHECK(store<qwords4>(mpq::arch::avx512_model::popcnt_epi64(load(qwords4{~0ull, 0, 1, 0x8000000000000001ull}))) ==
        qwords4{64, 0, 1, 2});
}

#if defined(__AVX512VPOPCNTDQ__) && defined(__AVX512VL__)
TEST_CASE("on AVX-512 VPOPCNTDQ hardware, vpopcntq itself equals its definition") {
  if (!__builtin_cpu_supports("avx512vpopcntdq") || !__builtin_cpu_supports("avx512vl")) {
    MESSAGE("this CPU has no AVX-512 VPOPCNTDQ: the instruction is not run (its model is tested above)");
    return;
  }
  for_popcnt_operands([&](const qwords4& v) { REQUIRE(store<qwords4>(_mm256_popcnt_epi64(load(v))) == scalar_popcnt(v)); });
}
#endif

#endif  // __AVX2__ (the models are AVX2 code; builds without AVX2 have no test cases here)
