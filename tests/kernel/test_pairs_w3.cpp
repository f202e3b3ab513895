// Kernel pairs with 3-bit weights (see kernel_pairs_impl.hpp).
#define MPQ_TEST_W 3
#include "kernel_pairs_impl.hpp"
