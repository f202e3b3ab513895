// Kernel pairs with 8-bit weights (see kernel_pairs_impl.hpp).
#define MPQ_TEST_W 8
#include "kernel_pairs_impl.hpp"
