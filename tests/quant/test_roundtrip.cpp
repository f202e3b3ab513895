// Round trip: |dequantize(quantize(x)) - x| <= step/2 inside the representable range, for every
// uniform quantizer at every width it supports; the power-of-two quantizers' relative bound.
#include <doctest/doctest.h>

#include <cmath>
#include <utility>

#include "mpq/quant/edmips.hpp"
#include "mpq/quant/lsq.hpp"
#include "mpq/quant/pow2.hpp"
#include "mpq/quant/step_range.hpp"
#include "mpq/quant/uniform.hpp"
#include "quant_test_util.hpp"

namespace {
int g_checked = 0;

template <class Q>
void check_round_trip(const Q& q) {
  const float lo = q.min_value(), hi = q.max_value(), step = q.step();
  CAPTURE(q.bits());
  CAPTURE(step);
  for (float x : quant_test::dense_grid(lo, hi, step, 3001)) {
    if (!(x >= lo && x <= hi)) continue;
    CAPTURE(x);
    // x / step (or x · 1/step) and step·code are themselves rounded in float: |x|·2^-22 allowance.
    const double err = std::fabs(static_cast<double>(q.dequantize(q.quantize(x))) - x);
    CHECK(err <= 0.5 * step + std::fabs(static_cast<double>(x)) * 2.4e-7);
    ++g_checked;
  }
}

template <int... B>
void uniform_all(std::integer_sequence<int, B...>) {
  (check_round_trip(mpq::uniform_quantizer<B, mpq::signed_codes>(0.03f)), ...);
  (check_round_trip(mpq::uniform_quantizer<B, mpq::unsigned_codes, mpq::round_half_away>(0.7f, 1)), ...);
}
}  // namespace

TEST_CASE("round trip within step/2: uniform_quantizer, every width") {
  uniform_all(std::integer_sequence<int, 1, 2, 3, 4, 5, 6, 7, 8, 16>{});
  CHECK(g_checked > 0);
}

TEST_CASE("round trip within step/2: LSQ, HWGQ and Gaussian, every width") {
  for (int b : {1, 2, 3, 4, 5, 6, 7, 8, 16}) {
    if (b > 1) check_round_trip(mpq::lsq_quantizer<>(b, mpq::signed_codes, 0.013f));
    check_round_trip(mpq::lsq_quantizer<>(b, mpq::unsigned_codes, 0.21f));
    check_round_trip(*mpq::hwgq_quantizer<>::try_with_step(b, 0.05f));
    check_round_trip(*mpq::gaussian_quantizer<>::try_with_step(b, 0.37f));
  }
}

TEST_CASE("round trip within step/2: U1, U2 at b = 2..8 and U3 up to 16 bits") {
  for (int b = 2; b <= 8; ++b) {
    check_round_trip(mpq::u1_quantizer(static_cast<float>(b), 0.1f));
    check_round_trip(mpq::u2_quantizer(static_cast<float>(b), 1.7f));
    check_round_trip(mpq::u1_quantizer(static_cast<float>(b), 0.1f, mpq::unsigned_codes, mpq::step_range_bounds::activations()));
  }
  for (float q_max : {0.5f, 1.0f, 3.0f, 20.0f, 127.0f}) {
    const mpq::u3_quantizer q(0.00390625f, q_max);
    check_round_trip(q);
  }
  CHECK(mpq::u3_quantizer(0.00390625f, 127.0f).bits() == 16);
}

TEST_CASE("power-of-two round trip: |Q(x) - x| <= (√2 - 1)|x| on [q_min, q_max]") {
  for (float b = 2.0f; b <= 7.0f; b += 1.0f) {
    const mpq::p1_quantizer q(b, 4.0f);
    for (float x : quant_test::dense_grid(q.q_min(), q.q_max(), q.q_min(), 3001)) {
      if (!(x >= q.q_min() && x <= q.q_max())) continue;
      CAPTURE(x);
      CHECK(std::fabs(q.fake_quantize(x) - x) <= (std::sqrt(2.0f) - 1.0f) * x * (1 + 1e-6f));
      CHECK(std::fabs(q.fake_quantize(-x) + x) <= (std::sqrt(2.0f) - 1.0f) * x * (1 + 1e-6f));
    }
  }
}
