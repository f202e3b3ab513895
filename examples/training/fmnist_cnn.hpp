// The small Fashion-MNIST CNN of the LibTorch training examples and tests: conv-conv-conv-fc, each
// layer run through a bound mpq training strategy (mpq::torch::QuantConv2d / QuantLinear).
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fmnist_data.hpp"
#include "mpq/adapters/torch.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/search/problem.hpp"

namespace training_example {

/// The network's four layers as the search sees them (per sample): conv1 1→8, conv2 8→16 and
/// conv3 16→16 (3x3, padding 1; 2x2 max pooling after conv1 and conv2), fc 784→10.
inline std::vector<mpq::layer_info> cnn_layers() {
  return {mpq::conv2d_layer("conv1", {1, 8, 28, 28, 3, 1, 1}), mpq::conv2d_layer("conv2", {8, 16, 14, 14, 3, 1, 1}),
          mpq::conv2d_layer("conv3", {16, 16, 7, 7, 3, 1, 1}), mpq::linear_layer("fc", 16 * 7 * 7, 10)};
}

/// conv1 and fc fixed at `first` and `last`; conv2 and conv3 searched over w_bits × a_bits.
inline mpq::problem cnn_problem(std::span<const int> w_bits, std::span<const int> a_bits, mpq::bit_pair first,
                                mpq::bit_pair last) {
  mpq::problem p;
  auto layers = cnn_layers();
  const mpq::bit_pair f[] = {first}, l[] = {last};
  p.add_layer(layers[0], std::span<const mpq::bit_pair>(f));
  p.add_layer(layers[1], w_bits, a_bits);
  p.add_layer(layers[2], w_bits, a_bits);
  p.add_layer(layers[3], std::span<const mpq::bit_pair>(l));
  return p;
}

/// The CNN. Each layer's input goes through the strategy's activation operation (which includes the
/// ReLU), its weights through the weight operation. `bn_copies` > 1 gives every layer that many
/// batch norms (LIMPQ's switchable BN: set bn_choice[l] before a pass).
class CnnImpl : public torch::nn::Module {
 public:
  CnnImpl(const std::shared_ptr<mpq::torch::training_state>& state, std::size_t bn_copies = 1) {
    c1 = register_module("c1", mpq::torch::QuantConv2d(state, 0, torch::nn::Conv2dOptions(1, 8, 3).padding(1)));
    c2 = register_module("c2", mpq::torch::QuantConv2d(state, 1, torch::nn::Conv2dOptions(8, 16, 3).padding(1)));
    c3 = register_module("c3", mpq::torch::QuantConv2d(state, 2, torch::nn::Conv2dOptions(16, 16, 3).padding(1)));
    fc = register_module("fc", mpq::torch::QuantLinear(state, 3, torch::nn::LinearOptions(16 * 7 * 7, 10)));
    const std::int64_t channels[] = {8, 16, 16};
    for (std::size_t l = 0; l < 3; ++l) {
      bns.emplace_back();
      for (std::size_t k = 0; k < bn_copies; ++k)
        bns[l].push_back(register_module("bn" + std::to_string(l) + "_" + std::to_string(k),
                                         torch::nn::BatchNorm2d(channels[l])));
    }
    bn_choice.assign(3, 0);
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(bns[0][bn_choice[0]](c1(x)), 2);
    x = torch::max_pool2d(bns[1][bn_choice[1]](c2(x)), 2);
    x = bns[2][bn_choice[2]](c3(x));
    return fc(x.flatten(1));
  }

  /// The weights the host's own optimizer trains (the strategy's parameters are separate).
  std::vector<torch::Tensor> network_parameters() { return parameters(); }

  mpq::torch::QuantConv2d c1{nullptr}, c2{nullptr}, c3{nullptr};
  mpq::torch::QuantLinear fc{nullptr};
  std::vector<std::vector<torch::nn::BatchNorm2d>> bns;
  std::vector<std::size_t> bn_choice;
};
TORCH_MODULE(Cnn);

/// Images (N, 1, 28, 28) in [0, 1] and labels (N) of the first `count` images of a split.
struct fmnist_tensors {
  torch::Tensor images, labels;
};

inline fmnist_tensors load_fmnist(std::size_t count, const std::string& which = "train",
                                  const std::string& dir = fmnist::default_dir) {
  const fmnist::split s = fmnist::load(dir, which);
  const auto n = static_cast<std::int64_t>(count < s.size() ? count : s.size());
  fmnist_tensors t;
  t.images = torch::from_blob(const_cast<std::uint8_t*>(s.pixels.data()), {n, 1, 28, 28}, torch::kUInt8)
                 .to(torch::kFloat32)
                 .div(255.0);
  t.labels = torch::from_blob(const_cast<std::uint8_t*>(s.labels.data()), {n}, torch::kUInt8).to(torch::kInt64);
  return t;
}

/// Batch b (of size `batch`, wrapping around) of a data set.
inline std::pair<torch::Tensor, torch::Tensor> batch_of(const fmnist_tensors& d, std::int64_t b, std::int64_t batch) {
  const std::int64_t n = d.images.size(0), start = (b * batch) % (n - batch + 1);
  return {d.images.narrow(0, start, batch), d.labels.narrow(0, start, batch)};
}

/// Top-1 accuracy of `net` on a data set (eval mode, no gradients).
inline double accuracy(Cnn& net, const fmnist_tensors& d) {
  torch::NoGradGuard no_grad;
  net->eval();
  const auto pred = net->forward(d.images).argmax(1);
  net->train();
  return pred.eq(d.labels).to(torch::kFloat64).mean().item<double>();
}

}  // namespace training_example
