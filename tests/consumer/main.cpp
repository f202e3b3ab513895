// A program outside mpq's tree: includes the umbrella header and uses a quantizer and a packed row.
#include <cstdio>
#include <vector>

#include <mpq/mpq.hpp>

int main() {
  constexpr mpq::uniform_quantizer<3, mpq::signed_codes> q(0.5f);
  static_assert(q.quantize(0.6f) == 1);
  using row_span = mpq::packed_span<3, mpq::signed_codes, mpq::interleaved>;
  std::vector<std::uint8_t> bytes(row_span::bytes_per_row(5));
  row_span row{bytes.data(), 1, 5, row_span::pad_cols(5), bytes.size()};
  for (int j = 0; j < 5; ++j) row.set(0, static_cast<std::size_t>(j), q.quantize(0.5f * static_cast<float>(j - 2)));
  int sum = 0;
  for (int j = 0; j < 5; ++j) sum += row.get(0, static_cast<std::size_t>(j));
  std::printf("mpq %s, sum of codes %d\n", mpq::version_string, sum);
  std::printf("consumer: %s\n", sum == 0 ? "ok" : "wrong");
  return sum == 0 ? 0 : 1;
}
