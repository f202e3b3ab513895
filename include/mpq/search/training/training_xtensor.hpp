// xtensor entry points of the training strategies: a layer's forward and backward on any xtensor
// expression (the span functions of each strategy do the work).
#pragma once

#include <cstddef>
#include <span>

#include <xtensor/xarray.hpp>
#include <xtensor/xexpression.hpp>

#include "mpq/core/error.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/quant/quantize_xtensor.hpp"
#include "mpq/search/training/training_concepts.hpp"

namespace mpq {

/// @brief The strategy's operation on layer `layer`'s weights or input activations: Ŵ or x̂, with
/// x's shape (s.try_forward on the row-major values). Throws mpq::error on failure.
template <TrainingStrategy S, class E>
xt::xarray<float> training_forward(S& s, std::size_t layer, operand which, const xt::xexpression<E>& x) {
  const xt::xarray<float> v = detail::evaluate_as<float>(x);
  xt::xarray<float> y = xt::xarray<float>::from_shape(v.shape());
  throw_if_error(s.try_forward(layer, which, detail::values_of(v), detail::values_of(y)));
  return y;
}

/// @brief The backward of training_forward: returns ∂L/∂x (x's shape) for the host's ∂L/∂y and adds
/// ∂L/∂θ to s.gradients(). x and grad_y must have the same shape (errc::shape_mismatch).
template <TrainingStrategy S, class E, class G>
xt::xarray<float> training_backward(S& s, std::size_t layer, operand which, const xt::xexpression<E>& x,
                                    const xt::xexpression<G>& grad_y) {
  const xt::xarray<float> v = detail::evaluate_as<float>(x);
  const xt::xarray<float> g = detail::evaluate_as<float>(grad_y);
  detail::check_same_shape("training_backward", v, g);
  xt::xarray<float> gx = xt::xarray<float>::from_shape(v.shape());
  throw_if_error(s.try_backward(layer, which, detail::values_of(v), detail::values_of(g), detail::values_of(gx)));
  return gx;
}

}  // namespace mpq
