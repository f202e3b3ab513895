// Kernel pairs with 2-bit weights (see kernel_pairs_impl.hpp).
#define MPQ_TEST_W 2
#include "kernel_pairs_impl.hpp"
