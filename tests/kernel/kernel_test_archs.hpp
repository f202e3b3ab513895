// The kernel arch tags this test binary can run: every one its flags compiled that the CPU has.
#pragma once

#include <tuple>
#include <type_traits>

#include "mpq/arch/isa.hpp"

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace mpq_test {

/// True if the machine running the test can execute kernels of Arch.
template <class Arch>
bool cpu_runs() {
#if defined(__x86_64__) || defined(__i386__)
  // The model tag runs the avx512vnni kernels with AVX2 models of their AVX-512 instructions.
  if constexpr (std::is_base_of_v<mpq::arch::avx512vnni_model, Arch>)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if constexpr (std::is_base_of_v<mpq::arch::avx512vnni, Arch>)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")
#if defined(__AVX512VPOPCNTDQ__)
           && __builtin_cpu_supports("avx512vpopcntdq")  // the bitserial kernels use vpopcntq then
#endif
        ;
  if constexpr (std::is_base_of_v<mpq::arch::avx2, Arch>)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD) && defined(__linux__)
  // Linux reports the dot-product instructions (sdot/udot) as HWCAP_ASIMDDP.
  if constexpr (std::is_base_of_v<mpq::arch::neon64_dotprod, Arch>) return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
  return true;
}

using compiled_test_archs = std::tuple<mpq::arch::generic<xsimd::default_arch>
#if defined(__AVX2__) && defined(__FMA__)
                                       ,
                                       mpq::arch::avx2, mpq::arch::avx512vnni_model
#endif
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__)
                                       ,
                                       mpq::arch::avx512vnni
#endif
// neon64 has no kernels of its own (it runs the portable ones, tested above as generic<neon64>);
// neon64_dotprod has its own unpack_dot and lut (arch/neon/).
#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
                                       ,
                                       mpq::arch::neon64_dotprod
#endif
                                       >;

/// Calls f(Arch{}, name) for every compiled arch the CPU runs.
template <class F>
void for_each_test_arch(F&& f) {
  std::apply([&](auto... arch) { ((cpu_runs<decltype(arch)>() ? f(arch, arch.name()) : void()), ...); },
             compiled_test_archs{});
}

}  // namespace mpq_test
