// Cortex-M4 smoke program: mpq::core headers under -fno-exceptions -fno-rtti with no heap. Weights
// are quantized and packed at compile time (they land in flash); a dot product runs at runtime. The
// same source built for the host must print exactly the same lines.
#include <array>
#include <cstdint>
#include <cstdio>

#include "mpq/packed/interleaved.hpp"
#include "mpq/quant/uniform.hpp"

#if defined(__arm__)
extern "C" void initialise_monitor_handles(void);
#endif

namespace {
constexpr int kBits = 3;
constexpr std::size_t kCols = 64;
constexpr mpq::uniform_quantizer<kBits, mpq::signed_codes> wq(0.125f);

constexpr float weight(std::size_t j) { return 0.4f * static_cast<float>(static_cast<int>(j % 9) - 4) / 4.0f; }

// One row of 64 three-bit codes, packed in constant evaluation: 24 bytes of flash.
constexpr auto packed_row = [] {
  std::array<std::uint8_t, mpq::interleaved::row_bytes(kBits, kCols)> row{};
  for (std::size_t j = 0; j < kCols; ++j)
    mpq::interleaved::store(row, kBits, kCols, j, mpq::code_to_field(wq.quantize(weight(j)), kBits));
  return row;
}();
static_assert(packed_row.size() == 24);
}  // namespace

int main() {
#if defined(__arm__)
  initialise_monitor_handles();
#endif
  std::int32_t acc = 0;
  std::int32_t code_sum = 0;
  for (std::size_t j = 0; j < kCols; ++j) {
    const auto code = mpq::field_to_code(mpq::interleaved::load(packed_row, kBits, kCols, j), kBits, mpq::signed_codes);
    code_sum += code;
    acc += code * static_cast<std::int32_t>((j * 5 + 2) % 7);  // activations 0..6 (unsigned codes)
    if (j < 8) std::printf("code[%u] = %d\n", static_cast<unsigned>(j), static_cast<int>(code));
  }
  std::printf("packed bytes: %u\n", static_cast<unsigned>(packed_row.size()));
  std::printf("code sum: %ld\n", static_cast<long>(code_sum));
  std::printf("dot: %ld\n", static_cast<long>(acc));
  std::printf("dot as float: %.6f\n", static_cast<double>(static_cast<float>(acc) * wq.step()));
  return 0;
}
