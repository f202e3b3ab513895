// Runs the loader's fuzz oracle without libFuzzer (any compiler):
//   mpq_fuzz_replay                      every seed, each truncated at every length and with every
//                                        single byte corrupted (a deterministic mini-fuzz for ctest)
//   mpq_fuzz_replay --write-seeds DIR    write the seed corpus into DIR (for the libFuzzer run)
//   mpq_fuzz_replay FILE...              replay inputs (e.g. a crash libFuzzer saved)
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_load_model.hpp"
#include "seeds.hpp"

namespace {
bool read_file(const char* path, std::vector<std::uint8_t>& out) {
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return false;
  std::uint8_t buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  std::fclose(f);
  return true;
}
}  // namespace

int main(int argc, char** argv) {
  const auto seeds = mpq_fuzz_seeds();
  if (argc == 3 && std::strcmp(argv[1], "--write-seeds") == 0) {
    for (std::size_t k = 0; k < seeds.size(); ++k) {
      const std::string path = std::string(argv[2]) + "/seed-" + std::to_string(k) + ".mpq";
      std::FILE* f = std::fopen(path.c_str(), "wb");
      if (f == nullptr || std::fwrite(seeds[k].data(), 1, seeds[k].size(), f) != seeds[k].size()) {
        std::fprintf(stderr, "cannot write %s\n", path.c_str());
        return 1;
      }
      std::fclose(f);
    }
    std::printf("wrote %zu seeds to %s\n", seeds.size(), argv[2]);
    return 0;
  }
  if (argc > 1) {
    for (int i = 1; i < argc; ++i) {
      std::vector<std::uint8_t> data;
      if (!read_file(argv[i], data)) {
        std::fprintf(stderr, "cannot read %s\n", argv[i]);
        return 1;
      }
      mpq_fuzz_load_model(data.data(), data.size());
    }
    std::printf("replayed %d inputs\n", argc - 1);
    return 0;
  }
  std::size_t runs = 0;
  for (const auto& s : seeds) {
    if (s.empty()) return 1;
    mpq_fuzz_load_model(s.data(), s.size());
    for (std::size_t n = 0; n < s.size(); ++n, ++runs) mpq_fuzz_load_model(s.data(), n);
    for (std::size_t k = 0; k < s.size(); ++k) {
      for (std::uint8_t x : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xFF}}) {
        auto m = s;
        m[k] ^= x;
        mpq_fuzz_load_model(m.data(), m.size());
        ++runs;
      }
    }
  }
  std::printf("fuzz replay: %zu seeds, %zu mutated inputs, no failure\n", seeds.size(), runs);
  return 0;
}
