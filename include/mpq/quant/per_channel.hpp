// Per-channel granularity: one quantizer per index along any axis of a row-major tensor, with the
// span quantize / fake-quantize / dequantize / backward of quant/span.hpp run channel by channel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>

#include "mpq/core/error.hpp"
#include "mpq/quant/policies.hpp"
#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/span.hpp"

namespace mpq {

/// @brief Which channel each element of a row-major tensor belongs to, for channels along `axis`.
///
/// A row-major tensor of shape (d0, ..., d_{r-1}) with channels on axis a is seen as
/// [outer][channels][inner] with outer = d0·...·d_{a-1}, channels = d_a, inner = d_{a+1}·...·d_{r-1}.
/// Example: conv weights (O=2, I=3, kH=1, kW=2) per output channel (axis 0): outer 1, channels 2,
/// inner 6, so elements 0..5 use quantizer 0 and 6..11 quantizer 1. Per input channel (axis 1):
/// outer 2, channels 3, inner 2: elements {0,1} -> 0, {2,3} -> 1, {4,5} -> 2, {6,7} -> 0, ...
class channel_layout {
 public:
  /// @brief Checked: axis < rank (errc::out_of_range), and the element count fits size_t.
  static expected<channel_layout> try_make(std::span<const std::size_t> shape, per_channel pc) noexcept {
    if (pc.axis >= shape.size())
      return status::failure(errc::out_of_range, "per_channel: axis = %zu: out of range for a rank-%zu tensor (axes 0..%zu)",
                             pc.axis, shape.size(), shape.empty() ? std::size_t{0} : shape.size() - 1);
    channel_layout l;
    l.axis_ = pc.axis;
    l.channels_ = shape[pc.axis];
    std::size_t total = 1;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] != 0 && total > static_cast<std::size_t>(-1) / shape[i])
        return status::failure(errc::overflow, "per_channel: the shape's element count overflows size_t");
      total *= shape[i];
      if (i < pc.axis) l.outer_ *= shape[i];
      if (i > pc.axis) l.inner_ *= shape[i];
    }
    l.size_ = total;
    return l;
  }

  channel_layout(std::span<const std::size_t> shape, per_channel pc) { *this = try_make(shape, pc).value(); }

  std::size_t axis() const noexcept { return axis_; }
  std::size_t channels() const noexcept { return channels_; }
  std::size_t outer() const noexcept { return outer_; }
  std::size_t inner() const noexcept { return inner_; }
  std::size_t size() const noexcept { return size_; }
  /// @brief The channel of the element at flat (row-major) index i.
  std::size_t channel_of(std::size_t i) const noexcept { return (i / inner_) % channels_; }

  /// @brief Calls f(channel, first, count) for every contiguous run of elements of one channel,
  /// in memory order (outer · channels runs of `inner` elements).
  template <class F>
  void for_each_run(F&& f) const {
    if (inner_ == 0) return;
    for (std::size_t o = 0; o < outer_; ++o)
      for (std::size_t c = 0; c < channels_; ++c) f(c, (o * channels_ + c) * inner_, inner_);
  }

 private:
  channel_layout() = default;
  std::size_t axis_ = 0, channels_ = 0, outer_ = 1, inner_ = 1, size_ = 0;
};

/// @brief A contiguous range of quantizers (std::vector, std::array, std::span, ...).
template <class Qs>
concept QuantizerRange = std::ranges::contiguous_range<Qs> && std::ranges::sized_range<Qs> &&
                         Quantizer<std::ranges::range_value_t<Qs>>;

namespace detail {
template <class Qs>
status check_per_channel(const char* who, const Qs& qs, const channel_layout& layout, std::size_t x_size) noexcept {
  MPQ_TRY(check_same_size(who, "the quantizer list", std::ranges::size(qs), "the channel axis", layout.channels()));
  return check_same_size(who, "x", x_size, "the shape", layout.size());
}
}  // namespace detail

/// @brief codes[i] = qs[channel_of(i)].quantize(x[i]). Checked: sizes, and every quantizer's codes
/// fit C (all are checked before anything is written).
template <QuantizerRange Qs, CodeType C>
status try_quantize_per_channel(const Qs& qs, const channel_layout& layout, std::span<const float> x,
                                std::span<C> codes) noexcept {
  MPQ_TRY(detail::check_per_channel("quantize_per_channel", qs, layout, x.size()));
  MPQ_TRY(detail::check_same_size("quantize_per_channel", "x", x.size(), "codes", codes.size()));
  for (const auto& q : qs) MPQ_TRY(check_code_type<C>(q));
  layout.for_each_run([&](std::size_t c, std::size_t first, std::size_t n) {
    (void)try_quantize(std::ranges::data(qs)[c], x.subspan(first, n), codes.subspan(first, n));
  });
  return {};
}

/// @brief y[i] = qs[channel_of(i)].fake_quantize(x[i]); y may be x.
template <QuantizerRange Qs>
status try_fake_quantize_per_channel(const Qs& qs, const channel_layout& layout, std::span<const float> x,
                                     std::span<float> y) noexcept {
  MPQ_TRY(detail::check_per_channel("fake_quantize_per_channel", qs, layout, x.size()));
  MPQ_TRY(detail::check_same_size("fake_quantize_per_channel", "x", x.size(), "y", y.size()));
  layout.for_each_run([&](std::size_t c, std::size_t first, std::size_t n) {
    (void)try_fake_quantize(std::ranges::data(qs)[c], x.subspan(first, n), y.subspan(first, n));
  });
  return {};
}

/// @brief y[i] = qs[channel_of(i)].dequantize(codes[i]).
template <QuantizerRange Qs, CodeType C>
status try_dequantize_per_channel(const Qs& qs, const channel_layout& layout, std::span<const C> codes,
                                  std::span<float> y) noexcept {
  MPQ_TRY(detail::check_per_channel("dequantize_per_channel", qs, layout, codes.size()));
  MPQ_TRY(detail::check_same_size("dequantize_per_channel", "codes", codes.size(), "y", y.size()));
  layout.for_each_run([&](std::size_t c, std::size_t first, std::size_t n) {
    (void)try_dequantize(std::ranges::data(qs)[c], codes.subspan(first, n), y.subspan(first, n));
  });
  return {};
}

/// @brief The span backward per channel: grad_x[i] = grad_out[i]·∂Q_c/∂x, and
/// grad_params[c·N + k] += gradient_scale(x.size())[k] · Σ_{i in channel c} grad_out[i]·∂Q_c/∂θ_k.
/// The gradient scale uses the whole tensor's size (LSQ's N is the layer's element count, as in
/// LIMPQ's code). grad_params holds channels·N values, channel-major.
template <QuantizerRange Qs>
  requires DifferentiableQuantizer<std::ranges::range_value_t<Qs>>
status try_backward_per_channel(const Qs& qs, const channel_layout& layout, std::span<const float> x,
                                std::span<const float> grad_out, std::span<float> grad_x,
                                std::span<float> grad_params) noexcept {
  using Q = std::ranges::range_value_t<Qs>;
  constexpr std::size_t n_params = Q::parameter_count;
  constexpr const char* who = "backward_per_channel";
  MPQ_TRY(detail::check_per_channel(who, qs, layout, x.size()));
  MPQ_TRY(detail::check_same_size(who, "grad_out", grad_out.size(), "x", x.size()));
  if (!grad_x.empty()) MPQ_TRY(detail::check_same_size(who, "grad_x", grad_x.size(), "x", x.size()));
  MPQ_TRY(detail::check_same_size(who, "grad_params", grad_params.size(), "channels x parameters",
                                  layout.channels() * n_params));
  layout.for_each_run([&](std::size_t c, std::size_t first, std::size_t n) {
    (void)detail::elementwise_backward(std::ranges::data(qs)[c], who, x.subspan(first, n),
                                       grad_out.subspan(first, n),
                                       grad_x.empty() ? grad_x : grad_x.subspan(first, n),
                                       grad_params.subspan(c * n_params, n_params), x.size());
  });
  return {};
}

/// @brief Throwing forms.
template <QuantizerRange Qs, CodeType C>
void quantize_per_channel(const Qs& qs, const channel_layout& layout, std::span<const float> x, std::span<C> codes) {
  throw_if_error(try_quantize_per_channel(qs, layout, x, codes));
}
template <QuantizerRange Qs>
void fake_quantize_per_channel(const Qs& qs, const channel_layout& layout, std::span<const float> x,
                               std::span<float> y) {
  throw_if_error(try_fake_quantize_per_channel(qs, layout, x, y));
}
template <QuantizerRange Qs, CodeType C>
void dequantize_per_channel(const Qs& qs, const channel_layout& layout, std::span<const C> codes, std::span<float> y) {
  throw_if_error(try_dequantize_per_channel(qs, layout, codes, y));
}
template <QuantizerRange Qs>
  requires DifferentiableQuantizer<std::ranges::range_value_t<Qs>>
void backward_per_channel(const Qs& qs, const channel_layout& layout, std::span<const float> x,
                          std::span<const float> grad_out, std::span<float> grad_x, std::span<float> grad_params) {
  throw_if_error(try_backward_per_channel(qs, layout, x, grad_out, grad_x, grad_params));
}

}  // namespace mpq
