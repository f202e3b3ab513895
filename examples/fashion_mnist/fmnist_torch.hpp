// The LibTorch side of the end-to-end Fashion-MNIST pipeline: data as tensors, the FP32 network
// (conv-BN-ReLU-pool x3, fc-BN-ReLU-dropout, fc), batch-norm folding, and the LSQ network that is
// fine-tuned at a searched allocation and evaluated in mpq's bit-exact integer mode.
#pragma once

#include <torch/torch.h>

#include <array>
#include <stdexcept>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fmnist_data.hpp"
#include "fmnist_model_file.hpp"
#include "fmnist_net.hpp"
#include "mpq/adapters/torch.hpp"

namespace fmnist_e2e {

/// Images (N, 1, 28, 28) as float32 pixel values 0..255 (exact), labels (N) int64.
struct tensors {
  torch::Tensor images, labels;
  std::int64_t size() const { return labels.size(0); }
};

inline tensors to_tensors(const fmnist::split& s) {
  const auto n = static_cast<std::int64_t>(s.size());
  tensors t;
  t.images = torch::from_blob(const_cast<std::uint8_t*>(s.pixels.data()), {n, 1, fmnist::image_side, fmnist::image_side},
                              torch::kUInt8)
                 .to(torch::kFloat32);
  t.labels = torch::from_blob(const_cast<std::uint8_t*>(s.labels.data()), {n}, torch::kUInt8).to(torch::kInt64);
  return t;
}

/// A random permutation of 0..n-1 from a seeded generator (the epoch's batch order).
inline torch::Tensor permutation(std::int64_t n, std::uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kInt64));
}

/// Training augmentation: horizontal flip of a random half of the batch (seeded).
inline torch::Tensor random_flip(const torch::Tensor& x, std::uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto flip = torch::rand({x.size(0), 1, 1, 1}, gen, torch::TensorOptions()) < 0.5;
  return torch::where(flip, x.flip(3), x);
}

// ---- FP32 network -------------------------------------------------------------------------------

class Fp32NetImpl : public torch::nn::Module {
 public:
  Fp32NetImpl() {
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, c1, 3).padding(1).bias(false)));
    conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(c1, c2, 3).padding(1).bias(false)));
    conv3 = register_module("conv3", torch::nn::Conv2d(torch::nn::Conv2dOptions(c2, c3, 3).padding(1).bias(false)));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(c1));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(c2));
    bn3 = register_module("bn3", torch::nn::BatchNorm2d(c3));
    fc1 = register_module("fc1", torch::nn::Linear(fc1_in, hidden));
    bn4 = register_module("bn4", torch::nn::BatchNorm1d(hidden));
    fc2 = register_module("fc2", torch::nn::Linear(hidden, classes));
    drop = register_module("drop", torch::nn::Dropout(0.3));
  }
  /// x: raw pixel values 0..255.
  torch::Tensor forward(torch::Tensor x) {
    x = x * (1.0 / 255.0);
    x = torch::max_pool2d(torch::relu(bn1(conv1(x))), 2);
    x = torch::max_pool2d(torch::relu(bn2(conv2(x))), 2);
    x = torch::max_pool2d(torch::relu(bn3(conv3(x))), 2);
    x = drop(torch::relu(bn4(fc1(x.flatten(1)))));
    return fc2(x);
  }
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::BatchNorm1d bn4{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(Fp32Net);

/// A layer's weight and bias with batch norm (and, for conv1, the input's 1/255) folded in.
struct folded_layer {
  torch::Tensor weight, bias;
};

/// W' = W·γ/σ per output channel, b' = β + (b − μ)·γ/σ, σ = sqrt(var + eps) (eval-mode batch norm).
inline folded_layer fold(const torch::Tensor& w, const torch::Tensor& b, const torch::Tensor& gamma,
                         const torch::Tensor& beta, const torch::Tensor& mean, const torch::Tensor& var, double eps) {
  torch::NoGradGuard no_grad;
  const auto g = gamma / torch::sqrt(var + eps);
  std::vector<std::int64_t> shape(static_cast<std::size_t>(w.dim()), 1);
  shape[0] = -1;
  folded_layer f;
  f.weight = (w * g.view(shape)).contiguous();
  f.bias = (beta + ((b.defined() ? b : torch::zeros_like(mean)) - mean) * g).contiguous();
  return f;
}

/// The deployable float network: five layers with batch norm folded in, conv1 taking raw pixels.
inline std::array<folded_layer, layer_count> fold_network(Fp32Net& net) {
  auto bn = [](auto& m) { return std::make_tuple(m->weight, m->bias, m->running_mean, m->running_var, m->options.eps()); };
  std::array<folded_layer, layer_count> out;
  auto fold_with = [&](const torch::Tensor& w, const torch::Tensor& b, auto& norm) {
    auto [g, be, mu, var, eps] = bn(norm);
    return fold(w, b, g, be, mu, var, eps);
  };
  out[0] = fold_with(net->conv1->weight, {}, net->bn1);
  out[0].weight = out[0].weight * (1.0 / 255.0);  // conv1 takes pixel values 0..255
  out[1] = fold_with(net->conv2->weight, {}, net->bn2);
  out[2] = fold_with(net->conv3->weight, {}, net->bn3);
  out[3] = fold_with(net->fc1->weight, net->fc1->bias, net->bn4);
  torch::NoGradGuard no_grad;
  out[4] = {net->fc2->weight.detach().clone(), net->fc2->bias.detach().clone()};
  return out;
}

// ---- LSQ network (quantization-aware fine-tuning, integer evaluation, export) -------------------

/// Five LSQ layers (mpq::torch::LsqConv2d / LsqLinear; weight steps per output channel). Each
/// layer's input quantizer includes the ReLU; 2x2 max pooling follows conv1..3 (on values here, on
/// codes in deployment: requantization is monotone, so both give the same codes). conv1's input
/// step is fixed at 1 with 8 bits: its codes are the pixels.
class QatNetImpl : public torch::nn::Module {
 public:
  explicit QatNetImpl(const std::vector<mpq::bit_pair>& bits) {
    auto opt = [&](std::size_t l) {
      mpq::torch::lsq_layer_options o;
      o.weight_bits = bits[l].w;
      o.activation_bits = bits[l].a;
      o.per_channel_weights = true;
      return o;
    };
    conv1 = register_module("conv1", mpq::torch::LsqConv2d(torch::nn::Conv2dOptions(1, c1, 3).padding(1), opt(0)));
    conv2 = register_module("conv2", mpq::torch::LsqConv2d(torch::nn::Conv2dOptions(c1, c2, 3).padding(1), opt(1)));
    conv3 = register_module("conv3", mpq::torch::LsqConv2d(torch::nn::Conv2dOptions(c2, c3, 3).padding(1), opt(2)));
    fc1 = register_module("fc1", mpq::torch::LsqLinear(torch::nn::LinearOptions(fc1_in, hidden), opt(3)));
    fc2 = register_module("fc2", mpq::torch::LsqLinear(torch::nn::LinearOptions(hidden, classes), opt(4)));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(conv1(x), 2);
    x = torch::max_pool2d(conv2(x), 2);
    x = torch::max_pool2d(conv3(x), 2);
    x = fc1(x.flatten(1));
    return fc2(x);
  }

  /// Copies the folded float weights in and initialises every step from `calibration` (LIMPQ's
  /// rules: one forward); conv1's input step is then fixed at 1 (exact pixel codes, not trained).
  void load_folded(const std::array<folded_layer, layer_count>& f, const torch::Tensor& calibration) {
    {
      torch::NoGradGuard no_grad;
      conv1->conv->weight.copy_(f[0].weight);
      conv1->conv->bias.copy_(f[0].bias);
      conv2->conv->weight.copy_(f[1].weight);
      conv2->conv->bias.copy_(f[1].bias);
      conv3->conv->weight.copy_(f[2].weight);
      conv3->conv->bias.copy_(f[2].bias);
      fc1->linear->weight.copy_(f[3].weight);
      fc1->linear->bias.copy_(f[3].bias);
      fc2->linear->weight.copy_(f[4].weight);
      fc2->linear->bias.copy_(f[4].bias);
      forward(calibration);  // initialises the steps
      conv1->activation_step().fill_(1.0f);
    }
    conv1->activation_step().set_requires_grad(false);
  }

  /// The trainable tensors (conv1's fixed input step excluded).
  std::vector<torch::Tensor> trainable() {
    std::vector<torch::Tensor> out;
    for (auto& p : parameters())
      if (p.requires_grad()) out.push_back(p);
    return out;
  }

  /// The trainable tensors in two groups for SGD: conv1's weight and weight steps, which carry the
  /// folded 1/255 of the pixel scaling, and everything else. Plain SGD on w' = w/255 with learning
  /// rate lr moves w' by 255² times more, relative to its size, than SGD on w would; the first group
  /// therefore takes lr/255², which makes the update exactly SGD on the unscaled weights.
  std::vector<std::pair<std::vector<torch::Tensor>, double>> trainable_groups() {
    const auto* w1 = conv1->conv->weight.unsafeGetTensorImpl();
    const auto* s1 = conv1->weight_step().unsafeGetTensorImpl();
    std::vector<torch::Tensor> scaled, rest;
    for (auto& p : trainable())
      (p.unsafeGetTensorImpl() == w1 || p.unsafeGetTensorImpl() == s1 ? scaled : rest).push_back(p);
    return {{std::move(scaled), 1.0 / (255.0 * 255.0)}, {std::move(rest), 1.0}};
  }

  /// LSQ's steps must stay positive, but a plain SGD step can overshoot a small one (conv1's weight
  /// steps are ~1e-3) and the quantizer then refuses it. Called after every optimizer step: each
  /// learned step is clamped to at least `floor` (conv1's fixed input step is left alone).
  void clamp_steps(float floor = 1e-6f) {
    torch::NoGradGuard no_grad;
    for (std::size_t l = 0; l < layer_count; ++l) weight_steps(l).clamp_min_(floor);
    for (auto* a : {&conv2, &conv3}) (*a)->activation_step().clamp_min_(floor);
    for (auto* a : {&fc1, &fc2}) (*a)->activation_step().clamp_min_(floor);
  }

  void set_integer_inference(bool on) {
    conv1->set_integer_inference(on);
    conv2->set_integer_inference(on);
    conv3->set_integer_inference(on);
    fc1->set_integer_inference(on);
    fc2->set_integer_inference(on);
  }

  std::array<mpq::torch::deployed_layer, layer_count> export_deployment() const {
    return {conv1->export_deployment(), conv2->export_deployment(), conv3->export_deployment(),
            fc1->export_deployment(), fc2->export_deployment()};
  }
  /// Learned weight steps of layer l (one per output channel).
  torch::Tensor weight_steps(std::size_t l) const {
    switch (l) {
      case 0: return conv1->weight_step();
      case 1: return conv2->weight_step();
      case 2: return conv3->weight_step();
      case 3: return fc1->weight_step();
      default: return fc2->weight_step();
    }
  }

  mpq::torch::LsqConv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  mpq::torch::LsqLinear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(QatNet);

/// Predictions of `net` on `d` (eval mode, no gradients), in batches.
template <class Net>
torch::Tensor predict(Net& net, const tensors& d, std::int64_t batch = 1000) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  std::vector<torch::Tensor> out;
  for (std::int64_t i = 0; i < d.size(); i += batch) {
    const torch::Tensor logits = net->forward(d.images.narrow(0, i, std::min(batch, d.size() - i)));
    out.push_back(logits.argmax(1));
  }
  net->train(was_training);
  return torch::cat(out);
}

inline double accuracy_of(const torch::Tensor& predictions, const tensors& d) {
  return predictions.eq(d.labels).to(torch::kFloat64).mean().item<double>();
}

/// Mean cross-entropy of `net` on `d` (eval mode).
template <class Net>
double mean_loss(Net& net, const tensors& d, std::int64_t batch = 1000) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  double sum = 0.0;
  for (std::int64_t i = 0; i < d.size(); i += batch) {
    const std::int64_t n = std::min(batch, d.size() - i);
    const torch::Tensor logits = net->forward(d.images.narrow(0, i, n));
    const torch::Tensor loss = torch::nn::functional::cross_entropy(
        logits, d.labels.narrow(0, i, n), torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    sum += loss.item<double>();
  }
  net->train(was_training);
  return sum / static_cast<double>(d.size());
}

/// The framework-free model of what the integer mode computes: codes, learned weight steps, biases and
/// input steps of every layer (the qat stage's export; the deployment reads it back). Throws when an
/// exported epilogue scale is not the float32 product s_w * s_a the deployment recomputes.
inline model export_model(QatNet& net) {
  const auto dep = net->export_deployment();
  model m;
  for (std::size_t l = 0; l < layer_count; ++l) {
    const auto& x = dep[l];
    model_layer& y = m[l];
    y.weight_bits = x.weight_bits;
    y.activation_bits = x.activation_bits;
    y.out = static_cast<std::size_t>(x.weight_codes.size(0));
    y.k = static_cast<std::size_t>(x.weight_codes.numel()) / y.out;
    const std::int8_t* c = x.weight_codes.data_ptr<std::int8_t>();
    y.codes.assign(c, c + x.weight_codes.numel());
    const torch::Tensor steps = net->weight_steps(l).detach().contiguous();
    y.weight_steps.assign(steps.data_ptr<float>(), steps.data_ptr<float>() + steps.numel());
    y.bias = x.bias;
    y.input_step = x.activation_step;
    for (std::size_t o = 0; o < y.out; ++o)
      if (y.weight_steps[o] * y.input_step != x.scale[o])
        throw std::runtime_error(std::string(layer_names[l]) + ": the exported epilogue scale differs from s_w * s_a");
  }
  return m;
}

}  // namespace fmnist_e2e
