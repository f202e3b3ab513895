// LibTorch adapter: LSQ fake quantization as an autograd function whose forward and backward are mpq's
// lsq_quantizer, and the LsqConv2d / LsqLinear layers with an evaluation mode that reproduces mpq's
// deployed integer arithmetic bit for bit (and the export of what deployment needs).
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "mpq/adapters/torch/common.hpp"
#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/quant/lsq.hpp"
#include "mpq/quant/span.hpp"

namespace mpq::torch {

namespace detail {

// Channels of x along dim 0 for a step of `steps` values (1: the whole tensor is one channel).
inline std::int64_t lsq_inner(const ::torch::Tensor& x, std::int64_t steps, const char* who) {
  if (steps == 1) return x.numel();
  if (x.dim() < 1 || x.size(0) != steps)
    throw_if_error(status::failure(errc::shape_mismatch,
                                   "%s: %lld steps: a per-channel step needs one value per index of dim 0 (%lld)", who,
                                   static_cast<long long>(steps), static_cast<long long>(x.dim() ? x.size(0) : 0)));
  return x.numel() / steps;
}

inline lsq_quantizer<> lsq_channel(int bits, bool is_signed, float step, const lsq_options& o) {
  auto q = lsq_quantizer<>::try_make(bits, is_signed ? signed_codes : unsigned_codes, step, o);
  throw_if_error(q.error());
  return *q;
}

/// The autograd function behind lsq_fake_quantize.
struct lsq_function : public ::torch::autograd::Function<lsq_function> {
  static ::torch::Tensor forward(::torch::autograd::AutogradContext* ctx, const ::torch::Tensor& x,
                                 const ::torch::Tensor& step, std::int64_t bits, bool is_signed, bool symmetric,
                                 double step_min, double step_max) {
    throw_if_error(check_cpu_float(x, "lsq_fake_quantize: x"));
    throw_if_error(check_cpu_float(step, "lsq_fake_quantize: step"));
    const ::torch::Tensor xc = x.contiguous();
    const ::torch::Tensor sc = step.detach().contiguous();
    const std::int64_t channels = sc.numel();
    const std::int64_t inner = lsq_inner(xc, channels, "lsq_fake_quantize");
    const lsq_options o{symmetric, static_cast<float>(step_min), static_cast<float>(step_max)};
    ::torch::Tensor y = ::torch::empty_like(xc);
    const float* px = xc.data_ptr<float>();
    float* py = y.data_ptr<float>();
    for (std::int64_t c = 0; c < channels; ++c) {
      const auto q = lsq_channel(static_cast<int>(bits), is_signed, sc.data_ptr<float>()[c], o);
      const auto n = static_cast<std::size_t>(inner);
      throw_if_error(try_fake_quantize(q, std::span<const float>(px + c * inner, n), std::span<float>(py + c * inner, n)));
    }
    ctx->save_for_backward({xc, sc});
    ctx->saved_data["bits"] = bits;
    ctx->saved_data["signed"] = is_signed;
    ctx->saved_data["symmetric"] = symmetric;
    ctx->saved_data["step_min"] = step_min;
    ctx->saved_data["step_max"] = step_max;
    ctx->saved_data["step_shape"] = step.sizes().vec();
    return y;
  }

  static ::torch::autograd::variable_list backward(::torch::autograd::AutogradContext* ctx,
                                                   ::torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const ::torch::Tensor& xc = saved[0];
    const ::torch::Tensor& sc = saved[1];
    const ::torch::Tensor g = grad[0].contiguous();
    const int bits = static_cast<int>(ctx->saved_data["bits"].toInt());
    const bool is_signed = ctx->saved_data["signed"].toBool();
    const lsq_options o{ctx->saved_data["symmetric"].toBool(), static_cast<float>(ctx->saved_data["step_min"].toDouble()),
                        static_cast<float>(ctx->saved_data["step_max"].toDouble())};
    const std::int64_t channels = sc.numel(), inner = xc.numel() / (channels ? channels : 1);
    ::torch::Tensor gx = ::torch::empty_like(xc);
    ::torch::Tensor gs = ::torch::zeros({channels}, xc.options());
    for (std::int64_t c = 0; c < channels; ++c) {
      const auto q = lsq_channel(bits, is_signed, sc.data_ptr<float>()[c], o);
      const auto n = static_cast<std::size_t>(inner);
      throw_if_error(q.try_backward(std::span<const float>(xc.data_ptr<float>() + c * inner, n),
                                    std::span<const float>(g.data_ptr<float>() + c * inner, n),
                                    std::span<float>(gx.data_ptr<float>() + c * inner, n),
                                    std::span<float>(gs.data_ptr<float>() + c, 1)));
    }
    return {gx, gs.view(ctx->saved_data["step_shape"].toIntVector()), {}, {}, {}, {}, {}};
  }
};

}  // namespace detail

/// @brief LSQ fake quantization Q(x) = R(clamp(x/s, −Q_N, Q_P))·s with mpq's lsq_quantizer for the
/// forward and its straight-through backward (∂/∂x on the unclipped range; ∂/∂s with LSQ's
/// gradient scale 1/sqrt(Q_P·n), n = elements per step). `step` has one value (per tensor) or
/// x.size(0) values (per output channel of a weight tensor). CPU float32. Throws mpq::error on
/// bad bits, steps or shapes.
inline ::torch::Tensor lsq_fake_quantize(const ::torch::Tensor& x, const ::torch::Tensor& step, int bits,
                                         signedness sign, const lsq_options& options = {}) {
  return detail::lsq_function::apply(x, step, static_cast<std::int64_t>(bits), sign == signed_codes,
                                     options.symmetric, static_cast<double>(options.step_min),
                                     static_cast<double>(options.step_max));
}

// ---- LSQ fake-quant layers -------------------------------------------------------------------------

/// @brief Bits and LSQ options of an LsqConv2d / LsqLinear.
struct lsq_layer_options {
  int weight_bits = 8;      ///< signed weight codes, 2..8 (16/32: float weights)
  int activation_bits = 8;  ///< unsigned input codes, 1..8 (16/32: float input, ReLU only)
  bool per_channel_weights = false;  ///< one weight step per output channel (else one per tensor)
  lsq_options weight_lsq{};
  lsq_options activation_lsq{};
};

/// @brief What mpq's integer kernels need to run an LSQ layer exactly as its integer evaluation
/// mode does (docs/training/deployment.md):
///
///   input codes  a = requantize_output(x, input_requantization())   (x·(1/s_a), ties to even, clamp)
///   accumulator  acc[n] = Σ_k W[n][k]·a[k]                          (weight_codes, exact int32)
///   output       v[n] = dequantize_output(4·acc, scale[n], bias[n]) (float32: acc·scale, then + bias)
///
/// The next layer's input codes are requantize_output(v, next.input_requantization()) (ReLU folded).
struct deployed_layer {
  int weight_bits = 8;
  int activation_bits = 8;
  ::torch::Tensor weight_codes;  ///< int8, the weight's shape (signed codes)
  std::vector<float> scale;      ///< per output channel: float(s_w[n]) · float(s_a), one float32 product
  std::vector<float> bias;       ///< per output channel, or empty (no bias)
  float activation_step = 1.0f;  ///< s_a
  float activation_inverse_step = 1.0f;  ///< 1.0f / s_a (float32), the requantization multiplier

  /// @brief The requantization that produces this layer's input codes (from the previous layer's
  /// v, or from the network input): `bits` = activation_bits, zero point 0, codes [0, 2^b − 1].
  kernel::requantization input_requantization() const noexcept {
    kernel::requantization r;
    r.bits = activation_bits;
    r.inverse_step = activation_inverse_step;
    r.zero_point = 0;
    r.code_lo = 0;
    r.code_hi = code_max(activation_bits, unsigned_codes);
    return r;
  }
  /// @brief The dequantization of this layer's outputs (spans into scale and bias: valid while this
  /// object lives and is not modified).
  kernel::dequantization dequantization() const noexcept {
    kernel::dequantization d;
    d.scale = scale;
    d.bias = bias;
    return d;
  }
};

namespace detail {

/// The LSQ state and arithmetic LsqConv2d and LsqLinear share.
class lsq_layer_core {
 public:
  void configure(::torch::nn::Module& m, std::int64_t out_channels, const lsq_layer_options& o) {
    check_bits(o);
    o_ = o;
    weight_step = m.register_parameter("weight_step", ::torch::ones({o.per_channel_weights ? out_channels : 1}));
    activation_step = m.register_parameter("activation_step", ::torch::ones({1}));
    initialised = m.register_buffer("initialised", ::torch::zeros({1}, ::torch::kInt32));
  }

  static void check_bits(const lsq_layer_options& o) {
    if (!((o.weight_bits >= 2 && o.weight_bits <= 8) || o.weight_bits == 16 || o.weight_bits == 32))
      throw_if_error(status::failure(errc::invalid_argument,
                                     "lsq layer: weight_bits = %d: signed LSQ weights need 2..8 bits (16/32: float)",
                                     o.weight_bits));
    if (!((o.activation_bits >= 1 && o.activation_bits <= 8) || o.activation_bits == 16 || o.activation_bits == 32))
      throw_if_error(status::failure(errc::invalid_argument,
                                     "lsq layer: activation_bits = %d: must be 1..8 (16/32: float input)",
                                     o.activation_bits));
  }

  const lsq_layer_options& options() const noexcept { return o_; }
  bool is_initialised() const { return initialised.item<int>() != 0; }

  // LIMPQ's initialisation from the first batch: weights per channel (or tensor), input from x.
  void initialise(const ::torch::Tensor& weight, const ::torch::Tensor& x) {
    ::torch::NoGradGuard no_grad;
    if (o_.weight_bits <= 8) {
      const ::torch::Tensor w = weight.detach().contiguous();
      const std::int64_t channels = weight_step.numel(), inner = w.numel() / channels;
      for (std::int64_t c = 0; c < channels; ++c) {
        auto s = try_lsq_init_weights(std::span<const float>(w.data_ptr<float>() + c * inner, static_cast<std::size_t>(inner)),
                                      o_.weight_bits);
        throw_if_error(s.error());
        weight_step[c] = *s;
      }
    }
    if (o_.activation_bits <= 8) {
      const ::torch::Tensor xc = x.detach().contiguous();
      auto s = try_lsq_init_activations(values(xc), o_.activation_bits);
      throw_if_error(s.error());
      activation_step[0] = *s;
    }
    initialised.fill_(1);
  }

  ::torch::Tensor quantize_input(const ::torch::Tensor& x) const {
    if (o_.activation_bits > 8) return ::torch::relu(x);
    return lsq_fake_quantize(x, activation_step, o_.activation_bits, unsigned_codes, o_.activation_lsq);
  }
  ::torch::Tensor quantize_weight(const ::torch::Tensor& w) const {
    if (o_.weight_bits > 8) return w;
    return lsq_fake_quantize(w, weight_step, o_.weight_bits, signed_codes, o_.weight_lsq);
  }

  /// Changes the bits; learned steps keep their clipping range: s ← s·(2^b − 1)/(2^b' − 1).
  void set_bits(int weight_bits, int activation_bits) {
    lsq_layer_options o = o_;
    o.weight_bits = weight_bits;
    o.activation_bits = activation_bits;
    check_bits(o);
    if (is_initialised()) {
      ::torch::NoGradGuard no_grad;
      auto rescale = [](::torch::Tensor& s, int from, int to) {
        if (from <= 8 && to <= 8 && from != to) s.mul_((std::ldexp(1.0, from) - 1.0) / (std::ldexp(1.0, to) - 1.0));
      };
      rescale(weight_step, o_.weight_bits, weight_bits);
      rescale(activation_step, o_.activation_bits, activation_bits);
      if ((o_.weight_bits > 8) != (weight_bits > 8) || (o_.activation_bits > 8) != (activation_bits > 8))
        initialised.fill_(0);  // a float operand becomes quantized: initialise again from data
    }
    o_ = o;
  }

  // The quantizers of the integer path (throws when the bits are float or steps uninitialised).
  lsq_quantizer<> weight_quantizer(std::int64_t channel) const {
    return lsq_channel(o_.weight_bits, true, weight_step.data_ptr<float>()[weight_step.numel() == 1 ? 0 : channel],
                       o_.weight_lsq);
  }
  void check_integer(const char* who) const {
    if (o_.weight_bits > 8 || o_.activation_bits > 8)
      throw_if_error(status::failure(errc::unsupported,
                                     "%s: integer inference needs integer weights and inputs (W%d A%d): 16/32 bits are float",
                                     who, o_.weight_bits, o_.activation_bits));
    if (!is_initialised())
      throw_if_error(status::failure(errc::invalid_argument, "%s: the steps are not initialised (run a batch first)", who));
  }

  deployed_layer export_layer(const ::torch::Tensor& weight, const ::torch::Tensor& bias, const char* who) const {
    check_integer(who);
    ::torch::NoGradGuard no_grad;
    deployed_layer d;
    d.weight_bits = o_.weight_bits;
    d.activation_bits = o_.activation_bits;
    const ::torch::Tensor w = weight.detach().contiguous();
    const std::int64_t out = w.size(0), inner = w.numel() / out;
    d.weight_codes = ::torch::empty(w.sizes(), ::torch::kInt8);
    std::int8_t* codes = d.weight_codes.data_ptr<std::int8_t>();
    const float* pw = w.data_ptr<float>();
    // The step the input quantizer uses (LSQ's forward clamp applied), and its float reciprocal.
    d.activation_step = lsq_channel(o_.activation_bits, false, activation_step.data_ptr<float>()[0], o_.activation_lsq).step();
    d.activation_inverse_step = 1.0f / d.activation_step;
    d.scale.resize(static_cast<std::size_t>(out));
    for (std::int64_t n = 0; n < out; ++n) {
      const auto q = weight_quantizer(n);
      for (std::int64_t k = 0; k < inner; ++k) codes[n * inner + k] = static_cast<std::int8_t>(q.quantize(pw[n * inner + k]));
      d.scale[static_cast<std::size_t>(n)] = q.step() * d.activation_step;
    }
    if (bias.defined()) {
      const ::torch::Tensor b = bias.detach().contiguous();
      d.bias.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    }
    return d;
  }

  // The integer path: exact codes, an exact sum (float64 holds every int32 sum), then the deployed
  // epilogue's own float32 functions.
  template <class Product>
  ::torch::Tensor integer_forward(const ::torch::Tensor& x, const ::torch::Tensor& weight, const ::torch::Tensor& bias,
                                  Product&& product, const char* who) const {
    check_integer(who);
    throw_if_error(check_cpu_float(x, who));
    ::torch::NoGradGuard no_grad;
    const deployed_layer d = export_layer(weight, bias, who);
    const kernel::requantization rq = d.input_requantization();
    const ::torch::Tensor xc = x.detach().contiguous();
    ::torch::Tensor a = ::torch::empty(xc.sizes(), ::torch::kFloat64);
    const float* px = xc.data_ptr<float>();
    double* pa = a.data_ptr<double>();
    for (std::int64_t i = 0; i < xc.numel(); ++i) pa[i] = kernel::requantize_output(px[i], rq);
    const ::torch::Tensor acc = product(a, d.weight_codes.to(::torch::kFloat64)).contiguous();
    ::torch::Tensor v = ::torch::empty(acc.sizes(), ::torch::kFloat32);
    const double* pacc = acc.data_ptr<double>();
    float* pv = v.data_ptr<float>();
    const std::int64_t channels = acc.size(1);
    const std::int64_t inner = acc.dim() > 2 ? acc.numel() / (acc.size(0) * channels) : 1;
    const bool has_bias = !d.bias.empty();
    for (std::int64_t i = 0; i < acc.numel(); ++i) {
      const double s = pacc[i];
      if (!(s >= -2147483648.0 && s <= 2147483647.0))
        throw_if_error(status::failure(errc::overflow,
                                       "%s: an exact sum is %.0f: it does not fit the kernels' int32 accumulator", who, s));
      const auto n = static_cast<std::size_t>((i / inner) % channels);
      pv[i] = kernel::dequantize_output(4 * static_cast<std::int64_t>(s), d.scale[n], has_bias ? d.bias[n] : 0.0f,
                                        has_bias);
    }
    return v;
  }

  ::torch::Tensor weight_step, activation_step, initialised;

 private:
  lsq_layer_options o_{};
};

}  // namespace detail

/// @brief An LSQ fake-quant conv2d (LSQ, Esser et al.; LIMPQ's initialisation): learned steps
/// "weight_step" (1 or one per output channel) and "activation_step", initialised from the first
/// batch it sees. forward: y = conv2d(Q_a(x), Q_w(W)) + bias with Q = mpq's lsq_quantizer (the
/// input quantizer includes the ReLU). With set_integer_inference(true) forward instead computes
/// what mpq's deployed integer kernels compute, bit for bit (see deployed_layer); export() gives
/// the codes, scales and requantization.
class LsqConv2dImpl : public ::torch::nn::Module {
 public:
  LsqConv2dImpl(const ::torch::nn::Conv2dOptions& options, const lsq_layer_options& lsq = {}) {
    conv = register_module("conv", ::torch::nn::Conv2d(options));
    core_.configure(*this, options.out_channels(), lsq);
  }
  ::torch::Tensor forward(const ::torch::Tensor& x) {
    if (!core_.is_initialised()) core_.initialise(conv->weight, x);
    if (integer_) {
      const auto fo = detail::conv_function_options(conv->options, {});
      return core_.integer_forward(
          x, conv->weight, conv->bias,
          [&](const ::torch::Tensor& a, const ::torch::Tensor& w) { return ::torch::nn::functional::conv2d(a, w, fo); },
          "LsqConv2d");
    }
    return ::torch::nn::functional::conv2d(core_.quantize_input(x), core_.quantize_weight(conv->weight),
                                           detail::conv_function_options(conv->options, conv->bias));
  }
  /// @brief Evaluate with the deployed integer arithmetic (no gradients) instead of fake quantization.
  void set_integer_inference(bool on) { integer_ = on; }
  bool integer_inference() const noexcept { return integer_; }
  /// @brief New bits (e.g. an allocation's); initialised steps keep their clipping range.
  void set_bits(int weight_bits, int activation_bits) { core_.set_bits(weight_bits, activation_bits); }
  const lsq_layer_options& options() const noexcept { return core_.options(); }
  /// @brief What the integer kernels need (weights 2..8 bits, input 1..8 bits, steps initialised).
  deployed_layer export_deployment() const { return core_.export_layer(conv->weight, conv->bias, "LsqConv2d"); }
  const ::torch::Tensor& weight_step() const noexcept { return core_.weight_step; }
  const ::torch::Tensor& activation_step() const noexcept { return core_.activation_step; }

  ::torch::nn::Conv2d conv{nullptr};

 private:
  detail::lsq_layer_core core_;
  bool integer_ = false;
};
MPQ_TORCH_MODULE(LsqConv2d);

/// @brief The linear counterpart of LsqConv2d (input (N, in_features)).
class LsqLinearImpl : public ::torch::nn::Module {
 public:
  LsqLinearImpl(const ::torch::nn::LinearOptions& options, const lsq_layer_options& lsq = {}) {
    linear = register_module("linear", ::torch::nn::Linear(options));
    core_.configure(*this, options.out_features(), lsq);
  }
  ::torch::Tensor forward(const ::torch::Tensor& x) {
    if (!core_.is_initialised()) core_.initialise(linear->weight, x);
    if (integer_)
      return core_.integer_forward(
          x, linear->weight, linear->bias,
          [](const ::torch::Tensor& a, const ::torch::Tensor& w) { return ::torch::nn::functional::linear(a, w); },
          "LsqLinear");
    return ::torch::nn::functional::linear(core_.quantize_input(x), core_.quantize_weight(linear->weight), linear->bias);
  }
  void set_integer_inference(bool on) { integer_ = on; }
  bool integer_inference() const noexcept { return integer_; }
  void set_bits(int weight_bits, int activation_bits) { core_.set_bits(weight_bits, activation_bits); }
  const lsq_layer_options& options() const noexcept { return core_.options(); }
  deployed_layer export_deployment() const { return core_.export_layer(linear->weight, linear->bias, "LsqLinear"); }
  const ::torch::Tensor& weight_step() const noexcept { return core_.weight_step; }
  const ::torch::Tensor& activation_step() const noexcept { return core_.activation_step; }

  ::torch::nn::Linear linear{nullptr};

 private:
  detail::lsq_layer_core core_;
  bool integer_ = false;
};
MPQ_TORCH_MODULE(LsqLinear);

}  // namespace mpq::torch
