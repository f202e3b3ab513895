// expect: K exceeds the exact-int32 bound
// W8A8 sums are exact in int32 only up to K = 33025 (kernel/overflow.hpp).
#include "mpq/embedded/layer.hpp"

using big = mpq::embedded::layer<mpq::embedded::fc, 8, 8, 33026, 1>;
static_assert(big::k == 33026);
