// mpq_fmnist_deploy: runs a packed Fashion-MNIST model (written by mpq_fmnist_pipeline's qat stage)
// on the test set with mpq's packed kernels only (no LibTorch), and prints accuracy and latency.
//
//   mpq_fmnist_deploy MODEL.mpq [--data DIR] [--threads N] [--batch N] [--limit N] [--single N]
//
// --limit: the first N test images only; --single: how many images to time one at a time (one
// thread). The last line is a tab-separated "results" line; nothing is written to disk.
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "fmnist_data.hpp"
#include "fmnist_deploy.hpp"
#include "fmnist_model_file.hpp"
#include "fmnist_net.hpp"
#include "progress.hpp"

namespace {

using namespace fmnist_e2e;

struct args {
  std::string model;
  std::map<std::string, std::string> opts;
  std::string get(const std::string& k, const std::string& fallback) const {
    auto it = opts.find(k);
    return it == opts.end() ? fallback : it->second;
  }
  long number(const std::string& k, long fallback) const {
    auto it = opts.find(k);
    if (it == opts.end()) return fallback;
    char* end = nullptr;
    const long v = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || v < 0)
      throw std::runtime_error("--" + k + " = '" + it->second + "': must be a non-negative integer");
    return v;
  }
};

args parse(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]).rfind("--", 0) == 0)
    throw std::runtime_error(
        "usage: mpq_fmnist_deploy MODEL.mpq [--data DIR] [--threads N] [--batch N] [--limit N] [--single N]");
  args a;
  a.model = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) throw std::runtime_error("bad argument '" + k + "': expected --name value");
    a.opts[k.substr(2)] = argv[++i];
  }
  return a;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int run(const args& a) {
  auto m = try_load_model(a.model);
  if (!m) {
    std::fprintf(stderr, "mpq_fmnist_deploy: %s\n", m.error().message());
    return 1;
  }
  std::vector<mpq::bit_pair> bits;
  for (const auto& l : *m) bits.push_back({l.weight_bits, l.activation_bits});
  auto net = deployed_network::try_make(*m);
  if (!net) {
    std::fprintf(stderr, "mpq_fmnist_deploy: %s\n", net.error().message());
    return 1;
  }
  const fmnist::split test = fmnist::load(a.get("data", fmnist::default_dir), "t10k");
  const auto threads = static_cast<std::size_t>(std::max(1L, a.number("threads", 2)));
  const auto batch = static_cast<std::size_t>(std::max(1L, a.number("batch", 256)));
  const std::size_t n = std::min(test.size(), static_cast<std::size_t>(a.number("limit", static_cast<long>(test.size()))));
  const std::size_t single = std::min(n, static_cast<std::size_t>(a.number("single", 1000)));
  std::printf("model %s: %s, %.3g BitOps, %.1f KiB of weights\n", a.model.c_str(), format_bits(bits).c_str(),
              bitops_of(bits), size_bits_of(bits) / 8.0 / 1024.0);

  // Batched: every image, `threads` kernel workers.
  std::vector<std::uint8_t> predictions(n);
  std::vector<float> logits(batch * classes);
  progress bar("deploy", static_cast<long>(n), 5.0);
  std::size_t correct = 0;
  const double t0 = now_seconds();
  for (std::size_t i = 0; i < n; i += batch) {
    const std::size_t b = std::min(batch, n - i);
    mpq::throw_if_error(net->try_run({test.image(i), b * fmnist::image_pixels}, b,
                                     std::span<float>(logits).first(b * classes), threads));
    for (std::size_t j = 0; j < b; ++j) {
      const int p = argmax(std::span<const float>(logits).subspan(j * classes, classes));
      predictions[i + j] = static_cast<std::uint8_t>(p);
      correct += p == test.labels[i + j] ? 1 : 0;
    }
    bar.update(static_cast<long>(i + b));
  }
  const double batched = (now_seconds() - t0) / static_cast<double>(std::max<std::size_t>(n, 1));

  // One image at a time, one thread: the latency of a single request.
  std::size_t agree = 0;
  const double t1 = now_seconds();
  for (std::size_t i = 0; i < single; ++i) {
    mpq::throw_if_error(net->try_run({test.image(i), fmnist::image_pixels}, 1, std::span<float>(logits).first(classes), 1));
    agree += argmax(std::span<const float>(logits).first(classes)) == predictions[i] ? 1 : 0;
  }
  const double one = single > 0 ? (now_seconds() - t1) / static_cast<double>(single) : 0.0;
  if (agree != single) {
    std::fprintf(stderr, "mpq_fmnist_deploy: single-image and batched predictions differ on %zu of %zu images\n",
                 single - agree, single);
    return 1;
  }

  const double acc = n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
  // The same checksum as the qat stage's integer_predictions_crc32 (over all 10000 images).
  const auto crc = crc32(0L, predictions.data(), static_cast<uInt>(predictions.size()));
  std::printf("accuracy %.2f %% (%zu of %zu test images)\n", 100.0 * acc, correct, n);
  std::printf("latency per image: %.1f us batched (%zu per batch, %zu threads), %.1f us single (1 thread, %zu images)\n",
              1e6 * batched, batch, threads, 1e6 * one, single);
  std::printf("results\tbits=%s\taccuracy=%.4f\tcorrect=%zu\timages=%zu\tpredictions_crc32=%08lx\tbatched_us=%.1f\t"
              "single_us=%.1f\n",
              bits_key(bits).c_str(), acc, correct, n, static_cast<unsigned long>(crc), 1e6 * batched, 1e6 * one);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpq_fmnist_deploy: %s\n", e.what());
    return 1;
  }
}
