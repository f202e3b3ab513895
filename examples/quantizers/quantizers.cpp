// Quantizers tour: calibrate several quantizers on the same weights, compare their error, then run a
// few training steps of Uhlich's U3 quantizer (STE gradients + a memory penalty + projection) and a
// per-channel LSQ backward on an xtensor matrix. Prints its results and "quantizers: ok" when every
// check holds.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xview.hpp>

#include <mpq/mpq.hpp>

int main() {
  bool ok = true;
  auto check = [&ok](bool cond, const char* what) {
    if (!cond) std::printf("CHECK FAILED: %s\n", what);
    ok = ok && cond;
  };

  // Weights of a 64 x 128 layer, roughly Gaussian.
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  std::vector<float> w(64 * 128);
  for (float& v : w) v = nd(rng);

  // 1. The worked values of algorithms.md §7.
  const mpq::u3_quantizer u3(0.25f, 1.0f);
  const auto g = u3.gradient(0.3f);
  std::printf("U3 d=0.25 q_max=1 signed: %d bits, Q(0.3)=%g, dQ/dd=%.1f\n", u3.bits(), static_cast<double>(g.value),
              static_cast<double>(g.dparams[0]));
  const mpq::lsq_quantizer<> lsq_demo(4, mpq::signed_codes, 0.1f);
  std::printf("LSQ s=0.1 W4: Q(0.234)=%g, Q(1.0)=%g\n", static_cast<double>(lsq_demo.fake_quantize(0.234f)),
              static_cast<double>(lsq_demo.fake_quantize(1.0f)));

  // 2. Four quantizers calibrated on the same weights at 4 bits.
  const auto moments = mpq::try_moments(w).value();
  const auto d0 = mpq::try_uhlich_weight_init(static_cast<float>(moments.max_abs), 4).value();  // Sony's init
  const mpq::u3_quantizer uhlich(d0[0], d0[1]);
  const mpq::lsq_quantizer<> lsq(4, mpq::signed_codes, mpq::try_lsq_init_weights(w, 4).value());  // LIMPQ's init
  const auto gauss = mpq::gaussian_quantizer<>::try_fit(4, w).value();                           // EdMIPS
  auto make_uniform = [](float s) { return mpq::uniform_quantizer<4, mpq::signed_codes>(s); };
  const float max_abs = static_cast<float>(moments.max_abs);
  const float best = mpq::try_mse_optimal_step(w, make_uniform, max_abs / 80, max_abs / 4).value();
  const auto uniform = make_uniform(best);
  std::printf("%-22s %5s %10s %12s\n", "4-bit quantizer", "bits", "step", "MSE");
  auto row = [](const char* name, const auto& q, const std::vector<float>& x) {
    const double mse = mpq::quantization_mse(q, x);
    std::printf("%-22s %5d %10.5f %12.4e\n", name, static_cast<int>(q.bits()), static_cast<double>(q.step()), mse);
    return mse;
  };
  const double mse_u3 = row("Uhlich U3 (Sony init)", uhlich, w);
  const double mse_lsq = row("LSQ (LIMPQ init)", lsq, w);
  const double mse_g = row("EdMIPS Gaussian", gauss, w);
  const double mse_mse = row("uniform, MSE-optimal", uniform, w);
  check(mse_mse <= mse_lsq, "the MSE-optimal step beats LSQ's initial step on the same 4-bit grid");
  check(mse_g > 0, "the mid-rise Gaussian grid has no zero level, so it never reproduces w exactly");
  check(mse_u3 > 0 && uhlich.bits() == 4, "Sony's init gives 4 bits");

  // 3. Uhlich U3 training: minimise mean (Q(w) - w)² + λ·relu(bits - 4)², with STE gradients, the
  //    bits gradient for the penalty, then Sony's gradient clipping and projection. It starts at
  //    5 bits (q_max = 8 steps) and must learn a range of at most 7 steps.
  mpq::u3_quantizer q(0.03125f, 0.25f);
  const float lr = 1e-2f, lambda = 1.0f, n = static_cast<float>(w.size());
  std::vector<float> y(w.size()), grad_out(w.size());
  std::printf("U3 training: bits %d", q.bits());
  for (int step = 0; step < 200; ++step) {
    mpq::simd::fake_quantize(q, w, y);
    for (std::size_t i = 0; i < w.size(); ++i) grad_out[i] = 2.0f * (y[i] - w[i]) / n;  // d mean(Q(w) - w)² / dQ
    std::array<float, 2> grad{};
    q.backward(w, grad_out, {}, grad);  // w is data here: only the quantizer's parameters learn
    const float excess = q.real_bits() - 4.0f;
    if (excess > 0) {
      const auto db = q.bits_gradient();
      for (int k = 0; k < 2; ++k) grad[k] += lambda * 2.0f * excess * db[k];
      grad = q.clip_gradients(grad);  // Sony clips while a memory constraint is active
    }
    auto theta = q.parameters();
    for (int k = 0; k < 2; ++k) theta[k] -= lr * grad[k];
    q.set_parameters(q.project(theta));
    if (step % 50 == 49) std::printf(" -> %d", q.bits());
  }
  std::printf(" (d=%g, q_max=%g)\n", static_cast<double>(q.step()), static_cast<double>(q.max_value()));
  check(q.bits() == 4, "the memory penalty brings U3 from 5 to 4 bits");

  // 4. Per-output-channel LSQ on an xtensor matrix, forward and backward.
  xt::xarray<float> wm = xt::adapt(w, {64, 128});
  std::vector<mpq::lsq_quantizer<>> per_row;
  for (std::size_t r = 0; r < 64; ++r) {
    const xt::xarray<float> row_values = xt::view(wm, r, xt::all());
    std::vector<float> v(row_values.begin(), row_values.end());
    per_row.emplace_back(4, mpq::signed_codes, mpq::try_lsq_init_weights(v, 4).value());
  }
  const auto yq = mpq::fake_quantize(per_row, wm, mpq::per_channel{0});
  const auto codes = mpq::quantize<std::int8_t>(per_row, wm, mpq::per_channel{0});
  std::vector<float> grad_s(64, 0.0f);
  const auto grad_w = mpq::backward(per_row, wm, 2.0f * (yq - wm), mpq::per_channel{0}, grad_s);
  std::printf("per-channel LSQ: codes in [%d, %d], mean |dL/ds| = %.3e\n", static_cast<int>(xt::amin(codes)()),
              static_cast<int>(xt::amax(codes)()), [&] {
                double s = 0;
                for (float v : grad_s) s += std::fabs(v);
                return s / 64;
              }());
  check(xt::amin(codes)() >= -8 && xt::amax(codes)() <= 7, "4-bit codes");
  check(grad_w.shape() == wm.shape(), "grad_w has the weights' shape");

  std::printf("quantizers: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
