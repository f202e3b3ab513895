// Without exceptions: constructing a quantizer with a bad step calls the installed handler.
#include <cstdio>
#include <cstdlib>

#include "mpq/quant/uniform.hpp"

namespace {
void report_and_exit(const mpq::status& s) noexcept {
  std::printf("handler called: %s: %s\n", mpq::to_string(s.code()), s.message());
  std::fflush(stdout);
  std::_Exit(0);
}
}  // namespace

int main() {
  mpq::set_error_handler(&report_and_exit);
  volatile float step = -0.5f;
  mpq::uniform_quantizer<4> q(step);  // must not return
  std::printf("not reached: %d\n", static_cast<int>(q.quantize(1.0f)));
  return 1;
}
