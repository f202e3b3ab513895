// SIMD (xsimd) span loops: quantize to codes, fake-quantize and dequantize for every quantizer with
// an affine form, bit-identical to the scalar loops of quant/span.hpp (which other quantizers use).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "mpq/arch/xsimd_include.hpp"
#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/span.hpp"

namespace mpq::simd {

namespace detail {

// An affine_form broadcast into registers. The arithmetic is the scalar form's, step by step:
// NaN -> 0, t = x/scale or x·(1/scale), r = R(t + pre_add) clamped to [lo - code_add, hi - code_add],
// then code = r + code_add and value = scale·(r + code_add + code_offset) (every addition is exact:
// small integers and halves). Ties: nearbyint rounds half to even in the default floating-point
// rounding mode (mpq never changes it); xsimd::round is half away from zero.
template <RoundingPolicy R, bool Divide>
struct affine_batch {
  using batch = xsimd::batch<float>;
  batch scale, inv_scale, pre_add, lo, hi, code_add, value_shift;

  explicit affine_batch(const affine_form<R>& f) noexcept
      : scale(f.scale),
        inv_scale(f.inv_scale),
        pre_add(f.pre_add),
        lo(static_cast<float>(f.lo - f.code_add)),
        hi(static_cast<float>(f.hi - f.code_add)),
        code_add(static_cast<float>(f.code_add)),
        value_shift(static_cast<float>(f.code_add) + f.code_offset) {}

  batch rounded(batch x) const noexcept {
    x = xsimd::select(xsimd::isnan(x), batch(0.0f), x);
    batch t;
    if constexpr (Divide) t = x / scale;
    else t = x * inv_scale;
    t += pre_add;
    if constexpr (std::is_same_v<R, round_half_even>) t = xsimd::nearbyint(t);
    else t = xsimd::round(t);
    return xsimd::min(xsimd::max(t, lo), hi);
  }
  batch value(batch x) const noexcept { return scale * (rounded(x) + value_shift); }
  xsimd::batch<std::int32_t> code(batch x) const noexcept {
    return xsimd::batch_cast<std::int32_t>(rounded(x) + code_add);
  }
};

// dst[k] = src[k] for k < N, narrowing int32 codes that are known to fit C.
template <std::size_t N, class C>
inline void narrow(const std::int32_t* MPQ_RESTRICT src, C* MPQ_RESTRICT dst) noexcept {
  for (std::size_t k = 0; k < N; ++k) dst[k] = static_cast<C>(src[k]);
}

template <class F>
void with_affine_batch(const auto& form, F&& f) {
  using R = typename std::remove_cvref_t<decltype(form)>::rounding;
  if (form.divide) f(affine_batch<R, true>(form));
  else f(affine_batch<R, false>(form));
}

}  // namespace detail

/// @brief codes[i] = q.quantize(x[i]), vectorised for AffineFormQuantizer (the scalar loop of
/// mpq::try_quantize otherwise). Checked like mpq::try_quantize; identical results.
template <Quantizer Q, CodeType C>
status try_quantize(const Q& q, std::span<const float> x, std::span<C> codes) noexcept {
  if constexpr (!AffineFormQuantizer<Q>) {
    return mpq::try_quantize(q, x, codes);
  } else {
    MPQ_TRY(mpq::detail::check_same_size("quantize", "x", x.size(), "codes", codes.size()));
    MPQ_TRY(check_code_type<C>(q));
    const auto form = q.affine();
    constexpr std::size_t lanes = xsimd::batch<float>::size;
    const std::size_t n = x.size(), body = n - n % lanes;
    detail::with_affine_batch(form, [&](const auto& kernel) {
      if constexpr (std::is_same_v<C, std::int32_t>) {
        for (std::size_t i = 0; i < body; i += lanes)
          kernel.code(xsimd::batch<float>::load_unaligned(x.data() + i)).store_unaligned(codes.data() + i);
      } else {
        // xsimd 8.1 has no narrowing conversion: codes go through an L1-resident int32 block, which a
        // plain fixed-length loop narrows (compilers emit packs/shuffles for it, not per-lane moves).
        constexpr std::size_t block = 256;
        alignas(64) std::int32_t wide[block];
        std::size_t i = 0;
        for (; i + block <= body; i += block) {
          for (std::size_t k = 0; k < block; k += lanes)
            kernel.code(xsimd::batch<float>::load_unaligned(x.data() + i + k)).store_aligned(wide + k);
          detail::narrow<block>(wide, codes.data() + i);
        }
        for (; i < body; i += lanes) {
          kernel.code(xsimd::batch<float>::load_unaligned(x.data() + i)).store_aligned(wide);
          detail::narrow<lanes>(wide, codes.data() + i);
        }
      }
    });
    for (std::size_t i = body; i < n; ++i) codes[i] = static_cast<C>(form.quantize(x[i]));
    return {};
  }
}

/// @brief y[i] = q.fake_quantize(x[i]), vectorised for AffineFormQuantizer; y may be x.
template <Quantizer Q>
status try_fake_quantize(const Q& q, std::span<const float> x, std::span<float> y) noexcept {
  if constexpr (!AffineFormQuantizer<Q>) {
    return mpq::try_fake_quantize(q, x, y);
  } else {
    MPQ_TRY(mpq::detail::check_same_size("fake_quantize", "x", x.size(), "y", y.size()));
    const auto form = q.affine();
    constexpr std::size_t lanes = xsimd::batch<float>::size;
    const std::size_t n = x.size(), body = n - n % lanes;
    detail::with_affine_batch(form, [&](const auto& kernel) {
      for (std::size_t i = 0; i < body; i += lanes)
        kernel.value(xsimd::batch<float>::load_unaligned(x.data() + i)).store_unaligned(y.data() + i);
    });
    for (std::size_t i = body; i < n; ++i) y[i] = form.fake_quantize(x[i]);
    return {};
  }
}

/// @brief y[i] = q.dequantize(codes[i]), vectorised for AffineFormQuantizer.
template <Quantizer Q, CodeType C>
status try_dequantize(const Q& q, std::span<const C> codes, std::span<float> y) noexcept {
  if constexpr (!AffineFormQuantizer<Q>) {
    return mpq::try_dequantize(q, codes, y);
  } else {
    MPQ_TRY(mpq::detail::check_same_size("dequantize", "codes", codes.size(), "y", y.size()));
    const auto form = q.affine();
    using batch = xsimd::batch<float>;
    constexpr std::size_t lanes = batch::size;
    const std::size_t n = codes.size(), body = n - n % lanes;
    const batch scale(form.scale), offset(form.code_offset);
    alignas(64) float wide[lanes];
    for (std::size_t i = 0; i < body; i += lanes) {
      for (std::size_t k = 0; k < lanes; ++k) wide[k] = static_cast<float>(codes[i + k]);
      (scale * (batch::load_aligned(wide) + offset)).store_unaligned(y.data() + i);
    }
    for (std::size_t i = body; i < n; ++i) y[i] = form.dequantize(codes[i]);
    return {};
  }
}

/// @brief Throwing forms.
template <Quantizer Q, CodeType C>
void quantize(const Q& q, std::span<const float> x, std::span<C> codes) {
  throw_if_error(simd::try_quantize(q, x, codes));
}
template <Quantizer Q>
void fake_quantize(const Q& q, std::span<const float> x, std::span<float> y) {
  throw_if_error(simd::try_fake_quantize(q, x, y));
}
template <Quantizer Q, CodeType C>
void dequantize(const Q& q, std::span<const C> codes, std::span<float> y) {
  throw_if_error(simd::try_dequantize(q, codes, y));
}

}  // namespace mpq::simd
