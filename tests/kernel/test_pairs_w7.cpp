// Kernel pairs with 7-bit weights (see kernel_pairs_impl.hpp).
#define MPQ_TEST_W 7
#include "kernel_pairs_impl.hpp"
