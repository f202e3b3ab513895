// The framework-free training examples' network: a small perceptron on Fashion-MNIST whose forward and
// backward are written out by hand, each layer's weights and inputs run through a TrainingStrategy.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fmnist_data.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/seeded_random.hpp"
#include "mpq/search/training/sgd.hpp"
#include "mpq/search/training/training_concepts.hpp"

namespace training_example {

/// Images as rows of 784 floats in [0, 1] and their labels (the first `count` of a split).
struct plain_data {
  std::vector<float> images;
  std::vector<std::uint8_t> labels;
  std::size_t size() const noexcept { return labels.size(); }
};

inline plain_data load_plain(std::size_t count, const std::string& which = "train",
                             const std::string& dir = fmnist::default_dir) {
  const fmnist::split s = fmnist::load(dir, which);
  plain_data d;
  const std::size_t n = std::min(count, s.size());
  d.images.resize(n * fmnist::image_pixels);
  for (std::size_t i = 0; i < d.images.size(); ++i) d.images[i] = s.pixels[i] / 255.0f;
  d.labels.assign(s.labels.begin(), s.labels.begin() + static_cast<std::ptrdiff_t>(n));
  return d;
}

/// A perceptron with layers sizes[0] → sizes[1] → ... → 10. Layer l's input goes through the
/// strategy's activation operation (which includes the ReLU), its weights through the weight
/// operation; y = x̂ Ŵᵀ + b. Weights and biases are plain vectors trained with mpq::sgd_optimizer.
class plain_mlp {
 public:
  explicit plain_mlp(std::vector<std::size_t> sizes, std::uint64_t seed = 1) : sizes_(std::move(sizes)) {
    for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
      layer L;
      L.in = sizes_[l];
      L.out = sizes_[l + 1];
      L.w.resize(L.in * L.out);
      const double bound = std::sqrt(1.0 / static_cast<double>(L.in));  // PyTorch's default init range
      for (float& v : L.w) v = static_cast<float>(bound * (2.0 * mpq::detail::uniform_open01(seed) - 1.0));
      L.b.assign(L.out, 0.0f);
      L.gw.assign(L.w.size(), 0.0f);
      L.gb.assign(L.out, 0.0f);
      layers_.push_back(std::move(L));
    }
  }

  std::size_t layer_count() const noexcept { return layers_.size(); }
  std::span<const float> weights(std::size_t l) const noexcept { return layers_[l].w; }

  /// The layers' shapes as the search sees them.
  std::vector<mpq::layer_info> layer_infos() const {
    std::vector<mpq::layer_info> v;
    for (std::size_t l = 0; l < layers_.size(); ++l)
      v.push_back(mpq::linear_layer("fc" + std::to_string(l + 1), static_cast<std::int64_t>(layers_[l].in),
                                    static_cast<std::int64_t>(layers_[l].out)));
    return v;
  }

  /// Logits of `batch` rows of x; keeps what backward() needs.
  template <mpq::TrainingStrategy S>
  const std::vector<float>& forward(S& s, std::span<const float> x, std::size_t batch) {
    std::vector<float> in(x.begin(), x.end());
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      layer& L = layers_[l];
      L.x = in;
      L.x_hat.resize(in.size());
      L.w_hat.resize(L.w.size());
      s.forward(l, mpq::operand::activations, L.x, L.x_hat);
      s.forward(l, mpq::operand::weights, L.w, L.w_hat);
      in.assign(batch * L.out, 0.0f);
      for (std::size_t i = 0; i < batch; ++i)
        for (std::size_t o = 0; o < L.out; ++o) {
          float acc = L.b[o];
          for (std::size_t k = 0; k < L.in; ++k) acc += L.x_hat[i * L.in + k] * L.w_hat[o * L.in + k];
          in[i * L.out + o] = acc;
        }
    }
    logits_ = std::move(in);
    batch_ = batch;
    return logits_;
  }

  /// Softmax cross-entropy of the last forward; backpropagates it, adding the gradients to the
  /// layers' and (through s.backward) to the strategy's. Returns the mean loss.
  template <mpq::TrainingStrategy S>
  double backward(S& s, std::span<const std::uint8_t> labels) {
    const std::size_t C = layers_.back().out;
    std::vector<float> g(logits_.size());
    double loss = 0.0;
    for (std::size_t i = 0; i < batch_; ++i) {
      const float* z = &logits_[i * C];
      const float top = *std::max_element(z, z + C);
      double sum = 0.0;
      for (std::size_t c = 0; c < C; ++c) sum += std::exp(static_cast<double>(z[c] - top));
      for (std::size_t c = 0; c < C; ++c) {
        const double p = std::exp(static_cast<double>(z[c] - top)) / sum;
        g[i * C + c] = static_cast<float>((p - (c == labels[i] ? 1.0 : 0.0)) / static_cast<double>(batch_));
      }
      loss -= std::log(std::exp(static_cast<double>(z[labels[i]] - top)) / sum);
    }
    for (std::size_t l = layers_.size(); l-- > 0;) {
      layer& L = layers_[l];
      std::vector<float> g_w_hat(L.w.size(), 0.0f), g_x_hat(L.x.size(), 0.0f);
      for (std::size_t i = 0; i < batch_; ++i)
        for (std::size_t o = 0; o < L.out; ++o) {
          const float go = g[i * L.out + o];
          L.gb[o] += go;
          for (std::size_t k = 0; k < L.in; ++k) {
            g_w_hat[o * L.in + k] += go * L.x_hat[i * L.in + k];
            g_x_hat[i * L.in + k] += go * L.w_hat[o * L.in + k];
          }
        }
      std::vector<float> g_w(L.w.size());
      s.backward(l, mpq::operand::weights, L.w, g_w_hat, g_w);
      for (std::size_t k = 0; k < g_w.size(); ++k) L.gw[k] += g_w[k];
      // ∂L/∂(previous layer's output); the first layer's input is the data: no gradient needed.
      g.resize(l == 0 ? 0 : L.x.size());
      s.backward(l, mpq::operand::activations, L.x, g_x_hat, g);
    }
    return loss / static_cast<double>(batch_);
  }

  void zero_gradients() {
    for (layer& L : layers_) {
      std::fill(L.gw.begin(), L.gw.end(), 0.0f);
      std::fill(L.gb.begin(), L.gb.end(), 0.0f);
    }
  }

  /// One SGD step of every layer's weights and biases (one optimizer per buffer, kept here).
  void sgd_step(const mpq::sgd_options& o) {
    if (optimizers_.empty())
      for (std::size_t i = 0; i < 2 * layers_.size(); ++i) optimizers_.emplace_back(o);
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      optimizers_[2 * l].step(layers_[l].w, layers_[l].gw);
      optimizers_[2 * l + 1].step(layers_[l].b, layers_[l].gb);
    }
  }

  /// Top-1 accuracy on a data set.
  template <mpq::TrainingStrategy S>
  double accuracy(S& s, const plain_data& d) {
    std::size_t right = 0;
    const std::size_t batch = 256;
    for (std::size_t start = 0; start < d.size(); start += batch) {
      const std::size_t n = std::min(batch, d.size() - start);
      const auto& z = forward(s, std::span<const float>(d.images).subspan(start * 784, n * 784), n);
      const std::size_t C = layers_.back().out;
      for (std::size_t i = 0; i < n; ++i)
        right += static_cast<std::size_t>(std::max_element(&z[i * C], &z[i * C] + C) - &z[i * C]) == d.labels[start + i];
    }
    return static_cast<double>(right) / static_cast<double>(d.size());
  }

 private:
  struct layer {
    std::size_t in = 0, out = 0;
    std::vector<float> w, b, gw, gb, x, x_hat, w_hat;
  };
  std::vector<std::size_t> sizes_;
  std::vector<layer> layers_;
  std::vector<float> logits_;
  std::size_t batch_ = 0;
  std::vector<mpq::sgd_optimizer> optimizers_;
};

/// The search problem of a perceptron: its first and last layer fixed at `fixed`, the others
/// searched over w_bits × a_bits.
inline mpq::problem mlp_problem(const plain_mlp& net, std::span<const int> w_bits, std::span<const int> a_bits,
                                mpq::bit_pair fixed = {8, 8}) {
  const auto layers = net.layer_infos();
  const mpq::bit_pair f[] = {fixed};
  mpq::problem p;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    if (l == 0 || l + 1 == layers.size())
      p.add_layer(layers[l], std::span<const mpq::bit_pair>(f));
    else
      p.add_layer(layers[l], w_bits, a_bits);
  }
  return p;
}

/// Rows [b·batch, (b+1)·batch) of a data set (wrapping around), as a span of images and labels.
inline std::pair<std::span<const float>, std::span<const std::uint8_t>> plain_batch(const plain_data& d, std::size_t b,
                                                                                     std::size_t batch) {
  const std::size_t start = (b * batch) % (d.size() - batch + 1);
  return {std::span<const float>(d.images).subspan(start * 784, batch * 784),
          std::span<const std::uint8_t>(d.labels).subspan(start, batch)};
}

}  // namespace training_example
