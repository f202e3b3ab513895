// Quickstart: quantize a few weights to 4 bits, pack them at their real width, read them back.
#include <cstdio>
#include <vector>

#include <mpq/mpq.hpp>

int main() {
  // 4-bit signed codes with step 0.25: representable values -2.0, -1.75, ..., 1.75.
  const mpq::uniform_quantizer<4, mpq::signed_codes> q(0.25f);

  const std::vector<float> weights = {0.31f, -1.12f, 1.9f, -0.07f, 0.5f, -2.6f, 0.88f};
  const std::size_t cols = weights.size();

  // One row of 4-bit codes in the interleaved layout: 7 codes use 4 bytes (plus padding to 64 codes).
  using row_span = mpq::packed_span<4, mpq::signed_codes, mpq::interleaved>;
  std::vector<std::uint8_t> storage(row_span::bytes_per_row(cols), 0);
  row_span packed{storage.data(), 1, cols, row_span::pad_cols(cols), storage.size()};

  for (std::size_t j = 0; j < cols; ++j) packed.set(0, j, q.quantize(weights[j]));

  std::printf("%-8s %-6s %-10s\n", "weight", "code", "dequant");
  bool ok = true;
  for (std::size_t j = 0; j < cols; ++j) {
    const int code = packed.get(0, j);
    const float back = q.dequantize(code);
    std::printf("%-8.3f %-6d %-10.3f\n", static_cast<double>(weights[j]), code, static_cast<double>(back));
    ok = ok && back == q.fake_quantize(weights[j]);
  }
  std::printf("%zu weights in %zu packed bytes (fp32: %zu bytes)\n", cols, mpq::ceil_div(cols * 4, 8),
              cols * sizeof(float));
  std::printf("quickstart: %s\n", ok ? "ok" : "MISMATCH");
  return ok ? 0 : 1;
}
