// Tests for LSQ (as LIMPQ trains it): forward against an independent model for every width, the
// gradients against LSQ's closed forms and finite differences in the saturated regions (where the
// function is smooth in s), the gradient scale, the step clamp, LIMPQ's initialisations, errors, NaN.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "mpq/quant/lsq.hpp"
#include "quant_test_util.hpp"

using mpq::signed_codes;
using mpq::unsigned_codes;

namespace {
template <class R, class G>
void check_lsq(int bits, mpq::signedness sgn, float s, bool symmetric = false) {
  const mpq::lsq_quantizer<R, G> q(bits, sgn, s, {symmetric});
  const double qp = sgn == signed_codes ? std::exp2(bits - 1) - 1 : std::exp2(bits) - 1;
  const double qn = sgn == signed_codes ? (symmetric ? qp : std::exp2(bits - 1)) : 0.0;
  CAPTURE(bits);
  CAPTURE(s);
  CHECK(q.q_p() == static_cast<int>(qp));
  CHECK(q.q_n() == static_cast<int>(qn));
  for (float x : quant_test::dense_grid(static_cast<float>(-(qn + 3) * s), static_cast<float>((qp + 3) * s), s)) {
    CAPTURE(x);
    const float t = x / s;  // LIMPQ divides
    const double vbar = std::min(std::max(static_cast<double>(t), -qn), qp);
    const double code = quant_test::round_model<R>(vbar);
    CHECK(q.quantize(x) == static_cast<int>(code));
    CHECK(q.fake_quantize(x) == static_cast<float>(code) * s);
    const auto g = q.gradient(x);
    const bool in = t >= -qn && t <= qp;
    CHECK(g.dx == (in ? 1.0f : 0.0f));
    const double ds = in ? code - t : (G::flows ? (t < -qn ? -qn : qp) : 0.0);
    CHECK(g.dparams[0] == doctest::Approx(ds).epsilon(1e-6));
  }
}
}  // namespace

TEST_CASE("lsq: forward and gradients match LSQ's formulas for every width") {
  using even = mpq::round_half_even;
  using away = mpq::round_half_away;
  using flows = mpq::bound_gradient_flows;
  using stops = mpq::bound_gradient_stops;
  for (int b : {2, 3, 4, 5, 6, 7, 8, 16}) {
    check_lsq<even, flows>(b, signed_codes, 0.037f);
    check_lsq<away, stops>(b, signed_codes, 0.5f, true);
  }
  for (int b : {1, 2, 3, 4, 5, 6, 7, 8}) {
    check_lsq<even, flows>(b, unsigned_codes, 0.11f);
    check_lsq<away, flows>(b, unsigned_codes, 1.3f);
  }
}

TEST_CASE("lsq: ∂Q/∂s in the saturated regions equals a finite difference (Q = ±Q·s is smooth there)") {
  const mpq::lsq_quantizer<> q(4, signed_codes, 0.1f);
  for (float x : {5.0f, -5.0f, 0.95f, -1.1f}) {
    const double h = 1e-4;
    auto f = [&](double s) { return mpq::lsq_quantizer<>(4, signed_codes, static_cast<float>(s)).fake_quantize(x); };
    const double fd = (f(0.1 + h) - f(0.1 - h)) / (2 * h);
    CHECK(q.gradient(x).dparams[0] == doctest::Approx(fd).epsilon(1e-3));
  }
}

TEST_CASE("lsq: the span backward applies g = 1/sqrt(Q_P·N) and accumulates") {
  std::mt19937 rng(29);
  std::normal_distribution<float> nd(0.0f, 0.5f);
  std::vector<float> x(1000), go(1000), gx(1000);
  for (auto& v : x) v = nd(rng);
  for (auto& v : go) v = nd(rng);
  const mpq::lsq_quantizer<> q(3, signed_codes, 0.2f);
  double sum = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += static_cast<double>(go[i]) * q.gradient(x[i]).dparams[0];
  const float g = static_cast<float>(1.0 / std::sqrt(3.0 * 1000.0));
  CHECK(q.gradient_scale(1000)[0] == g);
  std::array<float, 1> grad_s{0.5f};
  q.backward(x, go, gx, grad_s);
  CHECK(grad_s[0] == doctest::Approx(0.5 + sum * g).epsilon(1e-6));
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(gx[i] == go[i] * q.gradient(x[i]).dx);
}

TEST_CASE("lsq: LIMPQ's pretraining clamp of s to [1e-5, 1] in the forward, with a zero gradient outside") {
  const mpq::lsq_quantizer<> q(4, signed_codes, 2.5f, mpq::lsq_options::limpq_pretraining());
  CHECK(q.step() == 1.0f);
  CHECK(q.parameters()[0] == 2.5f);
  CHECK(q.fake_quantize(3.2f) == 3.0f);
  CHECK(q.gradient(3.2f).dparams[0] == 0.0f);
  CHECK(q.gradient(3.2f).dx == 1.0f);
  const mpq::lsq_quantizer<> inside(4, signed_codes, 0.5f, mpq::lsq_options::limpq_pretraining());
  CHECK(inside.gradient(100.0f).dparams[0] == 7.0f);
}

TEST_CASE("lsq: LIMPQ's initialisations") {
  std::mt19937 rng(31);
  std::normal_distribution<float> nd(0.1f, 0.7f);
  std::vector<float> w(5000);
  for (auto& v : w) v = nd(rng);
  double mean = 0, mean_abs = 0;
  for (float v : w) mean += v, mean_abs += std::fabs(v);
  mean /= w.size();
  mean_abs /= w.size();
  double ss = 0;
  for (float v : w) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / (w.size() - 1));  // torch.std is unbiased
  const auto sw = mpq::try_lsq_init_weights(w, 4);
  REQUIRE(sw.has_value());
  CHECK(*sw == doctest::Approx(std::max(std::fabs(mean - 3 * sd), std::fabs(mean + 3 * sd)) / 8).epsilon(1e-6));
  const auto sa = mpq::try_lsq_init_activations(w, 4);
  REQUIRE(sa.has_value());
  CHECK(*sa == doctest::Approx(2 * mean_abs / std::sqrt(15.0)).epsilon(1e-6));
  CHECK(mpq::try_lsq_init_weights(std::vector<float>{}, 4).error().code() == mpq::errc::invalid_argument);
  CHECK(mpq::try_lsq_init_activations(std::vector<float>{0.0f, 0.0f}, 4).error().code() == mpq::errc::invalid_argument);
  CHECK(mpq::try_lsq_init_weights(std::vector<float>{1.0f, quant_test::nan_f}, 4).error().code() == mpq::errc::not_finite);
}

TEST_CASE("lsq: errors and NaN") {
  using L = mpq::lsq_quantizer<>;
  CHECK_THROWS_WITH_AS(L(9, signed_codes, 0.1f), "lsq_quantizer: bits = 9: a quantizer's codes must be 1..8 or 16 bits wide",
                       mpq::error);
  CHECK_THROWS_AS(L(1, signed_codes, 0.1f), mpq::error);
  CHECK_THROWS_WITH_AS(L(4, signed_codes, -0.1f), "lsq_quantizer: s = -0.1: must be > 0", mpq::error);
  CHECK_THROWS_AS((L(4, unsigned_codes, 0.1f, {true})), mpq::error);
  CHECK(L::try_make(4, signed_codes, quant_test::inf_f).error().code() == mpq::errc::not_finite);
  L q(4, signed_codes, 0.1f);
  CHECK_FALSE(q.try_set_parameters({0.0f}).ok());
  CHECK(q.step() == 0.1f);
  CHECK(q.quantize(quant_test::nan_f) == 0);
  const auto g = q.gradient(quant_test::nan_f);
  CHECK(g.value == 0.0f);
  CHECK(g.dx == 0.0f);
  CHECK(g.dparams[0] == 0.0f);
  CHECK(q.quantize(-quant_test::inf_f) == -8);
}
