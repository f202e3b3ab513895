// The ordered aggregator of mpq's per-ISA kernels: the portable ones first, then each ISA's own
// (each guarded by its ISA macros, so on other targets they compile to nothing).
#pragma once

#include "mpq/arch/isa.hpp"

#include "mpq/arch/common/bitserial.hpp"
#include "mpq/arch/common/epilogue.hpp"
#include "mpq/arch/common/lut.hpp"
#include "mpq/arch/common/unpack_dot.hpp"

#include "mpq/arch/avx2/bitserial.hpp"
#include "mpq/arch/avx2/lut.hpp"
#include "mpq/arch/avx2/unpack_dot.hpp"

// Only aarch64 builds with the dot-product extension see the NEON kernels (<arm_neon.h>); x86 and
// the Cortex-M build never include them.
#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#include "mpq/arch/neon/lut.hpp"
#include "mpq/arch/neon/unpack_dot.hpp"
#endif
