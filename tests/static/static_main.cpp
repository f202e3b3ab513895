// The static walls are static_asserts: compiling wall_*.cpp is the test. This main only reports how
// many wall files were compiled in (each registers itself below).
#include <cstdio>

namespace mpq_static {
int& wall_count() {
  static int n = 0;
  return n;
}
}  // namespace mpq_static

int main() {
  std::printf("static walls: %d compiled\n", mpq_static::wall_count());
  return mpq_static::wall_count() > 0 ? 0 : 1;
}
