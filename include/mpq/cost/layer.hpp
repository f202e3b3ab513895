// What the cost models and the search know about a layer: its shape (MACs, weights, activations,
// GEMM view) and a candidate (weight bits, activation bits) pair; one-call conv2d / linear builders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "mpq/core/error.hpp"

namespace mpq {

/// @brief Widths a layer's weights or input activations may be given in a search: 1..8 (integer
/// codes), 16 and 32 ("keep float": fp16 / fp32 storage and arithmetic).
constexpr bool is_candidate_bits(int bits) noexcept {
  return (bits >= 1 && bits <= 8) || bits == 16 || bits == 32;
}

/// @brief Checked: ok if `bits` is 1..8, 16 or 32; else an error naming the value and the rule.
inline status check_candidate_bits(int bits, const char* what = "bits") noexcept {
  if (is_candidate_bits(bits)) return {};
  return status::failure(errc::invalid_argument,
                         "%s = %d: a layer's candidate bits must be 1..8, or 16/32 to keep it float",
                         what, bits);
}

/// @brief Number of distinct candidate widths (1..8, 16, 32).
inline constexpr int candidate_bits_count = 10;

/// @brief Dense index of a candidate width: 1..8 -> 0..7, 16 -> 8, 32 -> 9 (tables per width).
/// Precondition: is_candidate_bits(bits).
constexpr int candidate_bits_index(int bits) noexcept { return bits <= 8 ? bits - 1 : (bits == 16 ? 8 : 9); }

/// @brief One choice for a layer: weight bits `w` and input-activation bits `a`.
struct bit_pair {
  int w = 8;
  int a = 8;
  friend constexpr bool operator==(const bit_pair&, const bit_pair&) = default;
};

/// @brief What a layer computes; decides how kernels see it (GEMM, grouped GEMM, GEMV).
enum class layer_kind : std::uint8_t { conv, depthwise_conv, linear, other };

constexpr const char* to_string(layer_kind k) noexcept {
  switch (k) {
    case layer_kind::conv: return "conv";
    case layer_kind::depthwise_conv: return "depthwise_conv";
    case layer_kind::linear: return "linear";
    case layer_kind::other: return "other";
  }
  return "unknown";
}

/// @brief A layer as the cost models see it (per sample, i.e. batch 1).
///
/// - `macs`: multiply-accumulates, C_out·H_out·W_out·(C_in/groups)·k_h·k_w for a conv, C_in·C_out·tokens
///   for a linear layer (algorithms.md §1).
/// - `weights`: the weight count n_l (no biases, no batch-norm parameters).
/// - `activations`: A_l, the element count of the layer's quantized *input* activation, the tensor
///   whose bits are the pair's `a` (algorithms.md §1.4).
/// - GEMM view for latency measurement: `gemm_groups` independent products of an (M × K) weight
///   matrix with a (K × N) activation matrix (im2col for a conv; N = 1 is a GEMV).
struct layer_info {
  std::string name;
  layer_kind kind = layer_kind::other;
  std::uint64_t macs = 0;
  std::uint64_t weights = 0;
  std::uint64_t activations = 0;
  std::uint64_t gemm_m = 0;
  std::uint64_t gemm_k = 0;
  std::uint64_t gemm_n = 0;
  std::uint64_t gemm_groups = 1;
};

/// @brief A 2-D convolution's shape (batch 1). kernel_w = 0 means a square kernel (kernel_w = kernel).
struct conv2d_shape {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  std::int64_t in_height = 0;
  std::int64_t in_width = 0;
  std::int64_t kernel = 1;
  std::int64_t stride = 1;
  std::int64_t padding = 0;
  std::int64_t groups = 1;
  std::int64_t kernel_w = 0;
};

namespace detail {
// The product of `factors`, or false on uint64 overflow.
inline bool checked_product(std::initializer_list<std::uint64_t> factors, std::uint64_t& out) noexcept {
  std::uint64_t r = 1;
  for (std::uint64_t f : factors)
    if (__builtin_mul_overflow(r, f, &r)) return false;
  out = r;
  return true;
}
}  // namespace detail

/// @brief Checked: the layer_info of a conv2d (kind depthwise_conv when groups == C_in == C_out > 1),
/// or an error naming the dimension and the rule it broke.
inline expected<layer_info> try_conv2d_layer(std::string name, const conv2d_shape& s) {
  const std::int64_t kw = s.kernel_w == 0 ? s.kernel : s.kernel_w;
  const char* n = name.c_str();
  if (s.in_channels < 1 || s.out_channels < 1 || s.in_height < 1 || s.in_width < 1 || s.kernel < 1 ||
      kw < 1 || s.stride < 1 || s.groups < 1)
    return status::failure(errc::invalid_argument,
                           "conv2d_layer '%s': in_channels %lld, out_channels %lld, in %lldx%lld, "
                           "kernel %lldx%lld, stride %lld, groups %lld: all must be >= 1",
                           n, (long long)s.in_channels, (long long)s.out_channels, (long long)s.in_height,
                           (long long)s.in_width, (long long)s.kernel, (long long)kw, (long long)s.stride,
                           (long long)s.groups);
  if (s.padding < 0)
    return status::failure(errc::invalid_argument, "conv2d_layer '%s': padding = %lld: must be >= 0", n,
                           (long long)s.padding);
  if (s.in_channels % s.groups != 0 || s.out_channels % s.groups != 0)
    return status::failure(errc::invalid_argument,
                           "conv2d_layer '%s': groups = %lld must divide in_channels = %lld and "
                           "out_channels = %lld",
                           n, (long long)s.groups, (long long)s.in_channels, (long long)s.out_channels);
  const std::int64_t span_h = s.in_height + 2 * s.padding - s.kernel;
  const std::int64_t span_w = s.in_width + 2 * s.padding - kw;
  if (span_h < 0 || span_w < 0)
    return status::failure(errc::invalid_argument,
                           "conv2d_layer '%s': kernel %lldx%lld does not fit the padded input %lldx%lld",
                           n, (long long)s.kernel, (long long)kw, (long long)(s.in_height + 2 * s.padding),
                           (long long)(s.in_width + 2 * s.padding));
  const auto out_h = static_cast<std::uint64_t>(span_h / s.stride + 1);
  const auto out_w = static_cast<std::uint64_t>(span_w / s.stride + 1);
  const auto cin_g = static_cast<std::uint64_t>(s.in_channels / s.groups);
  const auto cout = static_cast<std::uint64_t>(s.out_channels);
  const auto kh = static_cast<std::uint64_t>(s.kernel), kwu = static_cast<std::uint64_t>(kw);

  layer_info l;
  const bool ok = detail::checked_product({cout, cin_g, kh, kwu}, l.weights) &&
                  detail::checked_product({l.weights, out_h, out_w}, l.macs) &&
                  detail::checked_product({static_cast<std::uint64_t>(s.in_channels),
                                       static_cast<std::uint64_t>(s.in_height),
                                       static_cast<std::uint64_t>(s.in_width)},
                                      l.activations) &&
                  detail::checked_product({out_h, out_w}, l.gemm_n);
  if (!ok)
    return status::failure(errc::overflow, "conv2d_layer '%s': the MAC count overflows 64 bits", n);
  l.name = std::move(name);
  l.kind = (s.groups > 1 && s.groups == s.in_channels && s.groups == s.out_channels)
               ? layer_kind::depthwise_conv
               : layer_kind::conv;
  l.gemm_groups = static_cast<std::uint64_t>(s.groups);
  l.gemm_m = cout / l.gemm_groups;
  l.gemm_k = cin_g * kh * kwu;
  return l;
}

/// @brief The layer_info of a conv2d; throws mpq::error (or calls the handler) on a bad shape.
inline layer_info conv2d_layer(std::string name, const conv2d_shape& s) {
  auto r = try_conv2d_layer(std::move(name), s);
  return std::move(r).value();
}

/// @brief Checked: the layer_info of a linear (fully connected) layer applied to `tokens` rows
/// (1 for a classifier head: a GEMV).
inline expected<layer_info> try_linear_layer(std::string name, std::int64_t in_features,
                                              std::int64_t out_features, std::int64_t tokens = 1) {
  if (in_features < 1 || out_features < 1 || tokens < 1)
    return status::failure(errc::invalid_argument,
                           "linear_layer '%s': in_features %lld, out_features %lld, tokens %lld: all "
                           "must be >= 1",
                           name.c_str(), (long long)in_features, (long long)out_features, (long long)tokens);
  layer_info l;
  const auto in = static_cast<std::uint64_t>(in_features), out = static_cast<std::uint64_t>(out_features),
             t = static_cast<std::uint64_t>(tokens);
  if (!detail::checked_product({in, out}, l.weights) || !detail::checked_product({l.weights, t}, l.macs) ||
      !detail::checked_product({in, t}, l.activations))
    return status::failure(errc::overflow, "linear_layer '%s': the MAC count overflows 64 bits",
                           name.c_str());
  l.name = std::move(name);
  l.kind = layer_kind::linear;
  l.gemm_m = out;
  l.gemm_k = in;
  l.gemm_n = t;
  l.gemm_groups = 1;
  return l;
}

/// @brief The layer_info of a linear layer; throws mpq::error (or calls the handler) on a bad shape.
inline layer_info linear_layer(std::string name, std::int64_t in_features, std::int64_t out_features,
                               std::int64_t tokens = 1) {
  auto r = try_linear_layer(std::move(name), in_features, out_features, tokens);
  return std::move(r).value();
}

}  // namespace mpq
