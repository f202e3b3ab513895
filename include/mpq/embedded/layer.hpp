// One layer of a network fixed at compile time: kind (fc / conv2d), weight and activation bits,
// shapes and pooling as template arguments; its constants (packed weights, scales, biases, input
// quantization) in a literal `params` built and checked in constant evaluation (flash on an MCU).
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "mpq/core/bits.hpp"
#include "mpq/core/math.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/kernel/overflow.hpp"
#include "mpq/packed/array.hpp"
#include "mpq/packed/interleaved.hpp"

namespace mpq::embedded {

// ---- shapes and kinds --------------------------------------------------------------------------------

/// @brief A feature map's shape: channels, height, width. Stored channel-last (HWC): code
/// (y, x, c) of a map is element (y * w + x) * c_count + c. A vector of n features is {n, 1, 1}.
struct chw {
  std::size_t c = 1;
  std::size_t h = 1;
  std::size_t w = 1;
  constexpr std::size_t size() const noexcept { return c * h * w; }
  friend constexpr bool operator==(const chw&, const chw&) = default;
};

/// @brief Kind tag: a fully connected layer, y = W x (W: Out x K, K = the input's size; after a
/// conv the input is its HWC map flattened).
struct fc {
  static constexpr bool is_conv = false;
  static constexpr std::size_t kernel = 1, stride = 1, padding = 0;
};

/// @brief Kind tag: a 2-D convolution, square Kernel, Stride and zero Padding (the padded input
/// value is 0.0, i.e. the input quantizer's zero point). Weights are Out x (Kernel * Kernel * C_in)
/// in (ky, kx, c) order, which is the order im2col reads an HWC map in.
template <std::size_t Kernel, std::size_t Stride = 1, std::size_t Padding = 0>
struct conv2d {
  static_assert(Kernel >= 1 && Stride >= 1, "mpq::embedded::conv2d: Kernel and Stride must be >= 1");
  static constexpr bool is_conv = true;
  static constexpr std::size_t kernel = Kernel, stride = Stride, padding = Padding;
};

/// @brief Pooling tag: none.
struct no_pool {
  static constexpr std::size_t size = 1, stride = 1;
};

/// @brief Pooling tag: max pooling of Size x Size windows with Stride (PyTorch's floor mode, no
/// padding) on the layer's output codes. Quantization is monotone, so the max of codes is the code
/// of the max: pooling codes equals quantizing the pooled floats.
template <std::size_t Size, std::size_t Stride = Size>
struct maxpool {
  static_assert(Size >= 1 && Stride >= 1, "mpq::embedded::maxpool: Size and Stride must be >= 1");
  static constexpr std::size_t size = Size, stride = Stride;
};

namespace detail {

template <auto In>
constexpr chw as_chw() noexcept {
  if constexpr (std::is_integral_v<decltype(In)>) {
    static_assert(In > 0, "mpq::embedded::layer: the input size must be > 0");
    return {static_cast<std::size_t>(In), 1, 1};
  } else {
    static_assert(std::is_same_v<std::remove_cv_t<decltype(In)>, chw>,
                  "mpq::embedded::layer: In must be a feature count or an mpq::embedded::chw");
    return In;
  }
}

// Not constexpr on purpose: reaching one in constant evaluation turns the bad argument of
// layer::make into a compile error whose note names the rule it broke.
inline void layer_scale_not_finite_in_constant_expression() {}
inline void layer_bias_not_finite_in_constant_expression() {}
inline void layer_weight_step_not_positive_in_constant_expression() {}
inline void layer_input_bits_differ_from_activation_bits_in_constant_expression() {}
inline void layer_input_requantization_invalid_in_constant_expression() {}
inline void layer_weight_code_offset_not_a_multiple_of_half_in_constant_expression() {}

constexpr bool valid_input_requantization(const kernel::requantization& q) noexcept {
  if (!is_packable_bits(q.bits) || !(q.inverse_step > 0.0f) || !is_finite(q.inverse_step)) return false;
  const std::int32_t hi = code_max(q.bits, unsigned_codes);
  return q.code_lo >= 0 && q.code_lo <= q.code_hi && q.code_hi <= hi && q.zero_point >= 0 && q.zero_point <= hi;
}

constexpr bool is_half_multiple(float v) noexcept {
  const float twice = v * 2.0f;
  return is_finite(v) && v >= -256.0f && v <= 256.0f &&
         twice == static_cast<float>(static_cast<std::int32_t>(twice));
}

}  // namespace detail

/// @brief A layer whose configuration is part of its type.
///
///   layer<fc, 4, 8, 784, 128>                                 784 -> 128, W4 weights, A8 input
///   layer<conv2d<3, 1, 1>, 4, 8, chw{1, 28, 28}, 8, maxpool<2>>  1x28x28 -> 8x28x28 -> pool -> 8x14x14
///
/// WBits: signed weight codes (1..8). ABits: unsigned codes of the layer's *input* (1..8), made by
/// `params::input` (the previous layer's output is requantized with it; the network input is
/// quantized with it). The output is the next layer's input, or float32 for the last layer.
/// Every layer is a GEMM C[m][n] = sum_k A[m][k] W[n][k]: M output pixels (1 for fc), N = Out,
/// K = In for fc and Kernel^2 * C_in for conv2d, whose epilogue (kernel/epilogue.hpp) gives
/// v = scale[n] * r + bias[n] exactly as mpq's kernels do.
template <class Kind, int WBits, int ABits, auto In, std::size_t Out, class Pool = no_pool>
struct layer {
  static_assert(is_packable_bits(WBits), "mpq::embedded::layer: weight bits must be 1..8");
  static_assert(is_packable_bits(ABits), "mpq::embedded::layer: activation bits must be 1..8");
  static_assert(Out >= 1, "mpq::embedded::layer: Out must be >= 1");

  using kind = Kind;
  using pool = Pool;
  static constexpr int weight_bits = WBits;
  static constexpr int activation_bits = ABits;
  static constexpr bool is_conv = Kind::is_conv;

  /// @brief The input's shape (a vector of K features for fc).
  static constexpr chw input_shape = detail::as_chw<In>();
  static_assert(is_conv || (std::is_same_v<Pool, no_pool>), "mpq::embedded::layer: only conv2d layers pool");
  static_assert(!is_conv || input_shape.h + 2 * Kind::padding >= Kind::kernel,
                "mpq::embedded::layer: the conv2d kernel does not fit the padded input");

  /// @brief The conv's output size before pooling (1 x 1 for fc).
  static constexpr std::size_t conv_h = is_conv ? (input_shape.h + 2 * Kind::padding - Kind::kernel) / Kind::stride + 1 : 1;
  static constexpr std::size_t conv_w = is_conv ? (input_shape.w + 2 * Kind::padding - Kind::kernel) / Kind::stride + 1 : 1;
  static_assert(!is_conv || input_shape.w + 2 * Kind::padding >= Kind::kernel,
                "mpq::embedded::layer: the conv2d kernel does not fit the padded input");
  static_assert(conv_h >= Pool::size && conv_w >= Pool::size,
                "mpq::embedded::layer: the pooling window does not fit the conv output");

  /// @brief The output shape after pooling (the next layer's input).
  static constexpr chw output_shape{Out, (conv_h - Pool::size) / Pool::stride + 1, (conv_w - Pool::size) / Pool::stride + 1};

  /// GEMM view: K (reduction), N (outputs per pixel), pixels computed (only those some pooling
  /// window reads), conv pixels per pooling window (rows of one window).
  static constexpr std::size_t k = is_conv ? Kind::kernel * Kind::kernel * input_shape.c : input_shape.size();
  static constexpr std::size_t n = Out;
  static constexpr std::size_t windows = output_shape.h * output_shape.w;
  static constexpr std::size_t window_rows = Pool::size * Pool::size;
  static_assert(k <= kernel::max_exact_k(WBits, ABits),
                "mpq::embedded::layer: K exceeds the exact-int32 bound K * (2^W - 1) * (2^A - 1) <= 2^31 - 1");

  /// @brief Cost-model facts (the same as mpq::linear_layer / conv2d_layer, batch 1): MACs of the
  /// whole conv output (pooling drops none of them in the cost model), weight count, input count.
  static constexpr std::uint64_t macs = std::uint64_t{n} * k * conv_h * conv_w;
  static constexpr std::uint64_t weight_count = std::uint64_t{n} * k;
  static constexpr std::uint64_t input_count = input_shape.size();

  using weights_type = packed_matrix<WBits, signed_codes, Out, k, interleaved>;

  /// @brief What the exporter writes: packed weight rows and the layer's real-valued constants.
  struct spec {
    /// Out rows of K codes, interleaved layout, rows padded to 64 codes (packed_matrix's bytes).
    std::array<std::uint8_t, weights_type::byte_size> weights{};
    /// s_w[n] (informational; the epilogue uses `scale`).
    std::array<float, Out> weight_steps{};
    /// The epilogue's scale[n] = float32(s_w[n] * s_a).
    std::array<float, Out> scale{};
    std::array<float, Out> bias{};
    bool has_bias = false;
    /// How this layer's input codes are made (bits == ABits, unsigned codes; ReLU folded in by code_lo).
    kernel::requantization input{ABits, 1.0f, 0, 0, code_max(ABits, unsigned_codes)};
    /// o_w: 0, or +1/2 for mid-rise weights (binary {-1, +1} as 1-bit codes {-1, 0}).
    float weight_code_offset = 0.0f;
  };

  /// @brief The layer's constants, validated. Built by make() (in constant evaluation: a bad value
  /// is a compile error); a literal type, so a constexpr object of it lives in flash.
  struct params {
    weights_type weights{};
    std::array<float, Out> scale{};
    std::array<float, Out> bias{};
    bool has_bias = false;
    kernel::requantization input{};
    float weight_code_offset = 0.0f;
    /// sum_k W[n][k], for the zero-point correction (kernel/epilogue.hpp).
    std::array<std::int32_t, Out> row_sums{};

    /// @brief The doubled code offsets of the epilogue: 2 o_w and 2 o_a = -2 zero_point.
    constexpr kernel::doubled_offsets offsets() const noexcept {
      return {static_cast<std::int32_t>(weight_code_offset * 2.0f), -2 * input.zero_point};
    }
  };

  /// @brief Check `s` and compute the row sums. Rules: weight rows canonical (codes in range,
  /// zero padding), weight steps finite and > 0, scales and biases finite, input bits == ABits and
  /// a valid unsigned requantization, weight offset a multiple of 1/2 in [-256, 256].
  static constexpr params make(const spec& s) {
    params p;
    p.weights = weights_type::from_bytes(s.weights, s.weight_steps);
    for (std::size_t i = 0; i < Out; ++i) {
      if (!(s.weight_steps[i] > 0.0f) || !is_finite(s.weight_steps[i])) {
        if (std::is_constant_evaluated()) detail::layer_weight_step_not_positive_in_constant_expression();
        else raise(status::failure(errc::invalid_argument, "embedded layer: weight_steps[%zu] = %g: must be finite and > 0",
                                   i, static_cast<double>(s.weight_steps[i])));
      }
      if (!is_finite(s.scale[i])) {
        if (std::is_constant_evaluated()) detail::layer_scale_not_finite_in_constant_expression();
        else raise(status::failure(errc::not_finite, "embedded layer: scale[%zu] = %g: must be finite", i,
                                   static_cast<double>(s.scale[i])));
      }
      if (!is_finite(s.bias[i])) {
        if (std::is_constant_evaluated()) detail::layer_bias_not_finite_in_constant_expression();
        else raise(status::failure(errc::not_finite, "embedded layer: bias[%zu] = %g: must be finite", i,
                                   static_cast<double>(s.bias[i])));
      }
    }
    if (s.input.bits != ABits) {
      if (std::is_constant_evaluated()) detail::layer_input_bits_differ_from_activation_bits_in_constant_expression();
      else raise(status::failure(errc::invalid_argument, "embedded layer: input.bits = %d but the layer's activation "
                                 "bits are %d", s.input.bits, ABits));
    }
    if (!detail::valid_input_requantization(s.input)) {
      if (std::is_constant_evaluated()) detail::layer_input_requantization_invalid_in_constant_expression();
      else raise(status::failure(errc::invalid_argument, "embedded layer: the input requantization is not a valid "
                                 "unsigned %d-bit quantizer (inverse_step finite > 0, 0 <= lo <= hi <= 2^A - 1, "
                                 "zero point in range)", ABits));
    }
    if (!detail::is_half_multiple(s.weight_code_offset)) {
      if (std::is_constant_evaluated()) detail::layer_weight_code_offset_not_a_multiple_of_half_in_constant_expression();
      else raise(status::failure(errc::invalid_argument, "embedded layer: weight_code_offset = %g: must be a multiple "
                                 "of 1/2 in [-256, 256]", static_cast<double>(s.weight_code_offset)));
    }
    p.scale = s.scale;
    p.bias = s.bias;
    p.has_bias = s.has_bias;
    p.input = s.input;
    p.weight_code_offset = s.weight_code_offset;
    const auto v = p.weights.view();
    for (std::size_t i = 0; i < Out; ++i) {
      std::int32_t sum = 0;  // |sum| <= K 2^(W-1), within int32 by the exact-K bound
      for (std::size_t j = 0; j < k; ++j) sum += v.get(i, j);
      p.row_sums[i] = sum;
    }
    return p;
  }
};

/// @brief True for the instantiations of mpq::embedded::layer.
template <class T>
inline constexpr bool is_layer_v = false;
template <class Kind, int W, int A, auto In, std::size_t Out, class Pool>
inline constexpr bool is_layer_v<layer<Kind, W, A, In, Out, Pool>> = true;

/// @brief A network layer type (an instantiation of mpq::embedded::layer).
template <class T>
concept Layer = is_layer_v<T>;

}  // namespace mpq::embedded
