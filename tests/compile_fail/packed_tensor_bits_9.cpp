// expect: packed_tensor: Bits must be 1\.\.8
// A 9-bit packed tensor is not a width mpq stores: the class's static_assert must reject it.
#include <mpq/packed/tensor.hpp>

mpq::packed_tensor<9, mpq::signed_codes> t;
