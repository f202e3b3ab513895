// The deployed Fashion-MNIST network (examples/fashion_mnist/fmnist_deploy.hpp) against a scalar
// oracle of the same integer network written with plain loops (no mpq kernels, no packing), on
// random models saved and loaded through the model file, for uniform and mixed allocations.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "fmnist_deploy.hpp"
#include "fmnist_model_file.hpp"
#include "fmnist_net.hpp"

namespace {

using namespace fmnist_e2e;

// ---- the oracle ---------------------------------------------------------------------------------
// Values as LibTorch's integer mode forms them: conv/linear over input codes with an exact integer
// sum, v = float(sum) * scale (rounded), + bias (rounded), then max pooling on v (before any
// requantization, the order of QatNet's forward), and the next layer's input quantizer:
// code = clamp(round half to even(v * (1/s_a)), 0, 2^A - 1).

float oracle_value(std::int64_t sum, float scale, float bias) {
  volatile float v = static_cast<float>(sum) * scale;  // volatile: no fused multiply-add
  return v + bias;
}

std::uint8_t oracle_code(float v, float inverse_step, int bits) {
  const float r = std::nearbyint(v * inverse_step);  // the default rounding mode: ties to even
  const float hi = static_cast<float>((1 << bits) - 1);
  if (std::isnan(r) || r <= 0.0f) return 0;
  if (r >= hi) return static_cast<std::uint8_t>(hi);
  return static_cast<std::uint8_t>(r);
}

struct oracle_result {
  std::array<std::vector<std::uint8_t>, layer_count> inputs;  // per image, concatenated
  std::vector<float> logits;
  std::array<std::vector<float>, layer_count> values;  // every layer's v (pooled for conv), per image
};

// One image: 28x28 pixels in, logits out; records every layer's input codes and values.
void oracle_image(const model& m, const std::uint8_t* pixels, oracle_result& r) {
  std::vector<std::uint8_t> a(pixels, pixels + side1 * side1);
  int channels = 1, side = side1;
  for (std::size_t l = 0; l < 3; ++l) {
    const model_layer& L = m[l];
    r.inputs[l].insert(r.inputs[l].end(), a.begin(), a.end());
    std::vector<float> v(L.out * static_cast<std::size_t>(side * side));
    for (std::size_t o = 0; o < L.out; ++o) {
      const float scale = L.weight_steps[o] * L.input_step;
      for (int y = 0; y < side; ++y)
        for (int x = 0; x < side; ++x) {
          std::int64_t s = 0;
          for (int c = 0; c < channels; ++c)
            for (int ky = -1; ky <= 1; ++ky)
              for (int kx = -1; kx <= 1; ++kx) {
                if (y + ky < 0 || y + ky >= side || x + kx < 0 || x + kx >= side) continue;
                const int w = L.codes[o * L.k + static_cast<std::size_t>(c * 9 + (ky + 1) * 3 + kx + 1)];
                s += w * a[static_cast<std::size_t>((c * side + y + ky) * side + x + kx)];
              }
          v[(o * static_cast<std::size_t>(side) + static_cast<std::size_t>(y)) * static_cast<std::size_t>(side) +
            static_cast<std::size_t>(x)] = oracle_value(s, scale, L.bias[o]);
        }
    }
    const int half = side / 2;
    std::vector<float> pooled(L.out * static_cast<std::size_t>(half * half));
    for (std::size_t o = 0; o < L.out; ++o)
      for (int y = 0; y < half; ++y)
        for (int x = 0; x < half; ++x) {
          auto at = [&](int yy, int xx) {
            return v[(o * static_cast<std::size_t>(side) + static_cast<std::size_t>(yy)) * static_cast<std::size_t>(side) +
                     static_cast<std::size_t>(xx)];
          };
          pooled[(o * static_cast<std::size_t>(half) + static_cast<std::size_t>(y)) * static_cast<std::size_t>(half) +
                 static_cast<std::size_t>(x)] = std::max({at(2 * y, 2 * x), at(2 * y, 2 * x + 1), at(2 * y + 1, 2 * x),
                                                          at(2 * y + 1, 2 * x + 1)});
        }
    r.values[l].insert(r.values[l].end(), pooled.begin(), pooled.end());
    const model_layer& next = m[l + 1];
    a.resize(pooled.size());
    for (std::size_t i = 0; i < pooled.size(); ++i)
      a[i] = oracle_code(pooled[i], 1.0f / next.input_step, next.activation_bits);
    channels = static_cast<int>(L.out);
    side = half;
  }
  for (std::size_t l = 3; l < layer_count; ++l) {
    const model_layer& L = m[l];
    r.inputs[l].insert(r.inputs[l].end(), a.begin(), a.end());
    std::vector<float> v(L.out);
    for (std::size_t o = 0; o < L.out; ++o) {
      std::int64_t s = 0;
      for (std::size_t k = 0; k < L.k; ++k) s += L.codes[o * L.k + k] * a[k];
      v[o] = oracle_value(s, L.weight_steps[o] * L.input_step, L.bias[o]);
    }
    r.values[l].insert(r.values[l].end(), v.begin(), v.end());
    if (l + 1 == layer_count) {
      r.logits.insert(r.logits.end(), v.begin(), v.end());
    } else {
      const model_layer& next = m[l + 1];
      a.resize(v.size());
      for (std::size_t i = 0; i < v.size(); ++i) a[i] = oracle_code(v[i], 1.0f / next.input_step, next.activation_bits);
    }
  }
}

oracle_result oracle(const model& m, const std::vector<std::uint8_t>& pixels, std::size_t n) {
  oracle_result r;
  for (std::size_t i = 0; i < n; ++i) oracle_image(m, pixels.data() + i * side1 * side1, r);
  return r;
}

// ---- random models and images -------------------------------------------------------------------

// Synthetic images: random blobs on a dark background, plus an all-zero and an all-255 image.
std::vector<std::uint8_t> synthetic_images(std::size_t n, std::uint32_t seed) {
  std::mt19937 g(seed);
  std::vector<std::uint8_t> px(n * side1 * side1, 0);
  for (std::size_t i = 2; i < n; ++i) {
    std::uint8_t* img = px.data() + i * side1 * side1;
    const int x0 = static_cast<int>(g() % 20), y0 = static_cast<int>(g() % 20);
    const int w = 4 + static_cast<int>(g() % 10), h = 4 + static_cast<int>(g() % 10);
    for (int y = 0; y < side1; ++y)
      for (int x = 0; x < side1; ++x) {
        const bool in = x >= x0 && x < x0 + w && y >= y0 && y < y0 + h;
        img[y * side1 + x] = static_cast<std::uint8_t>(in ? 128 + g() % 128 : g() % 32);
      }
  }
  std::fill_n(px.begin() + side1 * side1, side1 * side1, std::uint8_t{255});
  return px;
}

// Random codes, steps and biases at `bits`; every input step after conv1 is calibrated on the
// oracle's values so that the largest value of the calibration images maps near the top code (a
// code range that is used, with some clipping). With `pow2_steps` every step is a power of two, so
// that v * (1/s_a) lands exactly on halves and the ties-to-even rule is exercised.
model random_model(const std::vector<mpq::bit_pair>& bits, std::uint32_t seed, bool pow2_steps,
                   const std::vector<std::uint8_t>& calibration, std::size_t calibration_n) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  auto snap = [&](float s) { return pow2_steps ? std::exp2(std::round(std::log2(s))) : s; };
  model m;
  for (std::size_t l = 0; l < layer_count; ++l) {
    model_layer& x = m[l];
    x.weight_bits = bits[l].w;
    x.activation_bits = bits[l].a;
    x.out = layer_shapes[l].first;
    x.k = layer_shapes[l].second;
    const int lo = -(1 << (x.weight_bits - 1)), hi = (1 << (x.weight_bits - 1)) - 1;
    std::uniform_int_distribution<int> code(lo, hi);
    x.codes.resize(x.out * x.k);
    for (auto& c : x.codes) c = static_cast<std::int8_t>(code(g));
    x.weight_steps.resize(x.out);
    for (auto& s : x.weight_steps) s = snap((0.5f + unit(g)) / static_cast<float>(hi + 1) / std::sqrt(static_cast<float>(x.k)));
    x.bias.resize(x.out);
    for (auto& b : x.bias) b = pow2_steps ? std::round((unit(g) - 0.4f) * 8.0f) * 0.125f : (unit(g) - 0.4f) * 0.5f;
    x.input_step = 1.0f;
  }
  // Calibrate layer by layer: layer l's input step from the values of layer l-1.
  for (std::size_t l = 1; l < layer_count; ++l) {
    m[l].input_step = 1.0f;  // provisional; only values up to layer l-1 are used
    const oracle_result r = oracle(m, calibration, calibration_n);
    float top = 0.0f;
    for (float v : r.values[l - 1]) top = std::max(top, v);
    REQUIRE(top > 0.0f);
    m[l].input_step = snap(0.8f * top / static_cast<float>((1 << m[l].activation_bits) - 1));
  }
  return m;
}

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("mpq_test_e2e_" + std::to_string(::getpid()) + "_" + name);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct allocation_case {
  const char* bits;
  bool pow2_steps;
};

}  // namespace

TEST_CASE("deployed network equals the scalar oracle bit for bit, through the model file") {
  constexpr std::size_t n = 300;
  const std::vector<std::uint8_t> images = synthetic_images(n, 7);
  const std::vector<std::uint8_t> calibration(images.begin(), images.begin() + 32 * side1 * side1);
  const allocation_case cases[] = {
      {"W2A8 W2A2 W2A2 W2A2 W2A2", false}, {"W8A8 W8A8 W8A8 W8A8 W8A8", false}, {"W4A8 W4A4 W4A4 W4A4 W4A4", true},
      {"W2A8 W4A3 W3A2 W8A5 W5A7", false}, {"W6A8 W2A6 W7A2 W3A8 W2A4", true},
  };
  std::uint32_t seed = 11;
  for (const allocation_case& c : cases) {
    const std::string allocation = c.bits;
    CAPTURE(allocation);
    const auto bits = parse_bits(c.bits);
    const model made = random_model(bits, seed++, c.pow2_steps, calibration, 32);
    const auto path = temp_file(bits_key(bits) + ".mpq");
    REQUIRE(try_save_model(made, path.string()).ok());
    auto loaded = try_load_model(path.string());
    std::filesystem::remove(path);
    REQUIRE(loaded.has_value());
    const model& m = *loaded;
    for (std::size_t l = 0; l < layer_count; ++l) {
      CHECK(m[l].codes == made[l].codes);
      CHECK(m[l].weight_steps == made[l].weight_steps);
      CHECK(m[l].bias == made[l].bias);
      CHECK(m[l].input_step == made[l].input_step);
    }

    auto net = deployed_network::try_make(m);
    REQUIRE(net.has_value());
    std::vector<float> logits(n * classes);
    deploy_trace trace;
    REQUIRE(net->try_run(images, n, logits, 2, &trace).ok());
    const oracle_result want = oracle(m, images, n);
    for (std::size_t l = 0; l < layer_count; ++l) {
      const std::string layer = layer_names[l];
      CAPTURE(layer);
      CHECK(trace.inputs[l] == want.inputs[l]);
      // The codes are not degenerate: some zero (ReLU), some nonzero, more than two distinct values.
      const auto& codes = want.inputs[l];
      const auto zeros = std::count(codes.begin(), codes.end(), std::uint8_t{0});
      CHECK(zeros > 0);
      CHECK(static_cast<std::size_t>(zeros) < codes.size());
      std::vector<bool> seen(256, false);
      for (auto v : codes) seen[v] = true;
      CHECK(std::count(seen.begin(), seen.end(), true) > 2);
    }
    CHECK(same_bits(logits, want.logits));

    // Batches of one image, one thread: the same logits.
    std::vector<float> one(classes);
    bool all_same = true;
    for (std::size_t i = 0; i < n; i += 37) {
      REQUIRE(net->try_run({images.data() + i * side1 * side1, side1 * side1}, 1, one, 1).ok());
      all_same = all_same && std::memcmp(one.data(), logits.data() + i * classes, classes * sizeof(float)) == 0;
    }
    CHECK(all_same);
  }
}

TEST_CASE("the pooling order does not matter: pooling codes equals requantizing pooled values") {
  // The deployment pools codes, the oracle pools values; this case makes values whose maxima sit on
  // rounding ties and clipping edges and checks both orders code by code.
  const float inverse_step = 4.0f;
  std::mt19937 g(3);
  std::uniform_int_distribution<int> q(-12, 80);
  for (int t = 0; t < 10000; ++t) {
    float v[4];
    for (float& x : v) x = static_cast<float>(q(g)) * 0.125f;  // multiples of 1/8: v * 4 hits halves
    const float pooled = std::max({v[0], v[1], v[2], v[3]});
    std::uint8_t by_codes = 0;
    for (float x : v) by_codes = std::max(by_codes, oracle_code(x, inverse_step, 5));
    REQUIRE(by_codes == oracle_code(pooled, inverse_step, 5));
  }
}

TEST_CASE("a damaged model file is refused with the loader's error") {
  const std::vector<std::uint8_t> images = synthetic_images(32, 5);
  const model m = random_model(parse_bits("W4A8 W4A4 W4A4 W4A4 W4A4"), 23, false, images, 32);
  const auto path = temp_file("damaged.mpq");
  REQUIRE(try_save_model(m, path.string()).ok());
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(path) / 2));
    char byte = 0;
    f.read(&byte, 1);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(path) / 2));
    byte = static_cast<char>(byte ^ 0x20);
    f.write(&byte, 1);
  }
  auto loaded = try_load_model(path.string());
  std::filesystem::remove(path);
  REQUIRE_FALSE(loaded.has_value());
  CHECK(std::string(loaded.error().message()).size() > 0);
}
