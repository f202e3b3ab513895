// Kernel pairs with 5-bit weights (see kernel_pairs_impl.hpp).
#define MPQ_TEST_W 5
#include "kernel_pairs_impl.hpp"
