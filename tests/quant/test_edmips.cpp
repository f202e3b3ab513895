// Tests for EdMIPS's Gaussian mid-rise weight quantizer and HWGQ: forward against EdMIPS's formulas
// written out in double, the STE gradients, fitting σ from data, errors, NaN.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "mpq/quant/edmips.hpp"
#include "quant_test_util.hpp"

TEST_CASE("gaussian: (round(w/Δ + 1/2) - 1/2)·Δ clamped to ±(2^(b-1) - 1/2)Δ, every width") {
  for (int b : {1, 2, 3, 4, 5, 6, 8, 16}) {
    const float step = b <= 4 ? static_cast<float>(mpq::edmips_gaussian_step_factors[b - 1] * 0.8) : 0.01f;
    const auto q = b <= 4 ? *mpq::gaussian_quantizer<>::try_make(b, 0.8f) : *mpq::gaussian_quantizer<>::try_with_step(b, step);
    CHECK(q.step() == step);
    const double thr = (std::exp2(b - 1) - 0.5) * step;
    for (float w : quant_test::dense_grid(static_cast<float>(-2 * thr), static_cast<float>(2 * thr), step)) {
      CAPTURE(b);
      CAPTURE(w);
      // w/Δ + 1/2 is a float addition, as in PyTorch (it can round up to a tie)
      const double y = (std::nearbyint(static_cast<double>(w / step + 0.5f)) - 0.5) * step;
      const double want = std::min(std::max(y, -thr), thr);
      CHECK(q.fake_quantize(w) == static_cast<float>(want));
      CHECK(q.dequantize(q.quantize(w)) == q.fake_quantize(w));
      CHECK(q.gradient(w).dx == 1.0f);
    }
    CHECK(q.min_value() == static_cast<float>(-thr));
    CHECK(q.max_value() == static_cast<float>(thr));
  }
  // 1 bit: ±0.798σ, the optimal binary quantizer for a Gaussian
  const mpq::gaussian_quantizer<> one(1, 1.0f);
  CHECK(one.fake_quantize(0.2f) == 0.798f);
  CHECK(one.fake_quantize(-0.2f) == -0.798f);
}

TEST_CASE("gaussian: try_fit uses the unbiased std; NaN maps like 0 (half-even: -Δ/2); errors") {
  std::vector<float> w = {1.0f, -1.0f, 2.0f, -2.0f};
  const auto q = mpq::gaussian_quantizer<>::try_fit(2, w);
  REQUIRE(q.has_value());
  // EdMIPS: weight.std().item() is a float32 std; step = c_b·σ in double
  CHECK(q->step() == static_cast<float>(0.996 * static_cast<double>(static_cast<float>(std::sqrt(10.0 / 3.0)))));
  CHECK(q->fake_quantize(quant_test::nan_f) == q->fake_quantize(0.0f));
  CHECK(q->fake_quantize(0.0f) == -q->step() / 2);
  CHECK(q->gradient(quant_test::nan_f).dx == 1.0f);
  CHECK(mpq::gaussian_quantizer<mpq::round_half_away>::try_make(2, 1.0f)->fake_quantize(0.0f) == 0.498f);
  CHECK_THROWS_WITH_AS(mpq::gaussian_quantizer<>(5, 1.0f),
                       "gaussian_quantizer: bits = 5: EdMIPS tabulates the step for 1..4 bits only; give the step "
                       "yourself (try_with_step) for other widths",
                       mpq::error);
  CHECK_THROWS_AS(mpq::gaussian_quantizer<>(2, 0.0f), mpq::error);
  CHECK(mpq::gaussian_quantizer<>::try_fit(2, std::vector<float>{3.0f, 3.0f}).error().code() == mpq::errc::invalid_argument);
  CHECK(mpq::gaussian_quantizer<>::try_with_step(9, 1.0f).error().code() == mpq::errc::invalid_argument);
}

TEST_CASE("hwgq: Δ·round(clamp(x, 0, (2^b - 1)Δ)/Δ) and the clamp's gradient mask, every width") {
  for (int b : {1, 2, 3, 4, 6, 8}) {
    const auto q = b <= 4 ? *mpq::hwgq_quantizer<>::try_make(b) : *mpq::hwgq_quantizer<>::try_with_step(b, 0.02f);
    const double step = q.step(), thr = (std::exp2(b) - 1) * step;
    for (float x : quant_test::dense_grid(static_cast<float>(-thr), static_cast<float>(2 * thr), q.step())) {
      CAPTURE(b);
      CAPTURE(x);
      const float c = std::min(std::max(x, 0.0f), q.clip_threshold());
      const double want = std::nearbyint(static_cast<double>(c / q.step())) * q.step();
      CHECK(q.fake_quantize(x) == static_cast<float>(want));
      CHECK(q.gradient(x).dx == ((x >= 0.0f && x <= q.clip_threshold()) ? 1.0f : 0.0f));
    }
  }
  const mpq::hwgq_quantizer<> q(3);
  CHECK(q.quantize(quant_test::nan_f) == 0);
  CHECK(q.gradient(quant_test::nan_f).dx == 0.0f);
  CHECK(q.quantize(quant_test::inf_f) == 7);
  CHECK_THROWS_AS(mpq::hwgq_quantizer<>(0), mpq::error);
  CHECK(mpq::hwgq_quantizer<>::try_with_step(2, -1.0f).error().code() == mpq::errc::invalid_argument);
}
