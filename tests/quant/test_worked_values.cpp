// The worked values of algorithms.md §7 (U3, LSQ, EdMIPS W2, HWGQ A2), checked bit for bit.
// Decimal values like -0.2 are the exact-arithmetic answers; float inputs such as 0.3f are not
// exactly 0.3, so gradients are compared bit for bit with the closed form evaluated at the float
// input, and with the decimal to within float rounding.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <vector>

#include "mpq/quant/edmips.hpp"
#include "mpq/quant/lsq.hpp"
#include "mpq/quant/step_range.hpp"

TEST_CASE("§7 U3: d = 0.25, q_max = 1, signed gives 4 bits; x = 0.3 and x = ±1.3") {
  const mpq::u3_quantizer q(0.25f, 1.0f, mpq::signed_codes);
  CHECK(q.bits() == 4);
  CHECK(q.code_min() == -4);
  CHECK(q.code_max() == 4);

  const auto g = q.gradient(0.3f);
  CHECK(g.value == 0.25f);
  CHECK(g.dx == 1.0f);
  CHECK(g.dparams[0] == (0.25f - 0.3f) / 0.25f);  // ∂Q/∂d = (Q - x)/d
  CHECK(g.dparams[0] == doctest::Approx(-0.2).epsilon(1e-6));
  CHECK(g.dparams[1] == 0.0f);

  for (float x : {1.3f, -1.3f}) {
    CAPTURE(x);
    const auto s = q.gradient(x);
    CHECK(s.value == (x > 0 ? 1.0f : -1.0f));
    CHECK(s.dx == 0.0f);
    CHECK(s.dparams[0] == 0.0f);
    CHECK(s.dparams[1] == (x > 0 ? 1.0f : -1.0f));
  }
}

TEST_CASE("§2a U3 examples: d = 0.25 with q_max = 1.75 unsigned gives 3 bits") {
  const mpq::u3_quantizer q(0.25f, 1.75f, mpq::unsigned_codes, mpq::step_range_bounds::activations());
  CHECK(q.bits() == 3);
  CHECK(q.code_max() == 7);
}

TEST_CASE("§7 LSQ: s = 0.1, W4: 0.234 -> 0.2 with ∂/∂s = -0.34·g, 1.0 -> 0.7 with 7·g") {
  const mpq::lsq_quantizer<> q(4, mpq::signed_codes, 0.1f);
  CHECK(q.q_n() == 8);
  CHECK(q.q_p() == 7);

  const auto a = q.gradient(0.234f);
  CHECK(a.value == 0.2f);
  CHECK(a.dx == 1.0f);
  CHECK(a.dparams[0] == 2.0f - 0.234f / 0.1f);  // R(v/s) - v/s
  CHECK(a.dparams[0] == doctest::Approx(-0.34).epsilon(1e-6));

  const auto b = q.gradient(1.0f);
  CHECK(b.value == 0.7f);
  CHECK(b.dx == 0.0f);
  CHECK(b.dparams[0] == 7.0f);

  // Through the span backward the step's gradient is multiplied by g = 1/sqrt(Q_P·N).
  const std::vector<float> x = {0.234f, 1.0f};
  const std::vector<float> grad_out = {1.0f, 0.0f};
  std::vector<float> grad_x(2);
  std::array<float, 1> grad_s{};
  q.backward(x, grad_out, grad_x, grad_s);
  const double g = 1.0 / std::sqrt(7.0 * 2.0);
  CHECK(grad_s[0] == static_cast<float>(static_cast<double>(2.0f - 0.234f / 0.1f) * static_cast<float>(g)));
  CHECK(grad_s[0] == doctest::Approx(-0.34 * g).epsilon(1e-6));
  std::array<float, 1> grad_s2{};
  q.backward(x, std::vector<float>{0.0f, 1.0f}, grad_x, grad_s2);
  CHECK(grad_s2[0] == static_cast<float>(7.0 * static_cast<float>(g)));
}

TEST_CASE("§7 EdMIPS W2 (σ = 1): 0.3 -> 0.498, 2.0 -> 1.494") {
  const mpq::gaussian_quantizer<> q(2, 1.0f);
  CHECK(q.step() == 0.996f);
  CHECK(q.fake_quantize(0.3f) == 0.498f);
  CHECK(q.fake_quantize(2.0f) == 1.494f);
  CHECK(q.gradient(2.0f).dx == 1.0f);  // identity STE, also when clamped
}

TEST_CASE("§7 HWGQ A2: 0.9 -> 1.076; clip at 3·0.538 = 1.614") {
  const mpq::hwgq_quantizer<> q(2);
  CHECK(q.step() == 0.538f);
  CHECK(q.fake_quantize(0.9f) == 1.076f);
  CHECK(q.clip_threshold() == 1.614f);
  CHECK(q.gradient(0.9f).dx == 1.0f);
  CHECK(q.gradient(1.7f).dx == 0.0f);
  CHECK(q.gradient(-0.1f).dx == 0.0f);
}
