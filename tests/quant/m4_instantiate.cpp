// Instantiates the quant/ core API for the Cortex-M4 (compiled by arm-none-eabi-g++ in a ctest):
// -fsyntax-only on a header alone checks no template, and on the M4 int32_t is long (so a %d given an
// int32_t is a -Wformat error) and size_t is 32 bits, which the host compilers cannot see.
#include <mpq/quant/step_range.hpp>
#include <mpq/quant/pow2.hpp>
#include <mpq/quant/lsq.hpp>
#include <mpq/quant/edmips.hpp>
#include <mpq/quant/uniform.hpp>
#include <mpq/quant/per_channel.hpp>
#include <mpq/quant/calibration.hpp>
#include <cstdint>
template <class Q> int use(const Q& q, std::span<const float> x, std::span<float> y, std::span<std::int8_t> c) {
  int r = 0;
  r += mpq::try_quantize(q, x, c).ok();
  r += mpq::try_fake_quantize(q, x, y).ok();
  r += mpq::try_dequantize(q, std::span<const std::int8_t>(c), y).ok();
  if constexpr (mpq::DifferentiableQuantizer<Q>) { std::array<float, Q::parameter_count> g{}; r += q.try_backward(x, x, y, g).ok(); }
  return r;
}
int run(std::span<const float> x, std::span<float> y, std::span<std::int8_t> c) {
  int r = 0;
  r += use(*mpq::u3_quantizer::try_make(0.25f, 1.0f), x, y, c);
  r += use(*mpq::u1_quantizer::try_make(4.0f, 0.25f), x, y, c);
  r += use(*mpq::u2_quantizer::try_make(4.0f, 1.0f), x, y, c);
  r += use(*mpq::p3_quantizer::try_make(0.25f, 1.0f), x, y, c);
  r += use(*mpq::lsq_quantizer<>::try_make(4, mpq::signed_codes, 0.1f), x, y, c);
  r += use(*mpq::gaussian_quantizer<>::try_make(2, 1.0f), x, y, c);
  r += use(*mpq::hwgq_quantizer<>::try_make(2), x, y, c);
  r += use(mpq::uniform_quantizer<4>(0.25f), x, y, c);
  std::array<std::size_t, 2> shape{2, 2};
  auto l = mpq::channel_layout::try_make(shape, mpq::per_channel{1});
  std::array<mpq::u3_quantizer, 2> qs{*mpq::u3_quantizer::try_make(0.25f, 1.0f), *mpq::u3_quantizer::try_make(0.25f, 1.0f)};
  r += mpq::try_quantize_per_channel(qs, *l, x, c).ok();
  std::array<float, 4> gp{};
  r += mpq::try_backward_per_channel(qs, *l, x, x, y, gp).ok();
  r += mpq::try_moments(x).has_value();
  r += mpq::try_mse_optimal_step(x, [](float s){ return *mpq::lsq_quantizer<>::try_make(4, mpq::signed_codes, s); }, 0.01f, 1.0f).has_value();
  r += mpq::try_percentile_range(x, 99.0).has_value();
  return r;
}
