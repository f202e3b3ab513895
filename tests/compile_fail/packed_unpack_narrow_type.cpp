// expect: the integer type cannot hold every code
// Unpacking unsigned 8-bit codes (0..255) into int8_t would wrap: a compile-time error.
#include <cstdint>
#include <vector>

#include <mpq/packed/pack.hpp>

void f(const mpq::packed_tensor<8, mpq::unsigned_codes>& t) {
  std::vector<std::int8_t> out(t.size());
  mpq::unpack(t, out);
}
