// Fashion-MNIST reader: the gzip-compressed IDX files of Debian's dataset-fashion-mnist package.
#pragma once

#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace fmnist {

inline constexpr const char* default_dir = "/usr/share/datasets/fashion-mnist";
inline constexpr int image_side = 28;
inline constexpr int image_pixels = image_side * image_side;
inline constexpr int num_classes = 10;

inline constexpr std::array<const char*, num_classes> class_names = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

/// @brief One split: n images of 28x28 uint8 pixels (row-major) and their labels 0..9.
struct split {
  std::vector<std::uint8_t> pixels;  // n * 784
  std::vector<std::uint8_t> labels;  // n
  std::size_t size() const { return labels.size(); }
  const std::uint8_t* image(std::size_t i) const { return pixels.data() + i * image_pixels; }
};

namespace detail {
inline std::uint32_t read_be32(gzFile f, const std::string& path) {
  unsigned char b[4];
  if (gzread(f, b, 4) != 4) throw std::runtime_error(path + ": truncated IDX header");
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

// Reads an IDX file (magic 0x801 labels, 0x803 images) into `out`; returns the item count.
inline std::size_t read_idx(const std::string& path, std::uint32_t expected_magic, std::vector<std::uint8_t>& out) {
  if (!std::filesystem::exists(path))
    throw std::runtime_error(path +
                             ": not found. Fashion-MNIST comes from Debian's archive: "
                             "apt-get install dataset-fashion-mnist (or pass the directory holding the "
                             "*-idx?-ubyte.gz files)");
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": cannot open");
  try {
    const std::uint32_t magic = read_be32(f, path);
    if (magic != expected_magic) {
      char msg[128];
      std::snprintf(msg, sizeof msg, ": IDX magic 0x%08x, expected 0x%08x", magic, expected_magic);
      throw std::runtime_error(path + msg);
    }
    std::size_t n = read_be32(f, path);
    std::size_t item = 1;
    for (std::uint32_t d = 1; d < (magic & 0xff); ++d) item *= read_be32(f, path);
    out.resize(n * item);
    std::size_t done = 0;
    while (done < out.size()) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(out.size() - done, 1u << 30));
      const int got = gzread(f, out.data() + done, chunk);
      if (got <= 0) throw std::runtime_error(path + ": truncated IDX payload");
      done += static_cast<std::size_t>(got);
    }
    gzclose(f);
    return n;
  } catch (...) {
    gzclose(f);
    throw;
  }
}
}  // namespace detail

/// @brief Load "train" (60000 images) or "t10k" (10000 images) from `dir`.
inline split load(const std::string& dir, const std::string& which) {
  split s;
  const std::size_t ni = detail::read_idx(dir + "/" + which + "-images-idx3-ubyte.gz", 0x00000803u, s.pixels);
  const std::size_t nl = detail::read_idx(dir + "/" + which + "-labels-idx1-ubyte.gz", 0x00000801u, s.labels);
  if (ni != nl || s.pixels.size() != ni * image_pixels)
    throw std::runtime_error(dir + "/" + which + ": image and label counts disagree");
  for (auto l : s.labels)
    if (l >= num_classes) throw std::runtime_error(dir + "/" + which + ": label out of range");
  return s;
}

}  // namespace fmnist
