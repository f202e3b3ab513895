// xtensor entry points for quantizers: quantize / fake-quantize / dequantize / backward of any xtensor
// expression, per tensor or per channel (any axis), running the SIMD span loops of span_simd.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xexpression.hpp>

#include "mpq/core/error.hpp"
#include "mpq/quant/per_channel.hpp"
#include "mpq/quant/policies.hpp"
#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/quant/span_simd.hpp"

namespace mpq {

namespace detail {
// A row-major, contiguous copy of an expression's values as T (xtensor evaluates lazily; this is
// the one place the expression is computed).
template <class T, class E>
xt::xarray<T> evaluate_as(const xt::xexpression<E>& e) {
  xt::xarray<T> a = e.derived_cast();
  return a;
}

template <class T>
std::span<const T> values_of(const xt::xarray<T>& a) noexcept {
  return {a.data(), a.size()};
}
template <class T>
std::span<T> values_of(xt::xarray<T>& a) noexcept {
  return {a.data(), a.size()};
}

template <class E>
channel_layout layout_of(const xt::xexpression<E>& e, per_channel pc) {
  const auto& shape = e.derived_cast().shape();
  const std::vector<std::size_t> dims(shape.begin(), shape.end());
  return channel_layout(dims, pc);
}

inline void check_same_shape(const char* who, const auto& a, const auto& b) {
  if (a.shape().size() == b.shape().size() && std::equal(a.shape().begin(), a.shape().end(), b.shape().begin())) return;
  raise(status::failure(errc::shape_mismatch, "%s: x has %zu elements in %zu dimensions and grad_out %zu in %zu: the shapes must match",
                        who, a.size(), a.shape().size(), b.size(), b.shape().size()));
}
}  // namespace detail

// ---- Per tensor -------------------------------------------------------------------------------------

/// @brief dequantize(quantize(x)) elementwise, same shape. SIMD for uniform quantizers.
template <Quantizer Q, class E>
xt::xarray<float> fake_quantize(const Q& q, const xt::xexpression<E>& x) {
  xt::xarray<float> y = detail::evaluate_as<float>(x);
  simd::fake_quantize(q, detail::values_of(std::as_const(y)), detail::values_of(y));
  return y;
}

/// @brief The codes of x as C (int32_t by default), same shape. Errors if q's codes do not fit C.
template <CodeType C = std::int32_t, Quantizer Q, class E>
xt::xarray<C> quantize(const Q& q, const xt::xexpression<E>& x) {
  const xt::xarray<float> v = detail::evaluate_as<float>(x);
  xt::xarray<C> codes = xt::xarray<C>::from_shape(v.shape());
  simd::quantize(q, detail::values_of(v), detail::values_of(codes));
  return codes;
}

/// @brief The values of integer codes, same shape.
template <Quantizer Q, class E>
  requires CodeType<typename E::value_type>
xt::xarray<float> dequantize(const Q& q, const xt::xexpression<E>& codes) {
  using C = typename E::value_type;
  const xt::xarray<C> c = detail::evaluate_as<C>(codes);
  xt::xarray<float> y = xt::xarray<float>::from_shape(c.shape());
  simd::dequantize(q, detail::values_of(c), detail::values_of(y));
  return y;
}

/// @brief The span backward (quantizer_concepts.hpp) of a tensor: returns grad_x (shape of x) and
/// accumulates the parameter gradients into grad_params (Q::parameter_count values).
template <DifferentiableQuantizer Q, class E1, class E2>
xt::xarray<float> backward(const Q& q, const xt::xexpression<E1>& x, const xt::xexpression<E2>& grad_out,
                           std::span<float> grad_params) {
  const xt::xarray<float> xv = detail::evaluate_as<float>(x);
  const xt::xarray<float> gv = detail::evaluate_as<float>(grad_out);
  detail::check_same_shape("backward", xv, gv);
  xt::xarray<float> grad_x = xt::xarray<float>::from_shape(xv.shape());
  q.backward(detail::values_of(xv), detail::values_of(gv), detail::values_of(grad_x), grad_params);
  return grad_x;
}

// ---- Per channel (any axis) -----------------------------------------------------------------------

/// @brief fake_quantize with quantizer qs[c] for channel c along pc.axis.
template <QuantizerRange Qs, class E>
xt::xarray<float> fake_quantize(const Qs& qs, const xt::xexpression<E>& x, per_channel pc) {
  xt::xarray<float> y = detail::evaluate_as<float>(x);
  const channel_layout layout = detail::layout_of(x, pc);
  throw_if_error(detail::check_per_channel("fake_quantize", qs, layout, y.size()));
  layout.for_each_run([&](std::size_t c, std::size_t first, std::size_t n) {
    const auto run = detail::values_of(y).subspan(first, n);
    simd::fake_quantize(std::ranges::data(qs)[c], std::span<const float>(run), run);
  });
  return y;
}

/// @brief quantize with quantizer qs[c] for channel c along pc.axis.
template <CodeType C = std::int32_t, QuantizerRange Qs, class E>
xt::xarray<C> quantize(const Qs& qs, const xt::xexpression<E>& x, per_channel pc) {
  const xt::xarray<float> v = detail::evaluate_as<float>(x);
  const channel_layout layout = detail::layout_of(x, pc);
  throw_if_error(detail::check_per_channel("quantize", qs, layout, v.size()));
  for (const auto& q : qs) throw_if_error(check_code_type<C>(q));
  xt::xarray<C> codes = xt::xarray<C>::from_shape(v.shape());
  layout.for_each_run([&](std::size_t c, std::size_t first, std::size_t n) {
    simd::quantize(std::ranges::data(qs)[c], detail::values_of(v).subspan(first, n),
                   detail::values_of(codes).subspan(first, n));
  });
  return codes;
}

/// @brief dequantize with quantizer qs[c] for channel c along pc.axis.
template <QuantizerRange Qs, class E>
  requires CodeType<typename E::value_type>
xt::xarray<float> dequantize(const Qs& qs, const xt::xexpression<E>& codes, per_channel pc) {
  using C = typename E::value_type;
  const xt::xarray<C> c = detail::evaluate_as<C>(codes);
  xt::xarray<float> y = xt::xarray<float>::from_shape(c.shape());
  dequantize_per_channel(qs, detail::layout_of(codes, pc), detail::values_of(c), detail::values_of(y));
  return y;
}

/// @brief backward per channel: returns grad_x; grad_params (channels·N, channel-major) accumulates.
template <QuantizerRange Qs, class E1, class E2>
  requires DifferentiableQuantizer<std::ranges::range_value_t<Qs>>
xt::xarray<float> backward(const Qs& qs, const xt::xexpression<E1>& x, const xt::xexpression<E2>& grad_out,
                           per_channel pc, std::span<float> grad_params) {
  const xt::xarray<float> xv = detail::evaluate_as<float>(x);
  const xt::xarray<float> gv = detail::evaluate_as<float>(grad_out);
  detail::check_same_shape("backward", xv, gv);
  xt::xarray<float> grad_x = xt::xarray<float>::from_shape(xv.shape());
  backward_per_channel(qs, detail::layout_of(x, pc), detail::values_of(xv), detail::values_of(gv),
                       detail::values_of(grad_x), grad_params);
  return grad_x;
}

}  // namespace mpq
