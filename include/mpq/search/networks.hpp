// Built-in layer tables of ResNet-18, ResNet-50 and MobileNetV2 (ImageNet shapes, batch 1),
// computed from the architectures, and a one-call problem builder for them.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "mpq/cost/layer.hpp"
#include "mpq/search/problem.hpp"

namespace mpq {

/// @brief A network's quantizable layers (convs and the classifier, in forward order) and the ties
/// between layers that read the same input (a residual stage's shortcut conv and the main-path conv
/// beside it, HAWQ-V3's structural ties).
struct network {
  std::string name;
  std::vector<layer_info> layers;
  std::vector<layer_tie> ties;
};

namespace detail {
// Appends a conv; returns its output side length (square feature maps throughout these networks).
inline std::int64_t add_conv(network& n, std::string name, std::int64_t cin, std::int64_t cout, std::int64_t side,
                             std::int64_t kernel, std::int64_t stride, std::int64_t groups = 1) {
  conv2d_shape s;
  s.in_channels = cin;
  s.out_channels = cout;
  s.in_height = s.in_width = side;
  s.kernel = kernel;
  s.stride = stride;
  s.padding = kernel / 2;
  s.groups = groups;
  n.layers.push_back(conv2d_layer(std::move(name), s));
  return (side + 2 * s.padding - kernel) / stride + 1;
}
}  // namespace detail

/// @brief ResNet-18 (He et al. 2016; torchvision layout): 7×7 stem, four stages of two basic blocks
/// (64, 128, 256, 512 channels; stride 2 in the first conv of stages 2-4 with a 1×1 shortcut conv),
/// global pooling and a 1000-way classifier. 21 layers; 1.81 GMACs, 11.68 M weights at 224×224.
inline network resnet18(std::int64_t image = 224, std::int64_t classes = 1000) {
  network n;
  n.name = "resnet18";
  std::int64_t side = detail::add_conv(n, "conv1", 3, 64, image, 7, 2);
  side = (side + 2 - 3) / 2 + 1;  // 3×3 max-pool, stride 2, padding 1
  std::int64_t cin = 64;
  const std::int64_t widths[] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    for (int block = 0; block < 2; ++block) {
      const std::string pre = "layer" + std::to_string(stage + 1) + "." + std::to_string(block) + ".";
      const std::int64_t stride = (stage > 0 && block == 0) ? 2 : 1, w = widths[stage];
      const std::size_t first = n.layers.size();
      const std::int64_t out = detail::add_conv(n, pre + "conv1", cin, w, side, 3, stride);
      detail::add_conv(n, pre + "conv2", w, w, out, 3, 1);
      if (stride != 1 || cin != w) {
        detail::add_conv(n, pre + "downsample.0", cin, w, side, 1, stride);
        n.ties.push_back({first, n.layers.size() - 1, tie_kind::both});
      }
      side = out;
      cin = w;
    }
  }
  n.layers.push_back(linear_layer("fc", cin, classes));
  return n;
}

/// @brief ResNet-50 (torchvision v1.5: the stride sits in each bottleneck's 3×3 conv): stem, stages
/// of 3, 4, 6, 3 bottlenecks (1×1 → 3×3 → 1×1, expansion 4, a 1×1 shortcut conv in each stage's
/// first block), classifier. 54 layers; 4.09 GMACs, 25.50 M weights at 224×224.
inline network resnet50(std::int64_t image = 224, std::int64_t classes = 1000) {
  network n;
  n.name = "resnet50";
  std::int64_t side = detail::add_conv(n, "conv1", 3, 64, image, 7, 2);
  side = (side + 2 - 3) / 2 + 1;
  std::int64_t cin = 64;
  const std::int64_t widths[] = {64, 128, 256, 512};
  const int blocks[] = {3, 4, 6, 3};
  for (int stage = 0; stage < 4; ++stage) {
    for (int block = 0; block < blocks[stage]; ++block) {
      const std::string pre = "layer" + std::to_string(stage + 1) + "." + std::to_string(block) + ".";
      const std::int64_t stride = (stage > 0 && block == 0) ? 2 : 1, w = widths[stage], out_ch = 4 * w;
      const std::size_t first = n.layers.size();
      detail::add_conv(n, pre + "conv1", cin, w, side, 1, 1);
      const std::int64_t out = detail::add_conv(n, pre + "conv2", w, w, side, 3, stride);
      detail::add_conv(n, pre + "conv3", w, out_ch, out, 1, 1);
      if (block == 0) {
        detail::add_conv(n, pre + "downsample.0", cin, out_ch, side, 1, stride);
        n.ties.push_back({first, n.layers.size() - 1, tie_kind::both});
      }
      side = out;
      cin = out_ch;
    }
  }
  n.layers.push_back(linear_layer("fc", cin, classes));
  return n;
}

/// @brief MobileNetV2 (Sandler et al. 2018, width 1.0): 3×3 stem (32 ch, stride 2), 17 inverted
/// residual blocks (1×1 expand ×t, 3×3 depthwise, 1×1 project; (t, c, n, s) = (1,16,1,1),
/// (6,24,2,2), (6,32,3,2), (6,64,4,2), (6,96,3,1), (6,160,3,2), (6,320,1,1)), a 1×1 conv to 1280
/// and the classifier. 53 layers; 0.30 GMACs, 3.47 M weights at 224×224. No ties.
inline network mobilenet_v2(std::int64_t image = 224, std::int64_t classes = 1000) {
  network n;
  n.name = "mobilenet_v2";
  std::int64_t side = detail::add_conv(n, "features.0", 3, 32, image, 3, 2);
  std::int64_t cin = 32;
  struct setting {
    int t, c, n, s;
  };
  const setting settings[] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
                              {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  int index = 1;
  for (const setting& st : settings)
    for (int i = 0; i < st.n; ++i, ++index) {
      const std::string pre = "features." + std::to_string(index) + ".";
      const std::int64_t stride = i == 0 ? st.s : 1, hidden = cin * st.t;
      if (st.t != 1) detail::add_conv(n, pre + "expand", cin, hidden, side, 1, 1);
      const std::int64_t out = detail::add_conv(n, pre + "depthwise", hidden, hidden, side, 3, stride, hidden);
      detail::add_conv(n, pre + "project", hidden, st.c, out, 1, 1);
      side = out;
      cin = st.c;
    }
  detail::add_conv(n, "features.18", cin, 1280, side, 1, 1);
  n.layers.push_back(linear_layer("classifier", 1280, classes));
  return n;
}

/// @brief `layers` convolutions with seeded random shapes, no ties: the family of the search
/// benchmark's 1000-layer instance (benchmarks/search, seed 42). Per layer, from a mt19937_64 and
/// uniform [0, 1) draws u: C_in, C_out = 16 << ⌊6u⌋ (16..512), square maps 7 << ⌊4u⌋ (7..56),
/// kernel 1×1 or 3×3 (u < 0.5), same padding; layers are named "layer0", "layer1", ...
inline network synthetic_convs(std::size_t layers, std::uint64_t seed) {
  network n;
  n.name = "synthetic_convs";
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (std::size_t l = 0; l < layers; ++l) {
    conv2d_shape s;
    s.in_channels = 16 << static_cast<int>(u(rng) * 6);
    s.out_channels = 16 << static_cast<int>(u(rng) * 6);
    s.in_height = s.in_width = 7 << static_cast<int>(u(rng) * 4);
    s.kernel = u(rng) < 0.5 ? 1 : 3;
    s.padding = s.kernel / 2;
    n.layers.push_back(conv2d_layer("layer" + std::to_string(l), s));
  }
  return n;
}

/// @brief How make_problem treats a network's first and last layer and its ties.
struct network_options {
  bool fix_first = true;         ///< first conv at `first` (LIMPQ, HAWQ-V3 keep it at 8 bits)
  bit_pair first{8, 8};          ///< 8-bit weights; the input image is 8-bit already
  bool fix_last = true;          ///< classifier at `last`
  bit_pair last{8, 8};
  bool tie_shortcuts = true;     ///< apply network::ties
};

/// @brief Checked: a problem with every layer of `net` at the candidates weight_bits × activation_bits,
/// first/last fixed and ties applied per `options`. Add constraints and the objective next.
inline expected<problem> try_make_problem(const network& net, std::span<const int> weight_bits,
                                          std::span<const int> activation_bits, const network_options& options = {}) {
  problem p;
  for (const layer_info& l : net.layers) {
    auto i = p.try_add_layer(l, weight_bits, activation_bits);
    if (!i) return i.error();
  }
  if (options.fix_first && !net.layers.empty()) MPQ_TRY(p.try_fix_layer(0, options.first));
  if (options.fix_last && net.layers.size() > 1) MPQ_TRY(p.try_fix_layer(net.layers.size() - 1, options.last));
  if (options.tie_shortcuts)
    for (const layer_tie& t : net.ties) MPQ_TRY(p.try_tie(t.first, t.second, t.kind));
  return p;
}

/// @brief As try_make_problem; throws mpq::error on bad bits.
inline problem make_problem(const network& net, std::span<const int> weight_bits, std::span<const int> activation_bits,
                            const network_options& options = {}) {
  return try_make_problem(net, weight_bits, activation_bits, options).value();
}

}  // namespace mpq
