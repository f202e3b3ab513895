// expect: the layout does not hold codes of this width and signedness
// strided_block tiles a byte with 1, 2, 4 or 8-bit codes; a 3-bit tensor in it must not compile.
#include <mpq/packed/strided_block.hpp>
#include <mpq/packed/tensor.hpp>

mpq::packed_tensor<3, mpq::signed_codes, mpq::strided_block<32>> t;
