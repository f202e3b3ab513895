// Kernel pairs with 1-bit weights (see kernel_pairs_impl.hpp).
#define MPQ_TEST_W 1
#include "kernel_pairs_impl.hpp"
