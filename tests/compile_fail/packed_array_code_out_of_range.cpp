// expect: packed_code_out_of_range_in_constant_expression
// A code outside the width's range, packed in constant evaluation, is a compile error naming the check.
#include <mpq/packed/array.hpp>

constexpr auto a = mpq::packed_array<3, mpq::signed_codes, 4>::from_codes({0, 1, 4, -1});
