// The deployed Fashion-MNIST network on mpq's packed kernels only (no LibTorch): a model file's
// layers prepacked once, then batches of images through im2col + mpq's runtime-bits gemm, the
// epilogue requantizing every layer's output to the next layer's input codes (ReLU folded in),
// 2x2 max pooling on codes, float logits from fc2. docs/e2e.md describes the arithmetic.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fmnist_model_file.hpp"
#include "fmnist_net.hpp"
#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/kernel/executor.hpp"
#include "mpq/kernel/gemm.hpp"
#include "mpq/kernel/packed_weights.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/pack.hpp"

namespace fmnist_e2e {

/// @brief What one run produced besides the logits, for tests: the input codes of every layer
/// (conv1: the pixels; conv2, conv3: the pooled maps, (c, y, x) per image; fc1: the flattened
/// pooled map of conv3; fc2: fc1's requantized output), image-major.
struct deploy_trace {
  std::array<std::vector<std::uint8_t>, layer_count> inputs;
};

/// @brief A model prepacked for mpq's kernels; run() evaluates batches of images.
class deployed_network {
 public:
  /// Checked: prepacks every layer's weights for its input bits (mpq's choice of algorithm).
  static mpq::expected<deployed_network> try_make(const model& m) {
    MPQ_TRY(check_model(m, "deployed_network"));
    deployed_network d;
    for (std::size_t l = 0; l < layer_count; ++l) {
      const model_layer& x = m[l];
      layer& y = d.layers_[l];
      y.weight_bits = x.weight_bits;
      y.activation_bits = x.activation_bits;
      y.out = x.out;
      y.k = x.k;
      y.bias = x.bias;
      y.scale.resize(x.out);
      for (std::size_t n = 0; n < x.out; ++n) y.scale[n] = x.weight_steps[n] * x.input_step;  // one float32 product
      y.inverse_step = 1.0f / x.input_step;
      mpq::status st = detail::with_bits(x.weight_bits, [&](auto wb) -> mpq::status {
        auto t = mpq::try_pack<decltype(wb)::value, mpq::signed_codes, mpq::interleaved>(x.codes, x.out, x.k);
        if (!t) return t.error();
        auto w = mpq::kernel::packed_weights::try_prepack_for(t->view(), x.activation_bits);
        if (!w) return w.error();
        y.weights = std::move(*w);
        return {};
      });
      MPQ_TRY(st);
    }
    return d;
  }

  /// Input bits of each layer (conv1's are the pixels' 8).
  int input_bits(std::size_t l) const noexcept { return layers_[l].activation_bits; }
  int weight_bits(std::size_t l) const noexcept { return layers_[l].weight_bits; }

  /// @brief Logits (n x classes, row-major) of n images (n x 784 pixels); `threads` workers in
  /// the kernels; `trace`, when given, receives every layer's input codes.
  mpq::status try_run(std::span<const std::uint8_t> pixels, std::size_t n, std::span<float> logits,
                      std::size_t threads = 1, deploy_trace* trace = nullptr) const {
    if (pixels.size() != n * side1 * side1 || logits.size() != n * classes)
      return mpq::status::failure(mpq::errc::shape_mismatch, "deployed_network: %zu pixels and %zu logits for %zu images",
                                  pixels.size(), logits.size(), n);
    const mpq::kernel::thread_executor ex{threads};
    std::vector<std::uint8_t> x(pixels.begin(), pixels.end());  // image-major, (c, y, x) per image
    const std::array<int, 3> sides = {side1, side2, side3};
    const std::array<int, 3> in_channels = {1, c1, c2};
    std::vector<std::uint8_t> cols, codes;
    for (std::size_t l = 0; l < 3; ++l) {
      if (trace != nullptr) trace->inputs[l] = x;
      const auto s = static_cast<std::size_t>(sides[l]);
      im2col(x, n, static_cast<std::size_t>(in_channels[l]), s, cols);
      MPQ_TRY(gemm_codes(l, cols, n * s * s, codes, ex));
      pool(codes, n, layers_[l].out, s, x);
    }
    for (std::size_t l = 3; l < layer_count - 1; ++l) {
      if (trace != nullptr) trace->inputs[l] = x;
      MPQ_TRY(gemm_codes(l, x, n, codes, ex));
      x.swap(codes);
    }
    if (trace != nullptr) trace->inputs[layer_count - 1] = x;
    return gemm_logits(x, n, logits, ex);
  }

 private:
  struct layer {
    int weight_bits = 8, activation_bits = 8;
    std::size_t out = 0, k = 0;
    mpq::kernel::packed_weights weights;
    std::vector<float> scale, bias;
    float inverse_step = 1.0f;  ///< 1/s_a in float32: the requantization that makes this layer's input
  };

  /// Rows (image, y, x), columns (c, ky, kx) of a 3x3 convolution with padding 1 over n maps of
  /// `channels` x side x side codes; padding is code 0 (value 0: zero point 0).
  static void im2col(const std::vector<std::uint8_t>& x, std::size_t n, std::size_t channels, std::size_t side,
                     std::vector<std::uint8_t>& cols) {
    const std::size_t k = channels * 9;
    cols.assign(n * side * side * k, 0);
    for (std::size_t b = 0; b < n; ++b) {
      const std::uint8_t* img = x.data() + b * channels * side * side;
      for (std::size_t y = 0; y < side; ++y)
        for (std::size_t xx = 0; xx < side; ++xx) {
          std::uint8_t* row = cols.data() + ((b * side + y) * side + xx) * k;
          for (std::size_t c = 0; c < channels; ++c)
            for (std::size_t ky = 0; ky < 3; ++ky) {
              const std::size_t iy = y + ky;  // input row + 1
              if (iy < 1 || iy > side) continue;
              for (std::size_t kx = 0; kx < 3; ++kx) {
                const std::size_t ix = xx + kx;
                if (ix < 1 || ix > side) continue;
                row[c * 9 + ky * 3 + kx] = img[(c * side + iy - 1) * side + ix - 1];
              }
            }
        }
    }
  }

  /// 2x2 max pooling (floor) of the gemm's rows (image, y, x) x channels into (image, c, y, x).
  static void pool(const std::vector<std::uint8_t>& codes, std::size_t n, std::size_t channels, std::size_t side,
                   std::vector<std::uint8_t>& out) {
    const std::size_t half = side / 2;
    out.assign(n * channels * half * half, 0);
    for (std::size_t b = 0; b < n; ++b)
      for (std::size_t y = 0; y < half; ++y)
        for (std::size_t xx = 0; xx < half; ++xx) {
          const std::uint8_t* p = codes.data() + ((b * side + 2 * y) * side + 2 * xx) * channels;
          const std::size_t right = channels, down = side * channels;
          for (std::size_t c = 0; c < channels; ++c)
            out[((b * channels + c) * half + y) * half + xx] =
                std::max(std::max(p[c], p[c + right]), std::max(p[c + down], p[c + down + right]));
        }
  }

  /// The next layer's input codes of layer l over `rows` rows of its input codes (rows x K).
  mpq::status gemm_codes(std::size_t l, const std::vector<std::uint8_t>& in, std::size_t rows,
                         std::vector<std::uint8_t>& out, const mpq::kernel::thread_executor& ex) const {
    const layer& L = layers_[l];
    const layer& next = layers_[l + 1];
    mpq::kernel::requantization rq;
    rq.bits = next.activation_bits;
    rq.inverse_step = next.inverse_step;
    rq.zero_point = 0;
    rq.code_lo = 0;  // ReLU
    rq.code_hi = mpq::code_max(next.activation_bits, mpq::unsigned_codes);
    const mpq::kernel::dequantization dq{L.scale, L.bias};
    out.resize(rows * L.out);
    return detail::with_bits(L.activation_bits, [&](auto ab) -> mpq::status {
      auto a = mpq::try_pack<decltype(ab)::value, mpq::unsigned_codes, mpq::interleaved>(in, rows, L.k);
      if (!a) return a.error();
      const mpq::kernel::runtime_view<mpq::interleaved> av(a->view());
      return detail::with_bits(next.activation_bits, [&](auto nb) -> mpq::status {
        auto c = mpq::packed_tensor<decltype(nb)::value, mpq::unsigned_codes, mpq::interleaved>::try_make(rows, L.out);
        if (!c) return c.error();
        MPQ_TRY(mpq::kernel::try_gemm(av, L.weights, dq, rq, c->span(), ex));
        return mpq::try_unpack(*c, out);
      });
    });
  }

  /// fc2's float logits.
  mpq::status gemm_logits(const std::vector<std::uint8_t>& in, std::size_t rows, std::span<float> logits,
                          const mpq::kernel::thread_executor& ex) const {
    const layer& L = layers_[layer_count - 1];
    const mpq::kernel::dequantization dq{L.scale, L.bias};
    return detail::with_bits(L.activation_bits, [&](auto ab) -> mpq::status {
      auto a = mpq::try_pack<decltype(ab)::value, mpq::unsigned_codes, mpq::interleaved>(in, rows, L.k);
      if (!a) return a.error();
      return mpq::kernel::try_gemm(mpq::kernel::runtime_view<mpq::interleaved>(a->view()), L.weights, dq, logits, L.out,
                                   ex);
    });
  }

  std::array<layer, layer_count> layers_;
};

/// Index of the largest logit (the first on ties).
inline int argmax(std::span<const float> logits) {
  return static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

}  // namespace fmnist_e2e
