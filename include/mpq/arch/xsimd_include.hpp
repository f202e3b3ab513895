// The one place mpq includes xsimd: silences GCC 12's false -Wmaybe-uninitialized in avx512fintrin.h.
#pragma once

// GCC 12.2 warns `__Y is used uninitialized` inside its own AVX-512 intrinsic headers
// (`__m512i __Y = __Y;` in _mm512_slli_epi32 and friends) whenever xsimd's avx512bw shifts are
// instantiated at -O1 and above. The warning is a false positive (GCC bug 105593); clang is clean.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <xsimd/xsimd.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
