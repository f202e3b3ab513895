// xtensor expressions in and out of packed tensors: pack integer codes, quantize + pack floats,
// unpack to codes, dequantize to values. Rank 1 and 2 (rows = output channels).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xexpression.hpp>

#include "mpq/core/error.hpp"
#include "mpq/packed/pack.hpp"
#include "mpq/packed/pack_simd.hpp"
#include "mpq/packed/tensor.hpp"
#include "mpq/quant/quantize_xtensor.hpp"

namespace mpq {

namespace detail {
/// @brief The packed shape of an expression's shape: rank 1 or 2, else errc::invalid_argument.
template <class Shape>
expected<packed_shape> packed_shape_of(const Shape& shape) noexcept {
  if (shape.size() == 1) return packed_shape{1, 1, static_cast<std::size_t>(shape[0])};
  if (shape.size() == 2)
    return packed_shape{2, static_cast<std::size_t>(shape[0]), static_cast<std::size_t>(shape[1])};
  return status::failure(errc::invalid_argument, "pack: an expression of rank %zu: packed tensors have rank 1 or 2",
                         shape.size());
}

/// @brief An xarray with the tensor's rank and shape.
template <class T, int Bits, signedness S, PackedLayout L>
xt::xarray<T> shaped_like(const packed_tensor<Bits, S, L>& t) {
  if (t.rank() == 1) return xt::xarray<T>::from_shape({t.cols()});
  return xt::xarray<T>::from_shape({t.rows(), t.cols()});
}
}  // namespace detail

/// @brief Checked: pack an integer expression of rank 1 or 2 (codes, row-major). The codes are
/// checked against the range of the packed codes.
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, class E>
expected<packed_tensor<Bits, S, L>> try_pack(const xt::xexpression<E>& codes) {
  using value_type = typename E::value_type;
  static_assert(CodeType<value_type>, "mpq::pack: the expression's values must be int8/16/32 or uint8/16 codes");
  auto shape = detail::packed_shape_of(codes.derived_cast().shape());
  if (!shape) return shape.error();
  const xt::xarray<value_type> a = detail::evaluate_as<value_type>(codes);
  auto t = packed_tensor<Bits, S, L>::try_make(*shape);
  if (!t) return t.error();
  MPQ_TRY(try_pack_into(detail::values_of(a), t->span()));
  return t;
}
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, class E>
packed_tensor<Bits, S, L> pack(const xt::xexpression<E>& codes) {
  return try_pack<Bits, S, L>(codes).value();
}

/// @brief Checked: quantize a float expression of rank 1 or 2 and pack it in one pass (mpq::simd);
/// for rank 2, `quantizers` holds one per row (per output channel) or one for all.
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q, class E>
expected<packed_tensor<Bits, S, L>> try_quantize_pack(std::span<const Q> quantizers, const xt::xexpression<E>& x) {
  auto shape = detail::packed_shape_of(x.derived_cast().shape());
  if (!shape) return shape.error();
  const xt::xarray<float> a = detail::evaluate_as<float>(x);
  return detail::quantize_pack_tensor<Bits, S, L>(quantizers, detail::values_of(a), *shape,
                                                  simd::detail::simd_quantize_chunk{});
}
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q, class E>
expected<packed_tensor<Bits, S, L>> try_quantize_pack(const Q& q, const xt::xexpression<E>& x) {
  return try_quantize_pack<Bits, S, L>(std::span<const Q>(&q, 1), x);
}
template <int Bits, signedness S = signed_codes, PackedLayout L = interleaved, UniformQuantizer Q, class E>
packed_tensor<Bits, S, L> quantize_pack(const Q& q, const xt::xexpression<E>& x) {
  return try_quantize_pack<Bits, S, L>(q, x).value();
}

/// @brief The codes as an xarray of the tensor's rank and shape.
template <CodeType Int = std::int32_t, int Bits, signedness S, PackedLayout L>
xt::xarray<Int> to_xarray(const packed_tensor<Bits, S, L>& t) {
  auto a = detail::shaped_like<Int>(t);
  unpack(t, detail::values_of(a));
  return a;
}

/// @brief The values (codes with the per-row scales and zero points) as an xarray of the tensor's
/// rank and shape.
template <int Bits, signedness S, PackedLayout L>
xt::xarray<float> dequantize_to_xarray(const packed_tensor<Bits, S, L>& t) {
  auto a = detail::shaped_like<float>(t);
  dequantize(t, detail::values_of(a));
  return a;
}

}  // namespace mpq
