// The golden model of an exported network, on the host: the deployed integer arithmetic computed
// directly in PyTorch's layout (CHW maps, OIHW weights, direct convolution, no im2col, no
// reordering), to check an export against the training framework and the firmware against both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/io/embedded_header.hpp"
#include "mpq/kernel/epilogue.hpp"

namespace mpq::io {

/// @brief Checked: the outputs (float32, as the engine's last layer gives them) of the network
/// `layers` at allocation `bits` for one input in CHW order. Per layer: input codes (the first
/// layer's quantizer on `input`, then the requantized previous outputs, max-pooled on codes),
/// exact integer sums over the PyTorch-order weight codes, the epilogue of kernel/epilogue.hpp.
/// Equal bit for bit to mpq::embedded::engine on the exported header, with any backend.
/// Errors: those of try_prepare_network, an input of the wrong size (shape_mismatch).
inline expected<std::vector<float>> try_reference_forward(std::span<const embedded_layer> layers,
                                                          std::span<const bit_pair> bits, std::span<const float> input) {
  auto prepared = try_prepare_network(layers, bits);
  if (!prepared) return prepared.error();
  const prepared_network& net = *prepared;
  const prepared_layer& first = net.layers.front();
  if (input.size() != first.input_count)
    return status::failure(errc::shape_mismatch, "reference_forward: the input has %zu values; layer 0 takes %llu",
                           input.size(), static_cast<unsigned long long>(first.input_count));
  std::vector<std::int32_t> x(input.size());
  for (std::size_t i = 0; i < input.size(); ++i) x[i] = kernel::requantize_output(input[i], first.input);
  std::vector<float> v;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const embedded_layer& e = layers[l];
    const prepared_layer& p = net.layers[l];
    const kernel::doubled_offsets off{static_cast<std::int32_t>(p.weight_code_offset * 2.0f), -2 * p.input.zero_point};
    const std::int32_t pad = kernel::requantize_output(0.0f, p.input);
    const bool conv = e.kind == embedded_layer_kind::conv2d;
    const std::size_t H = p.in_h, W = p.in_w, kk = p.kernel;
    const std::size_t oh = conv ? (H + 2 * p.padding - kk) / p.stride + 1 : 1;
    const std::size_t ow = conv ? (W + 2 * p.padding - kk) / p.stride + 1 : 1;
    v.assign(p.out * oh * ow, 0.0f);
    for (std::size_t n = 0; n < p.out; ++n)
      for (std::size_t y = 0; y < oh; ++y)
        for (std::size_t xx = 0; xx < ow; ++xx) {
          std::int64_t acc = 0, sum_a = 0, sum_w = 0;
          for (std::size_t j = 0; j < p.k; ++j) {
            std::int32_t a = 0;
            if (conv) {  // j = (c, ky, kx) in OIHW order
              const std::size_t c = j / (kk * kk), ky = j / kk % kk, kx = j % kk;
              const std::size_t iy = y * p.stride + ky, ix = xx * p.stride + kx;  // + padding
              a = iy < p.padding || ix < p.padding || iy - p.padding >= H || ix - p.padding >= W
                      ? pad
                      : x[(c * H + iy - p.padding) * W + ix - p.padding];
            } else {  // j indexes the CHW flatten of the input
              a = x[j];
            }
            const std::int32_t w = e.weight_codes[n * p.k + j];
            acc += std::int64_t{w} * a;
            sum_a += a;
            sum_w += w;
          }
          const std::int64_t r4 = kernel::corrected_sum_x4(static_cast<std::int32_t>(acc), sum_w, sum_a, p.k, off);
          v[(n * oh + y) * ow + xx] = kernel::dequantize_output(r4, p.scale[n], p.bias[n], p.has_bias);
        }
    if (l + 1 == layers.size()) break;
    const kernel::requantization& q = net.layers[l + 1].input;
    const std::size_t ph = (oh - p.pool) / p.pool_stride + 1, pw = (ow - p.pool) / p.pool_stride + 1;
    std::vector<std::int32_t> next(p.out * ph * pw);
    for (std::size_t n = 0; n < p.out; ++n)
      for (std::size_t y = 0; y < ph; ++y)
        for (std::size_t xx = 0; xx < pw; ++xx) {
          std::int32_t m = 0;
          for (std::size_t dy = 0; dy < p.pool; ++dy)
            for (std::size_t dx = 0; dx < p.pool; ++dx) {
              const std::int32_t c = kernel::requantize_output(v[(n * oh + y * p.pool_stride + dy) * ow + xx * p.pool_stride + dx], q);
              m = dy + dx == 0 || c > m ? c : m;
            }
          next[(n * ph + y) * pw + xx] = m;
        }
    x = std::move(next);
  }
  return v;
}

}  // namespace mpq::io
