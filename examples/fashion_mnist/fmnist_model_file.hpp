// A deployed Fashion-MNIST network in one mpq packed-model file (docs/packed_format.md: CRC-checked,
// validated on load), and its checks against the network's architecture (fmnist_net.hpp).
//
// Per layer L (conv1, conv2, conv3, fc1, fc2) the file holds three tensors:
//   "L.weight"  W-bit signed codes, interleaved, out x K in PyTorch's order (conv: (c, kh, kw); fc1:
//               the CHW flattening of conv3's pooled map); row scale = the weight step s_w[n].
//   "L.input"   1 x 1, A-bit unsigned, code 1, scale = s_a: the layer's input bits and step (its
//               quantizer: code = clamp(round_half_even(x * (1/s_a)), 0, 2^A - 1), ReLU folded in).
//   "L.bias"    out x 1, 8-bit signed, code 1, row scale = bias[n] (so value = bias[n]).
// The epilogue's scale is float32(s_w[n] * s_a), as mpq::torch::deployed_layer computes it.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fmnist_net.hpp"
#include "mpq/core/error.hpp"
#include "mpq/packed/file_format.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/model.hpp"
#include "mpq/packed/pack.hpp"

namespace fmnist_e2e {

/// One quantized layer, framework-free.
struct model_layer {
  int weight_bits = 8, activation_bits = 8;
  std::size_t out = 0, k = 0;
  std::vector<std::int8_t> codes;  ///< out x k, row-major
  std::vector<float> weight_steps;  ///< out
  std::vector<float> bias;          ///< out
  float input_step = 1.0f;
};
using model = std::array<model_layer, layer_count>;

/// Output channels and inputs per output (K) of each layer.
inline constexpr std::array<std::pair<std::size_t, std::size_t>, layer_count> layer_shapes = {
    {{c1, 1 * 9}, {c2, c1 * 9}, {c3, c2 * 9}, {hidden, fc1_in}, {classes, hidden}}};

namespace detail {

/// f(std::integral_constant<int, B>{}) for the runtime B in 1..8.
template <class F>
decltype(auto) with_bits(int b, F&& f) {
  switch (b) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 5: return f(std::integral_constant<int, 5>{});
    case 6: return f(std::integral_constant<int, 6>{});
    case 7: return f(std::integral_constant<int, 7>{});
    default: return f(std::integral_constant<int, 8>{});
  }
}

inline mpq::status fail(const std::string& path, const std::string& what) {
  return mpq::status::failure(mpq::errc::corrupt_data, "%s: %s", path.c_str(), what.c_str());
}

}  // namespace detail

/// Checked: the layers have the network's shapes and bits in range, finite positive steps.
inline mpq::status check_model(const model& m, const std::string& where) {
  for (std::size_t l = 0; l < layer_count; ++l) {
    const model_layer& x = m[l];
    const std::string name = layer_names[l];
    if (x.out != layer_shapes[l].first || x.k != layer_shapes[l].second)
      return detail::fail(where, name + ": shape " + std::to_string(x.out) + " x " + std::to_string(x.k) +
                                     ", the network's layer is " + std::to_string(layer_shapes[l].first) + " x " +
                                     std::to_string(layer_shapes[l].second));
    if (x.weight_bits < 2 || x.weight_bits > 8 || x.activation_bits < 2 || x.activation_bits > 8 ||
        (l == 0 && x.activation_bits != input_bits))
      return detail::fail(where, name + ": W" + std::to_string(x.weight_bits) + "A" + std::to_string(x.activation_bits) +
                                     ": weights and inputs take 2..8 bits, conv1's input 8 (the raw image)");
    if (x.codes.size() != x.out * x.k || x.weight_steps.size() != x.out || x.bias.size() != x.out)
      return detail::fail(where, name + ": codes, steps or biases of the wrong length");
    if (!(x.input_step > 0.0f) || !std::isfinite(x.input_step))
      return detail::fail(where, name + ": input step " + std::to_string(x.input_step) + ": must be finite and > 0");
    if (l == 0 && x.input_step != 1.0f)
      return detail::fail(where, "conv1: input step " + std::to_string(x.input_step) + ": must be 1 (pixel codes)");
    for (float s : x.weight_steps)
      if (!(s > 0.0f) || !std::isfinite(s))
        return detail::fail(where, name + ": a weight step is " + std::to_string(s) + ": must be finite and > 0");
  }
  return {};
}

/// Checked: writes `m` to `path` (through mpq::try_save: a temporary file renamed into place).
inline mpq::status try_save_model(const model& m, const std::string& path) {
  MPQ_TRY(check_model(m, path));
  mpq::packed_model pm;
  for (std::size_t l = 0; l < layer_count; ++l) {
    const model_layer& x = m[l];
    const std::string name = layer_names[l];
    mpq::status st = detail::with_bits(x.weight_bits, [&](auto wb) -> mpq::status {
      auto t = mpq::try_pack<decltype(wb)::value, mpq::signed_codes, mpq::interleaved>(x.codes, x.out, x.k);
      if (!t) return t.error();
      std::copy(x.weight_steps.begin(), x.weight_steps.end(), t->scales().begin());
      return pm.try_add(name + ".weight", std::move(*t));
    });
    MPQ_TRY(st);
    st = detail::with_bits(x.activation_bits, [&](auto ab) -> mpq::status {
      const std::int32_t one[1] = {1};
      auto t = mpq::try_pack<decltype(ab)::value, mpq::unsigned_codes, mpq::interleaved>(one, 1, 1);
      if (!t) return t.error();
      t->scales()[0] = x.input_step;
      return pm.try_add(name + ".input", std::move(*t));
    });
    MPQ_TRY(st);
    std::vector<std::int32_t> ones(x.out, 1);
    auto b = mpq::try_pack<8, mpq::signed_codes, mpq::interleaved>(ones, x.out, 1);
    if (!b) return b.error();
    std::copy(x.bias.begin(), x.bias.end(), b->scales().begin());
    MPQ_TRY(pm.try_add(name + ".bias", std::move(*b)));
  }
  return mpq::try_save(pm, path);
}

/// Checked: reads a model written by try_save_model. A damaged file is mpq's loader's error (CRC,
/// sizes, ...); a valid packed-model file that is not this network's is errc::corrupt_data naming
/// the tensor and the rule.
inline mpq::expected<model> try_load_model(const std::string& path) {
  auto pm = mpq::try_load_model(path);
  if (!pm) return pm.error();
  model m;
  for (std::size_t l = 0; l < layer_count; ++l) {
    model_layer& x = m[l];
    const std::string name = layer_names[l];
    const mpq::any_packed_tensor* w = pm->find(name + ".weight");
    const mpq::any_packed_tensor* in = pm->find(name + ".input");
    const mpq::any_packed_tensor* b = pm->find(name + ".bias");
    if (w == nullptr || in == nullptr || b == nullptr)
      return detail::fail(path, "tensor '" + name + (w == nullptr ? ".weight" : in == nullptr ? ".input" : ".bias") +
                                    "' is missing: not a Fashion-MNIST model of this pipeline");
    if (w->sign() != mpq::signed_codes || std::string(w->layout_name()) != "interleaved")
      return detail::fail(path, name + ".weight: must be signed codes in the interleaved layout");
    x.weight_bits = w->bits();
    x.out = w->rows();
    x.k = w->cols();
    if (x.out != layer_shapes[l].first || x.k != layer_shapes[l].second)
      return detail::fail(path, name + ".weight: shape " + std::to_string(x.out) + " x " + std::to_string(x.k) +
                                    ", the network's layer is " + std::to_string(layer_shapes[l].first) + " x " +
                                    std::to_string(layer_shapes[l].second));
    x.codes.resize(x.out * x.k);
    mpq::status st = detail::with_bits(x.weight_bits, [&](auto wb) -> mpq::status {
      auto v = w->try_view<decltype(wb)::value, mpq::signed_codes, mpq::interleaved>();
      if (!v) return v.error();
      std::vector<std::int32_t> c(x.out * x.k);
      MPQ_TRY(mpq::try_unpack(*v, c));
      for (std::size_t i = 0; i < c.size(); ++i) x.codes[i] = static_cast<std::int8_t>(c[i]);
      return {};
    });
    MPQ_TRY(st);
    x.weight_steps.assign(w->scales().begin(), w->scales().end());
    for (float z : w->zero_points())
      if (z != 0.0f) return detail::fail(path, name + ".weight: zero points must be 0 (symmetric weights)");
    if (in->rows() != 1 || in->cols() != 1 || in->sign() != mpq::unsigned_codes || in->zero_points()[0] != 0.0f)
      return detail::fail(path, name + ".input: must be one unsigned code with zero point 0");
    x.activation_bits = in->bits();
    x.input_step = in->scales()[0];
    if (b->rows() != x.out || b->cols() != 1 || b->bits() != 8 || b->sign() != mpq::signed_codes)
      return detail::fail(path, name + ".bias: must be " + std::to_string(x.out) + " x 1 signed 8-bit codes");
    x.bias.assign(b->scales().begin(), b->scales().end());
  }
  if (pm->size() != 3 * layer_count)
    return detail::fail(path, std::to_string(pm->size()) + " tensors, the network has " + std::to_string(3 * layer_count));
  MPQ_TRY(check_model(m, path));
  return m;
}

}  // namespace fmnist_e2e
