// expect: Bits must be 1\.\.8 or 16
// A 9-bit uniform quantizer is not a width mpq stores: the class's static_assert must reject it.
#include <mpq/quant/uniform.hpp>

int main() {
  mpq::uniform_quantizer<9> q(0.5f);
  return q.quantize(1.0f);
}
