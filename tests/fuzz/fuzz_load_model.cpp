// The fuzz oracle for mpq::try_load_model: no crash, no sanitizer report, and a loaded model
// re-serializes byte for byte.
#include "fuzz_load_model.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "mpq/packed/file_format.hpp"

namespace {
[[noreturn]] void fail(const char* what, std::size_t size) {
  std::fprintf(stderr, "fuzz: %s (input of %zu bytes)\n", what, size);
  std::abort();
}
}  // namespace

int mpq_fuzz_load_model(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> image(data, size);
  // 1. The real loader: refuse with a message, or load a model that serializes to the same bytes.
  auto model = mpq::try_load_model(image);
  if (model) {
    std::vector<std::uint8_t> again;
    if (!mpq::try_serialize(*model, again).ok() || again.size() != size ||
        (size != 0 && std::memcmp(again.data(), data, size) != 0))
      fail("a loaded model does not serialize back to its input bytes", size);
  } else if (model.error().message()[0] == '\0') {
    fail("an input was refused without a message", size);
  }
  // 2. Checksums ignored, so mutations reach the checks behind them: whatever loads must serialize
  //    to an image the real loader accepts and reads back as the same model.
  auto deep = mpq::detail::load_model_image<mpq::packed_layouts>(image, false);
  if (deep) {
    std::vector<std::uint8_t> again;
    if (!mpq::try_serialize(*deep, again).ok()) fail("a loaded model cannot be serialized", size);
    auto back = mpq::try_load_model(std::span<const std::uint8_t>(again));
    if (!back || !(*back == *deep)) fail("a re-serialized model does not load back equal", size);
  }
  return 0;
}

#if defined(MPQ_LIBFUZZER)
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return mpq_fuzz_load_model(data, size);
}
#endif
