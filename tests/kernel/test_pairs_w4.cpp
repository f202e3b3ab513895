// Kernel pairs with 4-bit weights (see kernel_pairs_impl.hpp).
#define MPQ_TEST_W 4
#include "kernel_pairs_impl.hpp"
