// expect: invalid_quantizer_argument_in_constant_expression
// A non-positive step in constant evaluation is a compile error that names the check.
#include <mpq/quant/uniform.hpp>

constexpr mpq::uniform_quantizer<4> q(-0.5f);
static_assert(q.quantize(1.0f) == -2);

int main() { return 0; }
