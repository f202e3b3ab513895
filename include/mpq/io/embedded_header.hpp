// Export of a searched, quantized network to a C++ header for embedded builds: constexpr packed
// weights, scales, biases and input quantizers per layer, an mpq::embedded::network type whose
// layers carry their bits and shapes as template arguments, and static_asserts on the budgets.
#pragma once

#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/file.hpp"
#include "mpq/core/math.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/kernel/overflow.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/quant/uniform.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/result.hpp"

namespace mpq::io {

// ---- what the exporter takes ----------------------------------------------------------------------

enum class embedded_layer_kind : std::uint8_t { linear, conv2d };

/// @brief One trained, quantized layer in PyTorch's conventions: what export_embedded_header needs.
///
/// - linear: `in_channels` input features (after a conv2d: its pooled C*H*W, flattened in CHW order
///   as PyTorch's flatten does), `out_channels` outputs; weight_codes is out x in, row-major.
/// - conv2d: input `in_channels` x `in_height` x `in_width`, square `kernel`, `stride`, zero
///   `padding`; weight_codes is out x in x kernel x kernel (OIHW), row-major.
/// - `pool` > 0: max pooling pool x pool with `pool_stride` (0: = pool) after the layer (conv2d only).
///
/// Quantization (kernel/epilogue.hpp): weights are signed W-bit codes with steps `weight_steps` (1
/// per tensor, or one per output channel), real weight = s_w[n] * (code + weight_code_offset); the
/// layer's input is quantized by an unsigned A-bit uniform quantizer with step `input_step` and
/// `input_zero_point` (ReLU folded in when `input_relu`: codes below the code of 0.0 are raised to it).
/// `scale[n]` (1 or out values) is the epilogue's scale; empty means float32(s_w[n] * input_step),
/// the product mpq::torch::deployed_layer stores. `bias`: 0, 1 or out values.
/// W and A come from the allocation, not from here.
struct embedded_layer {
  std::string name;
  embedded_layer_kind kind = embedded_layer_kind::linear;
  std::size_t in_channels = 0;
  std::size_t in_height = 1;
  std::size_t in_width = 1;
  std::size_t out_channels = 0;
  std::size_t kernel = 1;
  std::size_t stride = 1;
  std::size_t padding = 0;
  std::size_t pool = 0;
  std::size_t pool_stride = 0;
  std::vector<std::int8_t> weight_codes;
  std::vector<float> weight_steps;
  float weight_code_offset = 0.0f;
  std::vector<float> scale;
  std::vector<float> bias;
  float input_step = 1.0f;
  std::int32_t input_zero_point = 0;
  /// 1.0f / input_step (float32) when 0; else the stored reciprocal the training framework uses.
  float input_inverse_step = 0.0f;
  bool input_relu = true;
};

/// @brief Header options. Budgets given here are checked by static_asserts in the header, next to
/// the search's own (from the problem's constraints).
struct header_options {
  /// The C++ namespace of everything the header declares (a valid identifier).
  std::string namespace_name = "mpq_network";
  /// A line of text for the header's opening comment.
  std::string description;
  /// Bytes of the model's constants (sum of sizeof(params)), checked against network::parameters_bytes.
  std::optional<std::size_t> flash_budget_bytes;
  /// Bytes of RAM for the engine's workspace: emitted as ram_budget_bytes for the firmware to check
  /// (the workspace depends on the backend the firmware picks).
  std::optional<std::size_t> ram_budget_bytes;
};

namespace detail {
template <int B>
void quantize_rows_symmetric(std::span<const float> w, std::size_t rows, std::span<std::int8_t> codes,
                             std::span<float> steps) {
  constexpr std::int32_t qmax = (std::int32_t{1} << (B - 1)) - 1;
  const std::size_t inner = w.size() / rows;
  for (std::size_t r = 0; r < rows; ++r) {
    float max_abs = 0.0f;
    for (std::size_t i = 0; i < inner; ++i) max_abs = std::fmax(max_abs, std::fabs(w[r * inner + i]));
    const float step = max_abs > 0.0f ? max_abs / static_cast<float>(qmax) : 1.0f;
    const uniform_quantizer<B, signed_codes> q(step, 0, -qmax, qmax);
    for (std::size_t i = 0; i < inner; ++i) codes[r * inner + i] = static_cast<std::int8_t>(q.quantize(w[r * inner + i]));
    steps[r] = step;
  }
}
}  // namespace detail

/// @brief Checked: fill `layer.weight_codes` and `layer.weight_steps` from float weights in the
/// layer's PyTorch order (out x in, or OIHW): symmetric signed `bits`-bit codes in
/// [-(2^(bits-1) - 1), 2^(bits-1) - 1] with step max|w| / (2^(bits-1) - 1) per output channel (or
/// one for the tensor), rounded half to even by mpq::uniform_quantizer. bits 2..8 (1-bit weights
/// are binary {-1, +1}: give codes {-1, 0} and weight_code_offset = 0.5 yourself). Errors: bits,
/// a weight count that is not a multiple of out_channels, non-finite weights.
inline status try_quantize_weights(embedded_layer& layer, std::span<const float> weights, int bits,
                                   bool per_channel = true) {
  if (bits < 2 || bits > 8)
    return status::failure(errc::invalid_argument, "quantize_weights '%s': bits = %d: symmetric weights take 2..8 bits",
                           layer.name.c_str(), bits);
  if (layer.out_channels == 0 || weights.size() % layer.out_channels != 0 || weights.empty())
    return status::failure(errc::shape_mismatch, "quantize_weights '%s': %zu weights for %zu output channels",
                           layer.name.c_str(), weights.size(), layer.out_channels);
  for (std::size_t i = 0; i < weights.size(); ++i)
    if (!std::isfinite(weights[i]))
      return status::failure(errc::not_finite, "quantize_weights '%s': weight %zu = %g: must be finite",
                             layer.name.c_str(), i, static_cast<double>(weights[i]));
  const std::size_t rows = per_channel ? layer.out_channels : 1;
  std::vector<std::int8_t> codes(weights.size());
  std::vector<float> steps(rows);
  switch (bits) {
    case 2: detail::quantize_rows_symmetric<2>(weights, rows, codes, steps); break;
    case 3: detail::quantize_rows_symmetric<3>(weights, rows, codes, steps); break;
    case 4: detail::quantize_rows_symmetric<4>(weights, rows, codes, steps); break;
    case 5: detail::quantize_rows_symmetric<5>(weights, rows, codes, steps); break;
    case 6: detail::quantize_rows_symmetric<6>(weights, rows, codes, steps); break;
    case 7: detail::quantize_rows_symmetric<7>(weights, rows, codes, steps); break;
    default: detail::quantize_rows_symmetric<8>(weights, rows, codes, steps); break;
  }
  layer.weight_codes = std::move(codes);
  layer.weight_steps = std::move(steps);
  return {};
}

// ---- what it produces ----------------------------------------------------------------------------------

/// @brief A layer as the engine stores it: geometry, bits, codes in the engine's order (conv taps
/// (ky, kx, c); a linear layer after a conv reads the HWC map), interleaved packed rows.
struct prepared_layer {
  std::string name;
  embedded_layer_kind kind = embedded_layer_kind::linear;
  int weight_bits = 8;
  int activation_bits = 8;
  std::size_t in_c = 0, in_h = 1, in_w = 1;
  std::size_t out = 0, kernel = 1, stride = 1, padding = 0, pool = 1, pool_stride = 1;
  std::size_t k = 0;                     ///< GEMM reduction length
  std::vector<std::int8_t> codes;        ///< out x k, engine order
  std::vector<std::uint8_t> bytes;       ///< out rows of interleaved::row_bytes(W, round_up(k, 64))
  std::vector<float> weight_steps, scale, bias;  ///< out values each
  bool has_bias = false;
  kernel::requantization input{};
  float weight_code_offset = 0.0f;
  std::uint64_t macs = 0, weight_count = 0, input_count = 0;

  /// @brief The layer's C++ type, e.g. mpq::embedded::layer<mpq::embedded::fc, 4, 8, 784, 128>.
  std::string type_name() const;
};

/// @brief A compile-time budget check the header makes: `lhs <= budget` (lhs an expression over
/// the network type's constants), named after the search constraint or the option it comes from.
struct budget_check {
  std::string name;
  std::string lhs;
  double budget = 0.0;
  double use = 0.0;  ///< the prepared network's value of lhs
};

struct prepared_network {
  std::vector<prepared_layer> layers;
  std::vector<budget_check> budgets;
  std::vector<std::string> unchecked;  ///< constraints with no compile-time form (named in a comment)
  std::string strategy;
  double objective = 0.0;
  bool proven_optimal = false;
  double gap = 0.0;
  std::uint64_t weight_size_bits = 0, bitops = 0;
};

namespace detail {

[[gnu::format(printf, 4, 5)]] inline status layer_error(errc code, std::size_t l, const embedded_layer& L, const char* fmt, ...) {
  char msg[200];
  std::va_list args;
  va_start(args, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, args);
  va_end(args);
  return status::failure(code, "embedded export: layer %zu '%s': %s", l, L.name.c_str(), msg);
}

inline bool is_identifier(const std::string& s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

/// A float as an exact C++ literal (hexadecimal significand), e.g. 0x1.99999ap-4f.
inline std::string float_literal(float v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%af", static_cast<double>(v));
  return buf;
}

inline std::string double_literal(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

inline status prepare_layer(std::size_t l, const embedded_layer& L, bit_pair bits, const prepared_layer* prev,
                            prepared_layer& out) {
  if (!is_packable_bits(bits.w) || !is_packable_bits(bits.a))
    return layer_error(errc::unsupported, l, L,
                       "the allocation gives (W%d, A%d): the embedded engine runs integer layers of 1..8 bits only "
                       "(16/32 keep a layer float)",
                       bits.w, bits.a);
  prepared_layer p;
  p.name = L.name;
  p.kind = L.kind;
  p.weight_bits = bits.w;
  p.activation_bits = bits.a;
  p.out = L.out_channels;
  const bool conv = L.kind == embedded_layer_kind::conv2d;
  if (L.out_channels == 0 || L.in_channels == 0 || L.in_height == 0 || L.in_width == 0)
    return layer_error(errc::invalid_argument, l, L, "in %zu x %zu x %zu, out %zu: every size must be >= 1",
                       L.in_channels, L.in_height, L.in_width, L.out_channels);
  if (conv) {
    if (L.kernel == 0 || L.stride == 0)
      return layer_error(errc::invalid_argument, l, L, "kernel %zu, stride %zu: both must be >= 1", L.kernel, L.stride);
    if (L.in_height + 2 * L.padding < L.kernel || L.in_width + 2 * L.padding < L.kernel)
      return layer_error(errc::invalid_argument, l, L, "the %zu x %zu kernel does not fit the padded %zu x %zu input",
                         L.kernel, L.kernel, L.in_height + 2 * L.padding, L.in_width + 2 * L.padding);
    p.in_c = L.in_channels;
    p.in_h = L.in_height;
    p.in_w = L.in_width;
    p.kernel = L.kernel;
    p.stride = L.stride;
    p.padding = L.padding;
    p.k = L.kernel * L.kernel * L.in_channels;
  } else {
    if (L.in_height != 1 || L.in_width != 1)
      return layer_error(errc::invalid_argument, l, L,
                         "a linear layer takes in_channels features (in_height = %zu and in_width = %zu must be 1)",
                         L.in_height, L.in_width);
    if (L.pool != 0)
      return layer_error(errc::invalid_argument, l, L, "pool = %zu: only conv2d layers pool", L.pool);
    p.in_c = L.in_channels;
    p.k = L.in_channels;
  }
  p.pool = L.pool == 0 ? 1 : L.pool;
  p.pool_stride = L.pool == 0 ? 1 : (L.pool_stride == 0 ? L.pool : L.pool_stride);
  const std::size_t conv_h = conv ? (p.in_h + 2 * p.padding - p.kernel) / p.stride + 1 : 1;
  const std::size_t conv_w = conv ? (p.in_w + 2 * p.padding - p.kernel) / p.stride + 1 : 1;
  if (conv_h < p.pool || conv_w < p.pool)
    return layer_error(errc::invalid_argument, l, L, "the %zu x %zu pooling window does not fit the %zu x %zu output",
                       p.pool, p.pool, conv_h, conv_w);
  p.macs = std::uint64_t{p.out} * p.k * conv_h * conv_w;
  p.weight_count = std::uint64_t{p.out} * p.k;
  p.input_count = std::uint64_t{p.in_c} * p.in_h * p.in_w;
  MPQ_TRY(kernel::check_exact_k(bits.w, bits.a, p.k));

  // Chaining: the input must be the previous layer's pooled output.
  std::size_t prev_c = 0, prev_h = 1, prev_w = 1;
  if (prev != nullptr) {
    const std::size_t ph = prev->kind == embedded_layer_kind::conv2d
                               ? ((prev->in_h + 2 * prev->padding - prev->kernel) / prev->stride + 1 - prev->pool) /
                                         prev->pool_stride + 1
                               : 1;
    const std::size_t pw = prev->kind == embedded_layer_kind::conv2d
                               ? ((prev->in_w + 2 * prev->padding - prev->kernel) / prev->stride + 1 - prev->pool) /
                                         prev->pool_stride + 1
                               : 1;
    prev_c = prev->out;
    prev_h = ph;
    prev_w = pw;
    const bool ok = conv ? (prev_c == p.in_c && prev_h == p.in_h && prev_w == p.in_w) : prev_c * prev_h * prev_w == p.k;
    if (!ok)
      return layer_error(errc::shape_mismatch, l, L,
                         "its input (%zu x %zu x %zu) is not the previous layer's output (%zu x %zu x %zu after pooling)",
                         p.in_c, p.in_h, p.in_w, prev_c, prev_h, prev_w);
  }

  // Weights: codes in range, reordered to the engine's order, packed.
  if (L.weight_codes.size() != p.out * p.k)
    return layer_error(errc::shape_mismatch, l, L, "weight_codes has %zu values; %zu x %zu needs %zu",
                       L.weight_codes.size(), p.out, p.k, p.out * p.k);
  const std::int32_t lo = code_min(bits.w, signed_codes), hi = code_max(bits.w, signed_codes);
  for (std::size_t i = 0; i < L.weight_codes.size(); ++i)
    if (L.weight_codes[i] < lo || L.weight_codes[i] > hi)
      return layer_error(errc::out_of_range, l, L, "weight code %zu = %d: %d-bit signed codes lie in [%d, %d]", i,
                         static_cast<int>(L.weight_codes[i]), bits.w, static_cast<int>(lo), static_cast<int>(hi));
  p.codes.resize(p.out * p.k);
  const bool flatten_conv = !conv && prev != nullptr && prev_h * prev_w > 1;
  for (std::size_t n = 0; n < p.out; ++n)
    for (std::size_t j = 0; j < p.k; ++j) {
      std::size_t src = j;  // linear after linear: same order
      if (conv) {           // ours (ky, kx, c) <- OIHW (c, ky, kx)
        const std::size_t c = j % p.in_c, tap = j / p.in_c, ky = tap / p.kernel, kx = tap % p.kernel;
        src = (c * p.kernel + ky) * p.kernel + kx;
      } else if (flatten_conv) {  // ours HWC flatten <- PyTorch's CHW flatten
        const std::size_t c = j % prev_c, pix = j / prev_c;
        src = c * prev_h * prev_w + pix;
      }
      p.codes[n * p.k + j] = L.weight_codes[n * p.k + src];
    }
  const std::size_t padded = round_up(p.k, interleaved::col_block(bits.w));
  const std::size_t row_bytes = interleaved::row_bytes(bits.w, padded);
  p.bytes.assign(p.out * row_bytes, 0);
  for (std::size_t n = 0; n < p.out; ++n)
    for (std::size_t j = 0; j < p.k; ++j)
      interleaved::store(std::span<std::uint8_t>(p.bytes).subspan(n * row_bytes, row_bytes), bits.w, padded, j,
                         code_to_field(p.codes[n * p.k + j], bits.w));

  // Real-valued constants.
  auto per_channel = [&](const std::vector<float>& v, const char* what, bool allow_empty,
                         std::vector<float>& dst) -> status {
    if (v.size() != 1 && v.size() != p.out && !(allow_empty && v.empty()))
      return layer_error(errc::shape_mismatch, l, L, "%s has %zu values: it needs %s1 or %zu", what, v.size(),
                         allow_empty ? "0, " : "", p.out);
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
        return layer_error(errc::not_finite, l, L, "%s[%zu] = %g: must be finite", what, i, static_cast<double>(v[i]));
    dst.assign(p.out, v.empty() ? 0.0f : v[0]);
    if (v.size() == p.out) dst = v;
    return {};
  };
  MPQ_TRY(per_channel(L.weight_steps, "weight_steps", false, p.weight_steps));
  for (std::size_t i = 0; i < p.out; ++i)
    if (!(p.weight_steps[i] > 0.0f))
      return layer_error(errc::invalid_argument, l, L, "weight_steps[%zu] = %g: must be > 0", i,
                         static_cast<double>(p.weight_steps[i]));
  MPQ_TRY(per_channel(L.bias, "bias", true, p.bias));
  p.has_bias = !L.bias.empty();
  if (!(L.input_step > 0.0f) || !std::isfinite(L.input_step))
    return layer_error(errc::invalid_argument, l, L, "input_step = %g: must be finite and > 0",
                       static_cast<double>(L.input_step));
  if (L.scale.empty()) {
    p.scale.resize(p.out);
    for (std::size_t i = 0; i < p.out; ++i) p.scale[i] = p.weight_steps[i] * L.input_step;  // one float32 product
  } else {
    MPQ_TRY(per_channel(L.scale, "scale", false, p.scale));
  }
  const std::int32_t amax = code_max(bits.a, unsigned_codes);
  if (L.input_zero_point < 0 || L.input_zero_point > amax)
    return layer_error(errc::invalid_argument, l, L, "input_zero_point = %d: must lie in [0, %d] for %d-bit codes",
                       static_cast<int>(L.input_zero_point), static_cast<int>(amax), bits.a);
  const float inverse = L.input_inverse_step == 0.0f ? 1.0f / L.input_step : L.input_inverse_step;
  if (!(inverse > 0.0f) || !std::isfinite(inverse))
    return layer_error(errc::invalid_argument, l, L, "input_inverse_step = %g: must be finite and > 0",
                       static_cast<double>(inverse));
  p.input = {bits.a, inverse, L.input_zero_point, L.input_relu ? L.input_zero_point : 0, amax};
  if (!(2.0f * L.weight_code_offset == std::round(2.0f * L.weight_code_offset)) || std::fabs(L.weight_code_offset) > 256.0f)
    return layer_error(errc::invalid_argument, l, L, "weight_code_offset = %g: must be a multiple of 1/2 in [-256, 256]",
                       static_cast<double>(L.weight_code_offset));
  p.weight_code_offset = L.weight_code_offset;
  out = std::move(p);
  return {};
}

inline void add_network_budgets(prepared_network& net) {
  std::uint64_t wbits = 0, bitops = 0;
  for (const prepared_layer& p : net.layers) {
    wbits += p.weight_count * static_cast<std::uint64_t>(p.weight_bits);
    bitops += p.macs * static_cast<std::uint64_t>(p.weight_bits) * static_cast<std::uint64_t>(p.activation_bits);
  }
  net.weight_size_bits = wbits;
  net.bitops = bitops;
}

// The compile-time form of a search constraint over the network type's constants, or false.
inline bool constraint_expression(const std::string& name, const prepared_network& net, std::string& lhs, double& use) {
  double wcount = 0, mean_w = 0, mean_a = 0, act_sum = 0, act_peak = 0;
  for (const prepared_layer& p : net.layers) {
    wcount += static_cast<double>(p.weight_count);
    mean_w += p.weight_bits;
    mean_a += p.activation_bits;
    const double a = static_cast<double>(p.input_count) * p.activation_bits;
    act_sum += a;
    act_peak = a > act_peak ? a : act_peak;
  }
  const double L = static_cast<double>(net.layers.size());
  const double wbits = static_cast<double>(net.weight_size_bits);
  struct row {
    const char* name;
    const char* lhs;
    double use;
  };
  const row rows[] = {
      {"weight_size_bits", "double(network::weight_size_bits)", wbits},
      {"weight_size_bytes", "double(network::weight_size_bits) / 8.0", wbits / 8.0},
      {"bitops", "double(network::bitops)", static_cast<double>(net.bitops)},
      {"parameter_weighted_average_bits", "double(network::weight_size_bits) / double(network::weight_count)",
       wbits / wcount},
      {"mean_weight_bits", "double(network::weight_bits_sum) / double(network::layer_count)", mean_w / L},
      {"mean_activation_bits", "double(network::activation_bits_per_layer_sum) / double(network::layer_count)",
       mean_a / L},
      {"activation_memory_sum_bits", "double(network::activation_bits_sum)", act_sum},
      {"activation_memory_sum_bytes", "double(network::activation_bits_sum) / 8.0", act_sum / 8.0},
      {"activation_memory_peak_bits", "double(network::activation_bits_peak)", act_peak},
      {"activation_memory_peak_bytes", "double(network::activation_bits_peak) / 8.0", act_peak / 8.0},
  };
  for (const row& r : rows)
    if (name == r.name) {
      lhs = r.lhs;
      use = r.use;
      return true;
    }
  return false;
}

}  // namespace detail

inline std::string prepared_layer::type_name() const {
  std::string t = "mpq::embedded::layer<";
  char buf[160];
  if (kind == embedded_layer_kind::conv2d) {
    std::snprintf(buf, sizeof buf, "mpq::embedded::conv2d<%zu, %zu, %zu>, %d, %d, mpq::embedded::chw{%zu, %zu, %zu}, %zu",
                  kernel, stride, padding, weight_bits, activation_bits, in_c, in_h, in_w, out);
    t += buf;
    if (pool > 1 || pool_stride > 1) {
      std::snprintf(buf, sizeof buf, ", mpq::embedded::maxpool<%zu, %zu>", pool, pool_stride);
      t += buf;
    }
  } else {
    std::snprintf(buf, sizeof buf, "mpq::embedded::fc, %d, %d, %zu, %zu", weight_bits, activation_bits, k, out);
    t += buf;
  }
  return t + ">";
}

/// @brief Checked: validate `layers` against the allocation `bits` (one pair per layer, in order)
/// and put them in the engine's form. Errors name the layer and the rule: float bits in the
/// allocation (unsupported), sizes that do not chain (shape_mismatch), codes outside W bits
/// (out_of_range), non-finite or non-positive steps, K past the exact-int32 bound (overflow).
inline expected<prepared_network> try_prepare_network(std::span<const embedded_layer> layers,
                                                      std::span<const bit_pair> bits) {
  if (layers.empty()) return status::failure(errc::invalid_argument, "embedded export: no layers");
  if (bits.size() != layers.size())
    return status::failure(errc::shape_mismatch, "embedded export: the allocation has %zu entries for %zu layers",
                           bits.size(), layers.size());
  prepared_network net;
  net.layers.resize(layers.size());
  for (std::size_t l = 0; l < layers.size(); ++l)
    MPQ_TRY(detail::prepare_layer(l, layers[l], bits[l], l == 0 ? nullptr : &net.layers[l - 1], net.layers[l]));
  if (net.layers.back().pool > 1)
    return status::failure(errc::invalid_argument,
                           "embedded export: the last layer '%s' gives float outputs and cannot pool",
                           net.layers.back().name.c_str());
  detail::add_network_budgets(net);
  net.strategy = "given";
  return net;
}

/// @brief Checked: as above, with the bits of a search `result` on problem `p` (layer l of the
/// problem is layers[l]). Also checks that every layer's MACs, weight and input counts equal the
/// problem's (shape_mismatch otherwise), and turns every constraint of the problem with a
/// compile-time form (weight size, BitOps, average and mean bits, activation memory) into a budget
/// check, at the budget the search used.
inline expected<prepared_network> try_prepare_network(std::span<const embedded_layer> layers,
                                                      const search_result& result, const problem& p) {
  if (p.layer_count() != layers.size())
    return status::failure(errc::shape_mismatch, "embedded export: the problem has %zu layers; %zu are exported",
                           p.layer_count(), layers.size());
  MPQ_TRY(p.check_allocation(result.bits));
  auto prepared = try_prepare_network(layers, std::span<const bit_pair>(result.bits));
  if (!prepared) return prepared.error();
  prepared_network& net = *prepared;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const layer_info& info = p.layer(l);
    const prepared_layer& q = net.layers[l];
    if (info.macs != q.macs || info.weights != q.weight_count || info.activations != q.input_count)
      return status::failure(errc::shape_mismatch,
                             "embedded export: layer %zu '%s': the problem's layer '%s' has %llu MACs, %llu weights, %llu "
                             "inputs; the exported layer has %llu, %llu, %llu",
                             l, q.name.c_str(), info.name.c_str(), static_cast<unsigned long long>(info.macs),
                             static_cast<unsigned long long>(info.weights),
                             static_cast<unsigned long long>(info.activations), static_cast<unsigned long long>(q.macs),
                             static_cast<unsigned long long>(q.weight_count),
                             static_cast<unsigned long long>(q.input_count));
  }
  for (std::size_t c = 0; c < p.constraint_count(); ++c) {
    const constraint_info& ci = p.constraint(c);
    budget_check b;
    if (!detail::constraint_expression(ci.name, net, b.lhs, b.use)) {
      net.unchecked.push_back(ci.name);
      continue;
    }
    b.name = ci.name;
    b.budget = ci.budget_value;
    net.budgets.push_back(b);
  }
  net.strategy = result.strategy;
  net.objective = result.objective;
  net.proven_optimal = result.proven_optimal;
  net.gap = result.gap();
  return net;
}

/// @brief Checked: the header's text for a prepared network. Errors: a namespace name that is not
/// an identifier, a budget the network already breaks (a header that would not compile).
inline expected<std::string> try_render_header(const prepared_network& net, const header_options& o) {
  if (!detail::is_identifier(o.namespace_name))
    return status::failure(errc::invalid_argument, "embedded export: namespace_name = '%s': must be a C++ identifier",
                           o.namespace_name.c_str());
  std::vector<budget_check> budgets = net.budgets;
  for (const budget_check& b : budgets)
    if (!(b.use <= b.budget))
      return status::failure(errc::infeasible, "embedded export: %s = %.17g exceeds its budget %.17g", b.name.c_str(),
                             b.use, b.budget);
  std::string h;
  auto line = [&](const std::string& s) { h += s + "\n"; };
  char buf[512];
  std::snprintf(buf, sizeof buf, "// %s.hpp: a quantized network for mpq::embedded, generated by mpq's exporter (mpq/io/embedded_header.hpp).",
                o.namespace_name.c_str());
  line(buf);
  if (!o.description.empty()) line("// " + o.description);
  std::snprintf(buf, sizeof buf, "// Allocation: strategy %s, objective %.9g%s. Do not edit: regenerate.", net.strategy.c_str(),
                net.objective, net.proven_optimal ? ", proven optimal" : "");
  line(buf);
  line("#pragma once");
  line("");
  line("#include <cstddef>");
  line("");
  line("#include \"mpq/embedded/network.hpp\"");
  line("");
  line("namespace " + o.namespace_name + " {");
  line("");
  std::string names, list, addresses;
  for (std::size_t l = 0; l < net.layers.size(); ++l) {
    const prepared_layer& p = net.layers[l];
    const std::string id = "layer" + std::to_string(l);
    std::snprintf(buf, sizeof buf, "// %s '%s': W%d A%d, %zu x %zu weights, %llu MACs", id.c_str(), p.name.c_str(),
                  p.weight_bits, p.activation_bits, p.out, p.k, static_cast<unsigned long long>(p.macs));
    line(buf);
    line("using " + id + " = " + p.type_name() + ";");
    line("inline constexpr " + id + "::params " + id + "_params = " + id + "::make({");
    h += "    .weights = {";
    for (std::size_t i = 0; i < p.bytes.size(); ++i) {
      if (i % 20 == 0) h += "\n        ";
      std::snprintf(buf, sizeof buf, "0x%02x,", p.bytes[i]);
      h += buf;
    }
    h += "},\n";
    auto floats = [&](const char* field, const std::vector<float>& v) {
      h += "    .";
      h += field;
      h += " = {";
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i % 6 == 0) h += "\n        ";
        h += detail::float_literal(v[i]) + ",";
      }
      h += "},\n";
    };
    floats("weight_steps", p.weight_steps);
    floats("scale", p.scale);
    floats("bias", p.bias);
    line(std::string("    .has_bias = ") + (p.has_bias ? "true," : "false,"));
    std::snprintf(buf, sizeof buf,
                  "    .input = {.bits = %d, .inverse_step = %s, .zero_point = %d, .code_lo = %d, .code_hi = %d},",
                  p.input.bits, detail::float_literal(p.input.inverse_step).c_str(), static_cast<int>(p.input.zero_point),
                  static_cast<int>(p.input.code_lo), static_cast<int>(p.input.code_hi));
    line(buf);
    line("    .weight_code_offset = " + detail::float_literal(p.weight_code_offset) + ",");
    line("});");
    line("");
    names += (l ? ", \"" : "\"") + p.name + "\"";
    list += (l ? ", " : "") + id;
    addresses += (l ? ", &" : "&") + id + "_params";
  }
  line("using network = mpq::embedded::network<" + list + ">;");
  line("inline constexpr network::parameters parameters{" + addresses + "};");
  line("inline constexpr const char* layer_names[] = {" + names + "};");
  line("inline constexpr const char* strategy = \"" + net.strategy + "\";");
  line("inline constexpr double objective = " + detail::double_literal(net.objective) + ";");
  line(std::string("inline constexpr bool proven_optimal = ") + (net.proven_optimal ? "true;" : "false;"));
  line("");
  line("// Budgets, checked when this header compiles.");
  for (const budget_check& b : budgets) {
    std::snprintf(buf, sizeof buf, "static_assert(%s <= %s, \"%s: the network's %s exceeds the budget the search met\");",
                  b.lhs.c_str(), detail::double_literal(b.budget).c_str(), o.namespace_name.c_str(), b.name.c_str());
    line("inline constexpr double " + b.name + "_budget = " + detail::double_literal(b.budget) + ";");
    line(buf);
  }
  for (const std::string& u : net.unchecked) line("// constraint '" + u + "' has no compile-time form: not checked here");
  if (o.flash_budget_bytes) {
    line("inline constexpr std::size_t flash_budget_bytes = " + std::to_string(*o.flash_budget_bytes) + ";");
    line("static_assert(network::parameters_bytes <= flash_budget_bytes, \"" + o.namespace_name +
         ": the model's constants exceed flash_budget_bytes\");");
  }
  if (o.ram_budget_bytes)
    line("inline constexpr std::size_t ram_budget_bytes = " + std::to_string(*o.ram_budget_bytes) +
         ";  // check: static_assert(engine<network, Backend>::workspace_bytes <= ram_budget_bytes)");
  line("");
  line("}  // namespace " + o.namespace_name);
  return h;
}

/// @brief Checked: prepare and render in one call (see try_prepare_network, try_render_header).
inline expected<std::string> try_export_embedded_header(std::span<const embedded_layer> layers,
                                                        const search_result& result, const problem& p,
                                                        const header_options& o = {}) {
  auto net = try_prepare_network(layers, result, p);
  if (!net) return net.error();
  return try_render_header(*net, o);
}

/// @brief Checked: write `text` to `path` (mpq::try_write_file_replacing: io_error naming the path
/// when it cannot be written; an existing file is replaced only by a complete one).
inline status try_write_text_file(const std::string& path, const std::string& text) {
  return try_write_file_replacing(path.c_str(), text.data(), text.size(), "write_text_file");
}

/// @brief Throwing form: the header text (mpq::error on failure).
inline std::string export_embedded_header(std::span<const embedded_layer> layers, const search_result& result,
                                          const problem& p, const header_options& o = {}) {
  return try_export_embedded_header(layers, result, p, o).value();
}

}  // namespace mpq::io
