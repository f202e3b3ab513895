// Quantize, dequantize, fake-quantize and backward over raw contiguous spans (core layer: no xsimd,
// no xtensor, no heap, no exceptions needed). quant/span_simd.hpp has the SIMD versions.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "mpq/core/error.hpp"
#include "mpq/quant/quantizer_concepts.hpp"

namespace mpq {

/// @brief The integer types a span of codes may have.
template <class C>
concept CodeType = std::same_as<C, std::int8_t> || std::same_as<C, std::uint8_t> ||
                   std::same_as<C, std::int16_t> || std::same_as<C, std::uint16_t> ||
                   std::same_as<C, std::int32_t>;

namespace detail {
template <class C>
constexpr const char* code_type_name() noexcept {
  if constexpr (std::same_as<C, std::int8_t>) return "int8_t";
  else if constexpr (std::same_as<C, std::uint8_t>) return "uint8_t";
  else if constexpr (std::same_as<C, std::int16_t>) return "int16_t";
  else if constexpr (std::same_as<C, std::uint16_t>) return "uint16_t";
  else return "int32_t";
}

inline status check_same_size(const char* who, const char* a_name, std::size_t a, const char* b_name,
                              std::size_t b) noexcept {
  if (a == b) return {};
  return status::failure(errc::shape_mismatch, "%s: %s has %zu elements and %s has %zu: the sizes must match",
                         who, a_name, a, b_name, b);
}

/// The per-element quantize / fake-quantize of q: its affine_form when it has one (computed once,
/// not per element), else its member functions. Both give identical results.
template <class Q>
auto code_function(const Q& q) noexcept {
  if constexpr (AffineFormQuantizer<Q>) {
    return [form = q.affine()](float v) noexcept { return form.quantize(v); };
  } else {
    return [&q](float v) noexcept { return q.quantize(v); };
  }
}
template <class Q>
auto fake_quantize_function(const Q& q) noexcept {
  if constexpr (AffineFormQuantizer<Q>) {
    return [form = q.affine()](float v) noexcept { return form.fake_quantize(v); };
  } else {
    return [&q](float v) noexcept { return q.fake_quantize(v); };
  }
}

/// The span backward every DifferentiableQuantizer's try_backward() forwards to (see the contract
/// in quantizer_concepts.hpp). Parameter sums are accumulated in double. `scale_count` is the n of
/// gradient_scale(n): x.size() for a whole tensor, the tensor's size for one channel's run.
template <class Q>
status elementwise_backward(const Q& q, const char* who, std::span<const float> x,
                            std::span<const float> grad_out, std::span<float> grad_x,
                            std::span<float> grad_params, std::size_t scale_count) noexcept {
  constexpr std::size_t n_params = Q::parameter_count;
  MPQ_TRY(check_same_size(who, "grad_out", grad_out.size(), "x", x.size()));
  if (!grad_x.empty()) MPQ_TRY(check_same_size(who, "grad_x", grad_x.size(), "x", x.size()));
  if (grad_params.size() != n_params)
    return status::failure(errc::shape_mismatch,
                           "%s: grad_params has %zu elements: it must have one per parameter (%zu)", who,
                           grad_params.size(), n_params);
  std::array<double, n_params> sums{};
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto g = q.gradient(x[i]);
    const float go = grad_out[i];
    if (!grad_x.empty()) grad_x[i] = go * g.dx;
    for (std::size_t k = 0; k < n_params; ++k) sums[k] += static_cast<double>(go) * g.dparams[k];
  }
  const auto scale = q.gradient_scale(scale_count);
  for (std::size_t k = 0; k < n_params; ++k)
    grad_params[k] += static_cast<float>(sums[k] * static_cast<double>(scale[k]));
  return {};
}
/// The members every DifferentiableQuantizer shares, written once (CRTP): the span backward and
/// the throwing set_parameters. Derived provides name, gradient(), gradient_scale() and
/// try_set_parameters().
template <class Derived>
class differentiable_ops {
 public:
  /// @brief The span backward of quantizer_concepts.hpp: grad_x = grad_out·∂Q/∂x (skipped when
  /// grad_x is empty), grad_params += gradient_scale(x.size())·Σ grad_out·∂Q/∂θ. Sizes are checked;
  /// on a mismatch nothing is written.
  status try_backward(std::span<const float> x, std::span<const float> grad_out, std::span<float> grad_x,
                      std::span<float> grad_params) const noexcept {
    return elementwise_backward(self(), Derived::name, x, grad_out, grad_x, grad_params, x.size());
  }
  void backward(std::span<const float> x, std::span<const float> grad_out, std::span<float> grad_x,
                std::span<float> grad_params) const {
    throw_if_error(try_backward(x, grad_out, grad_x, grad_params));
  }
  template <class Theta>
  void set_parameters(const Theta& theta) {
    throw_if_error(static_cast<Derived&>(*this).try_set_parameters(theta));
  }

 private:
  const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
};
}  // namespace detail

/// @brief Ok if every code of q fits the code type C, else an error naming the range and type.
template <CodeType C, Quantizer Q>
status check_code_type(const Q& q) noexcept {
  if (q.code_min() >= std::numeric_limits<C>::min() && q.code_max() <= std::numeric_limits<C>::max()) return {};
  return status::failure(errc::invalid_argument,
                         "quantize: the codes of this %d-bit quantizer span [%d, %d], which does not fit %s",
                         static_cast<int>(q.bits()), static_cast<int>(q.code_min()), static_cast<int>(q.code_max()),
                         detail::code_type_name<C>());
}

/// @brief codes[i] = q.quantize(x[i]). Checked: sizes must match and q's codes must fit C.
template <Quantizer Q, CodeType C>
status try_quantize(const Q& q, std::span<const float> x, std::span<C> codes) noexcept {
  MPQ_TRY(detail::check_same_size("quantize", "x", x.size(), "codes", codes.size()));
  MPQ_TRY(check_code_type<C>(q));
  const auto code_of = detail::code_function(q);
  for (std::size_t i = 0; i < x.size(); ++i) codes[i] = static_cast<C>(code_of(x[i]));
  return {};
}

/// @brief y[i] = q.fake_quantize(x[i]) = dequantize(quantize(x[i])); y may be x (in place).
template <Quantizer Q>
status try_fake_quantize(const Q& q, std::span<const float> x, std::span<float> y) noexcept {
  MPQ_TRY(detail::check_same_size("fake_quantize", "x", x.size(), "y", y.size()));
  const auto fq = detail::fake_quantize_function(q);
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = fq(x[i]);
  return {};
}

/// @brief y[i] = q.dequantize(codes[i]).
template <Quantizer Q, CodeType C>
status try_dequantize(const Q& q, std::span<const C> codes, std::span<float> y) noexcept {
  MPQ_TRY(detail::check_same_size("dequantize", "codes", codes.size(), "y", y.size()));
  for (std::size_t i = 0; i < codes.size(); ++i) y[i] = q.dequantize(static_cast<std::int32_t>(codes[i]));
  return {};
}

/// @brief Throwing forms of the span functions above (mpq::error, or the handler without exceptions).
template <Quantizer Q, CodeType C>
void quantize(const Q& q, std::span<const float> x, std::span<C> codes) {
  throw_if_error(try_quantize(q, x, codes));
}
template <Quantizer Q>
void fake_quantize(const Q& q, std::span<const float> x, std::span<float> y) {
  throw_if_error(try_fake_quantize(q, x, y));
}
template <Quantizer Q, CodeType C>
void dequantize(const Q& q, std::span<const C> codes, std::span<float> y) {
  throw_if_error(try_dequantize(q, codes, y));
}

/// @brief Mean squared quantization error (1/n) Σ (fake_quantize(x_i) - x_i)², in double; 0 for an
/// empty span. NaN inputs make it NaN (they are not silently skipped).
template <Quantizer Q>
double quantization_mse(const Q& q, std::span<const float> x) noexcept {
  if (x.empty()) return 0.0;
  double sum = 0.0;
  const auto fq = detail::fake_quantize_function(q);
  for (float v : x) {
    const double e = static_cast<double>(fq(v)) - v;
    sum += e * e;
  }
  return sum / static_cast<double>(x.size());
}

}  // namespace mpq
