// Kernel pairs with 6-bit weights (see kernel_pairs_impl.hpp).
#define MPQ_TEST_W 6
#include "kernel_pairs_impl.hpp"
