// The LibTorch adapter's strategy side: autograd functions against mpq's closed forms and against
// LibTorch's autograd on the same math, EdMIPS's composite convolution (bilinearity), Uhlich's
// gradients and memory penalty, the parameter tensor and the update hooks.
#include "torch_doctest.hpp"
#include "torch_test_util.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "mpq/adapters/torch/strategy.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/quant/edmips.hpp"
#include "mpq/search/training/edmips.hpp"
#include "mpq/search/training/limpq.hpp"
#include "mpq/search/training/uhlich.hpp"

namespace {

using mpq::operand;
using mpq_torch_test::bitwise_equal;
using mpq_torch_test::check_close;

// Values of an mpq quantizer applied elementwise (a constant for LibTorch's autograd).
template <class Q>
torch::Tensor mpq_values(const Q& q, const torch::Tensor& x) {
  auto xc = x.detach().contiguous();
  auto y = torch::empty_like(xc);
  for (std::int64_t i = 0; i < xc.numel(); ++i) y.data_ptr<float>()[i] = q.fake_quantize(xc.data_ptr<float>()[i]);
  return y;
}

mpq::problem two_layers(std::span<const int> w, std::span<const int> a, std::int64_t in, std::int64_t out) {
  mpq::problem p;
  const mpq::bit_pair fixed[] = {{32, 32}};
  p.add_layer(mpq::linear_layer("stem", 4, in), std::span<const mpq::bit_pair>(fixed));
  p.add_layer(mpq::linear_layer("head", in, out), w, a);
  return p;
}

}  // namespace

TEST_CASE("torch EdMIPS layer: gradients equal LibTorch's autograd of softmax mixtures and the complexity loss") {
  torch::manual_seed(2);
  const int wb[] = {1, 2, 3, 4}, ab[] = {2, 3, 4};
  mpq::edmips_options o;
  o.eta = 0.7;
  auto state = mpq::torch::bind(mpq::edmips_training(two_layers(wb, ab, 6, 5), o));
  auto& s = state->strategy();
  for (std::size_t i = 0; i < s.parameter_count(); ++i) s.parameters()[i] = 0.4f * std::sin(1.3f * static_cast<float>(i));
  mpq::torch::QuantLinear layer(state, 1, torch::nn::LinearOptions(6, 5));
  const auto x0 = torch::randn({8, 6}) + 0.3;
  auto x = x0.clone().requires_grad_(true);
  const auto c = torch::randn({8, 5});
  auto loss = (layer(x) * c).sum() + state->regularizer();
  CHECK(state->regularizer().item<double>() == doctest::Approx(s.regularizer()));
  loss.backward();

  // The same math in LibTorch: softmax, STE quantizers (mpq's values), one linear, η·E_w·E_a.
  const std::size_t ow = s.parameter_offset(1, operand::weights), oa = s.parameter_offset(1, operand::activations);
  auto theta = state->parameters().detach().clone();
  auto alpha = theta.narrow(0, static_cast<std::int64_t>(ow), 4).clone().requires_grad_(true);
  auto beta = theta.narrow(0, static_cast<std::int64_t>(oa), 3).clone().requires_grad_(true);
  auto w = layer->linear->weight.detach().clone().requires_grad_(true);
  auto x2 = x0.clone().requires_grad_(true);
  const auto pw = torch::softmax(alpha, 0), pa = torch::softmax(beta, 0);
  const auto wv = w.detach().contiguous();
  const float sigma = static_cast<float>(mpq::try_moments(std::span<const float>(wv.data_ptr<float>(), 30))->stddev);
  torch::Tensor w_hat = torch::zeros_like(w), x_hat = torch::zeros_like(x2);
  for (int i = 0; i < 4; ++i) {
    const auto q = *mpq::gaussian_quantizer<>::try_with_step(
        wb[i], static_cast<float>(mpq::edmips_gaussian_step_factors[static_cast<std::size_t>(wb[i] - 1)] * sigma));
    w_hat = w_hat + pw[i] * (w + (mpq_values(q, w) - w).detach());
  }
  for (int j = 0; j < 3; ++j) {
    const auto q = mpq::hwgq_quantizer<>(ab[j]);
    const auto xc = torch::clamp(x2, 0.0, static_cast<double>(q.clip_threshold()));
    x_hat = x_hat + pa[j] * (xc + (mpq_values(q, x2) - xc).detach());
  }
  const auto bw = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}), ba = torch::tensor({2.0f, 3.0f, 4.0f});
  auto loss2 = (torch::nn::functional::linear(x_hat, w_hat, layer->linear->bias.detach()) * c).sum() +
               o.eta * (pw * bw).sum() * (pa * ba).sum();
  loss2.backward();
  CHECK(loss.item<double>() == doctest::Approx(loss2.item<double>()).epsilon(1e-5));
  check_close(state->parameters().grad().narrow(0, static_cast<std::int64_t>(ow), 4), alpha.grad(), 1e-4, 1e-6);
  check_close(state->parameters().grad().narrow(0, static_cast<std::int64_t>(oa), 3), beta.grad(), 1e-4, 1e-6);
  check_close(layer->linear->weight.grad(), w.grad(), 1e-4, 1e-6);
  check_close(x.grad(), x2.grad(), 1e-4, 1e-6);
}


TEST_CASE("torch EdMIPS composite convolution equals the sum over all bit branches (bilinearity)") {
  torch::manual_seed(3);
  const int wb[] = {1, 2, 3, 4}, ab[] = {2, 3, 4};
  mpq::problem p;
  const mpq::bit_pair fixed[] = {{32, 32}};
  p.add_layer(mpq::linear_layer("stem", 4, 4), std::span<const mpq::bit_pair>(fixed));
  p.add_layer(mpq::conv2d_layer("conv", {3, 8, 9, 9, 3, 1, 1}), wb, ab);
  auto state = mpq::torch::bind(mpq::edmips_training(p));
  auto& s = state->strategy();
  for (std::size_t i = 0; i < s.parameter_count(); ++i) s.parameters()[i] = std::cos(2.1f * static_cast<float>(i));
  mpq::torch::QuantConv2d conv(state, 1, torch::nn::Conv2dOptions(3, 8, 3).padding(1).bias(false));
  const auto x = torch::randn({2, 3, 9, 9});
  torch::NoGradGuard no_grad;
  const auto y = conv(x);
  std::vector<float> pw(4), pa(3);
  REQUIRE(s.try_mixing_weights(1, operand::weights, pw).ok());
  REQUIRE(s.try_mixing_weights(1, operand::activations, pa).ok());
  const auto wv = conv->conv->weight.detach().contiguous();
  const float sigma =
      static_cast<float>(mpq::try_moments(std::span<const float>(wv.data_ptr<float>(), static_cast<std::size_t>(wv.numel())))->stddev);
  torch::Tensor sum = torch::zeros_like(y);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) {
      const auto qw = *mpq::gaussian_quantizer<>::try_with_step(
          wb[i], static_cast<float>(mpq::edmips_gaussian_step_factors[static_cast<std::size_t>(wb[i] - 1)] * sigma));
      const auto qa = mpq::hwgq_quantizer<>(ab[j]);
      sum += pw[static_cast<std::size_t>(i)] * pa[static_cast<std::size_t>(j)] *
             torch::conv2d(mpq_values(qa, x), mpq_values(qw, wv), {}, 1, 1);
    }
  check_close(y, sum, 1e-5, 1e-5);
  // 12 branch convolutions, one composite one: not the same numbers, the same value.
  CHECK(!bitwise_equal(y, sum));
}


TEST_CASE("torch Uhlich layer: θ gradients equal the U3 closed forms; the memory penalty tensor") {
  torch::manual_seed(4);
  const int wb[] = {2, 3, 4, 5, 6, 7, 8}, ab[] = {1, 2, 3, 4, 5, 6, 7, 8};
  mpq::problem p = two_layers(wb, ab, 10, 4);
  p.add_constraint(mpq::weight_size{}, mpq::budget::absolute(4 * 10 * 32 + 40 * 2));
  mpq::uhlich_options<mpq::u3_quantizer> o;
  o.lambda_weights = 3.0;
  auto state = mpq::torch::bind(mpq::uhlich_training<>(p, o));
  auto& s = state->strategy();
  mpq::torch::QuantLinear layer(state, 1, torch::nn::LinearOptions(10, 4));
  {
    const auto w = layer->linear->weight.detach().contiguous();
    REQUIRE(s.try_init_weights(1, std::span<const float>(w.data_ptr<float>(), 40)).ok());
  }
  const auto x = torch::rand({6, 10}) * 2.0 - 0.2;
  const auto c = torch::randn({6, 4});
  auto w_hat = state->apply(1, operand::weights, layer->linear->weight);
  auto x_hat = state->apply(1, operand::activations, x);
  auto w_leaf = w_hat.detach().clone().requires_grad_(true);
  (torch::nn::functional::linear(x_hat.detach(), w_leaf, layer->linear->bias.detach()) * c).sum().backward();
  const auto G = w_leaf.grad().contiguous();  // ∂L/∂Ŵ
  (torch::nn::functional::linear(x_hat, w_hat, layer->linear->bias) * c).sum().backward();

  const std::size_t off = s.parameter_offset(1, operand::weights);
  const float d = s.parameters()[off];
  const auto q = *s.try_quantizer(1, operand::weights);
  const float q_eff = q.max_value();
  double gd = 0.0, gq = 0.0;
  const auto w = layer->linear->weight.detach().contiguous();
  const auto wh = w_hat.detach().contiguous();
  for (std::int64_t k = 0; k < 40; ++k) {
    const float wk = w.data_ptr<float>()[k], qk = wh.data_ptr<float>()[k], gk = G.data_ptr<float>()[k];
    if (std::fabs(wk) <= q_eff) {
      gd += static_cast<double>(gk) * (qk - wk) / d;  // ∂Q/∂d = 1_in (Q − x)/d
    } else {
      gq += static_cast<double>(gk) * (wk < 0.0f ? -1.0 : 1.0);  // ∂Q/∂q_max = 1_out sign(x)
    }
  }
  const auto grad = state->parameters().grad();
  CHECK(grad[static_cast<std::int64_t>(off)].item<double>() == doctest::Approx(gd).epsilon(1e-4));
  CHECK(grad[static_cast<std::int64_t>(off) + 1].item<double>() == doctest::Approx(gq).epsilon(1e-4));

  // The penalty: λ relu((S − S0)/8192)², gradient through the bit surrogate log2(q/d + 1) + 1.
  state->parameters().mutable_grad().zero_();
  auto r = state->regularizer();
  const double S = 4 * 10 * 32 + 40.0 * q.bits(), S0 = 4 * 10 * 32 + 40 * 2, e = (S - S0) / 8192.0;
  CHECK(r.item<double>() == doctest::Approx(3.0 * e * e));
  r.backward();
  const double d_eff = q.step(), denom = (q_eff + d_eff) * std::log(2.0);
  const double outer = 2.0 * 3.0 * e / 8192.0 * 40.0;
  CHECK(grad[static_cast<std::int64_t>(off)].item<double>() ==
        doctest::Approx(outer * (-q_eff / (denom * d))).epsilon(1e-4));
  CHECK(grad[static_cast<std::int64_t>(off) + 1].item<double>() == doctest::Approx(outer / denom).epsilon(1e-4));
}


TEST_CASE("torch state: the parameter tensor aliases the strategy; prepare_update applies its clipping") {
  const int bits[] = {2, 3, 4};
  auto state = mpq::torch::bind(mpq::limpq_training(two_layers(bits, bits, 5, 3)));
  auto& s = state->strategy();
  CHECK(state->parameters().data_ptr<float>() == s.parameters().data());
  state->parameters().mutable_grad() = torch::full({static_cast<std::int64_t>(s.parameter_count())}, 5.0f);
  state->prepare_update();
  CHECK(state->parameters().grad().max().item<float>() == 1.0f);
  torch::optim::SGD opt({state->parameters()}, torch::optim::SGDOptions(0.5));
  opt.step();
  CHECK(s.parameters()[0] == -0.5f);
  state->finish_update();
  CHECK(s.steps() == 1);
  CHECK_THROWS_AS((mpq::torch::QuantLinear(state, 7, torch::nn::LinearOptions(5, 3))), mpq::error);
}

