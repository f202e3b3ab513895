// The LibTorch adapter's LSQ side: lsq_fake_quantize against algorithms.md's worked values and
// LibTorch's autograd on the same math; the LSQ layers' integer mode against mpq's reference kernels.
#include "torch_doctest.hpp"
#include "torch_test_util.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "mpq/adapters/torch/lsq.hpp"
#include "mpq/kernel/reference.hpp"
#include "mpq/packed/tensor.hpp"

namespace {

using mpq_torch_test::bitwise_equal;
using mpq_torch_test::check_close;

// LSQ in plain LibTorch ops (LSQ's reference formulation): gradient-scaled step, STE round.
torch::Tensor lsq_torch(const torch::Tensor& x, const torch::Tensor& s, double qn, double qp, double g) {
  const auto ss = s * g + (s - s * g).detach();
  const auto v = torch::clamp(x / ss, -qn, qp);
  return (v + (torch::round(v) - v).detach()) * ss;
}

}  // namespace

TEST_CASE("torch lsq_fake_quantize: algorithms.md's worked values and the closed-form gradients") {
  auto x = torch::tensor({0.234f, 1.0f}).requires_grad_(true);
  auto s = torch::tensor({0.1f}).requires_grad_(true);
  auto y = mpq::torch::lsq_fake_quantize(x, s, 4, mpq::signed_codes);
  const auto q = mpq::lsq_quantizer<>(4, mpq::signed_codes, 0.1f);
  CHECK(y[0].item<float>() == q.fake_quantize(0.234f));
  CHECK(y[1].item<float>() == q.fake_quantize(1.0f));
  CHECK(y[0].item<float>() == doctest::Approx(0.2));
  CHECK(y[1].item<float>() == doctest::Approx(0.7));
  y.sum().backward();
  CHECK(x.grad()[0].item<float>() == 1.0f);
  CHECK(x.grad()[1].item<float>() == 0.0f);  // saturated
  const double g = 1.0 / std::sqrt(7.0 * 2.0);
  CHECK(s.grad()[0].item<float>() == doctest::Approx((-0.34 + 7.0) * g).epsilon(1e-4));
}


TEST_CASE("torch lsq_fake_quantize equals LibTorch's autograd on the same math (per tensor, per channel)") {
  torch::manual_seed(1);
  for (bool per_channel : {false, true}) {
    for (int bits : {2, 4, 8}) {
      const auto w0 = torch::randn({4, 3, 3, 3}) * 0.3;
      const auto s0 = per_channel ? torch::tensor({0.05f, 0.1f, 0.07f, 0.2f}) : torch::tensor({0.08f});
      auto w = w0.clone().requires_grad_(true), s = s0.clone().requires_grad_(true);
      auto y = mpq::torch::lsq_fake_quantize(w, s, bits, mpq::signed_codes);
      const auto c = torch::randn(y.sizes());
      (y * c).sum().backward();

      const double qn = std::ldexp(1.0, bits - 1), qp = qn - 1.0;
      auto w2 = w0.clone().requires_grad_(true), s2 = s0.clone().requires_grad_(true);
      torch::Tensor y2;
      if (per_channel) {
        std::vector<torch::Tensor> parts;
        for (int ch = 0; ch < 4; ++ch)
          parts.push_back(lsq_torch(w2[ch], s2.narrow(0, ch, 1), qn, qp, 1.0 / std::sqrt(qp * 27.0)));
        y2 = torch::stack(parts);
      } else {
        y2 = lsq_torch(w2, s2, qn, qp, 1.0 / std::sqrt(qp * 108.0));
      }
      (y2 * c).sum().backward();
      // (s·g + (s − s·g)) is s only up to rounding, so the values agree to float precision.
      check_close(y.detach(), y2.detach(), 1e-5, 1e-6);
      check_close(w.grad(), w2.grad());
      check_close(s.grad(), s2.grad(), 1e-4, 1e-6);
    }
  }
  // Unsigned (activations): negative inputs clamp to 0 with no gradient.
  auto x = (torch::randn({64}) + 0.5).requires_grad_(true);
  auto s = torch::tensor({0.1f}).requires_grad_(true);
  mpq::torch::lsq_fake_quantize(x, s, 3, mpq::unsigned_codes).sum().backward();
  auto x2 = x.detach().clone().requires_grad_(true), s2 = s.detach().clone().requires_grad_(true);
  lsq_torch(x2, s2, 0.0, 7.0, 1.0 / std::sqrt(7.0 * 64.0)).sum().backward();
  check_close(x.grad(), x2.grad());
  check_close(s.grad(), s2.grad(), 1e-4, 1e-6);
  CHECK_THROWS_AS((mpq::torch::lsq_fake_quantize(x.to(torch::kFloat64), s, 3, mpq::unsigned_codes)), mpq::error);
}


namespace {

// im2col of integer codes for a stride-1 conv with zero padding: rows = (image, oh, ow), columns in
// the weight's (c, kh, kw) order.
template <int A>
mpq::packed_tensor<A, mpq::unsigned_codes> im2col_codes(const torch::Tensor& codes, int k, int pad) {
  const auto n = codes.size(0), c = codes.size(1), h = codes.size(2), w = codes.size(3);
  const auto oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
  mpq::packed_tensor<A, mpq::unsigned_codes> t(static_cast<std::size_t>(n * oh * ow), static_cast<std::size_t>(c * k * k));
  const auto a = codes.accessor<std::int32_t, 4>();
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t y = 0; y < oh; ++y)
      for (std::int64_t x = 0; x < ow; ++x)
        for (std::int64_t ch = 0; ch < c; ++ch)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const auto yy = y + ky - pad, xx = x + kx - pad;
              const std::int32_t v = (yy < 0 || yy >= h || xx < 0 || xx >= w) ? 0 : a[i][ch][yy][xx];
              t(static_cast<std::size_t>((i * oh + y) * ow + x), static_cast<std::size_t>((ch * k + ky) * k + kx)) = v;
            }
  return t;
}

template <int W>
mpq::packed_tensor<W, mpq::signed_codes> weight_codes(const mpq::torch::deployed_layer& d) {
  const auto wc = d.weight_codes.reshape({d.weight_codes.size(0), -1}).contiguous();
  mpq::packed_tensor<W, mpq::signed_codes> t(static_cast<std::size_t>(wc.size(0)), static_cast<std::size_t>(wc.size(1)));
  for (std::int64_t i = 0; i < wc.size(0); ++i)
    for (std::int64_t j = 0; j < wc.size(1); ++j)
      t(static_cast<std::size_t>(i), static_cast<std::size_t>(j)) = wc[i][j].item<std::int8_t>();
  return t;
}

torch::Tensor input_codes(const torch::Tensor& x, const mpq::kernel::requantization& rq) {
  const auto xc = x.contiguous();
  auto codes = torch::empty(xc.sizes(), torch::kInt32);
  for (std::int64_t i = 0; i < xc.numel(); ++i)
    codes.data_ptr<std::int32_t>()[i] = mpq::kernel::requantize_output(xc.data_ptr<float>()[i], rq);
  return codes;
}

}  // namespace

TEST_CASE("torch LsqLinear integer mode reproduces mpq's reference gemm + epilogue bit for bit") {
  torch::manual_seed(5);
  mpq::torch::lsq_layer_options lo;
  lo.weight_bits = 4;
  lo.activation_bits = 5;
  lo.per_channel_weights = true;
  mpq::torch::LsqLinear lin(torch::nn::LinearOptions(37, 11), lo);
  const auto x = torch::randn({9, 37}) * 1.5;
  torch::NoGradGuard no_grad;
  const auto fake = lin(x);  // initialises the steps
  lin->weight_step().mul_(torch::rand({11}) + 0.5);  // steps that are not just the initialisation
  lin->activation_step().mul_(1.3);
  const auto fake2 = lin(x);
  lin->set_integer_inference(true);
  const auto v = lin(x);
  const auto d = lin->export_deployment();
  const auto w = weight_codes<4>(d);
  const auto a_codes = input_codes(x, d.input_requantization()).contiguous();
  mpq::packed_tensor<5, mpq::unsigned_codes> a(9, 37);
  for (std::size_t i = 0; i < 9; ++i)
    for (std::size_t j = 0; j < 37; ++j) a(i, j) = a_codes.data_ptr<std::int32_t>()[i * 37 + j];
  std::vector<float> ref(9 * 11);
  REQUIRE(mpq::kernel::try_reference_gemm(a.view(), w.view(), d.dequantization(), std::span<float>(ref), 11).ok());
  CHECK(bitwise_equal(v, torch::from_blob(ref.data(), {9, 11}).clone()));
  // The integer mode and the fake-quantized forward agree up to float rounding.
  check_close(v, fake2, 1e-4, 1e-4);
  CHECK(!bitwise_equal(fake, fake2));
}

TEST_CASE("torch LsqConv2d integer mode and a requantized two-layer chain match the reference kernels") {
  torch::manual_seed(6);
  mpq::torch::lsq_layer_options l1;
  l1.weight_bits = 3;
  l1.activation_bits = 8;
  mpq::torch::LsqConv2d conv(torch::nn::Conv2dOptions(3, 6, 3).padding(1), l1);
  mpq::torch::lsq_layer_options l2;
  l2.weight_bits = 2;
  l2.activation_bits = 4;
  mpq::torch::LsqLinear lin(torch::nn::LinearOptions(6 * 5 * 5, 7), l2);
  const auto x = torch::rand({2, 3, 5, 5});
  torch::NoGradGuard no_grad;
  lin(conv(x).flatten(1));  // initialise both from data
  conv->set_integer_inference(true);
  lin->set_integer_inference(true);
  const auto v1 = conv(x);
  const auto v2 = lin(v1.flatten(1));

  const auto d1 = conv->export_deployment();
  const auto d2 = lin->export_deployment();
  const auto a1 = im2col_codes<8>(input_codes(x, d1.input_requantization()), 3, 1);
  const auto w1 = weight_codes<3>(d1);
  std::vector<float> y1(50 * 6);
  REQUIRE(mpq::kernel::try_reference_gemm(a1.view(), w1.view(), d1.dequantization(), std::span<float>(y1), 6).ok());
  // The reference's rows are (image, oh, ow) and its columns output channels: compare as NHWC.
  const auto ref1 = torch::from_blob(y1.data(), {2, 5, 5, 6}).permute({0, 3, 1, 2}).contiguous();
  CHECK(bitwise_equal(v1, ref1));
  // The fused requantization gives the codes the second layer's integer mode computes from v1.
  mpq::packed_tensor<4, mpq::unsigned_codes> codes2(50, 6);
  REQUIRE(mpq::kernel::try_reference_gemm(a1.view(), w1.view(), d1.dequantization(), d2.input_requantization(),
                                          codes2.span())
              .ok());
  const auto expect_codes = input_codes(v1, d2.input_requantization());
  for (std::size_t m = 0; m < 50; ++m)
    for (std::size_t n = 0; n < 6; ++n) {
      const auto img = static_cast<std::int64_t>(m / 25), pos = static_cast<std::int64_t>(m % 25);
      CHECK(codes2(m, n) == expect_codes[img][static_cast<std::int64_t>(n)][pos / 5][pos % 5].item<std::int32_t>());
    }
  // Second layer: its input codes are the requantized first-layer outputs, in NCHW flatten order.
  const auto flat = expect_codes.flatten(1).contiguous();
  mpq::packed_tensor<4, mpq::unsigned_codes> a2(2, 150);
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 150; ++j) a2(i, j) = flat.data_ptr<std::int32_t>()[i * 150 + j];
  const auto w2 = weight_codes<2>(d2);
  std::vector<float> y2(2 * 7);
  REQUIRE(mpq::kernel::try_reference_gemm(a2.view(), w2.view(), d2.dequantization(), std::span<float>(y2), 7).ok());
  CHECK(bitwise_equal(v2, torch::from_blob(y2.data(), {2, 7}).clone()));
}

TEST_CASE("torch LSQ layers: bits changes keep the clipping range; float widths have no integer mode") {
  mpq::torch::lsq_layer_options lo;
  lo.weight_bits = 4;
  lo.activation_bits = 4;
  mpq::torch::LsqLinear lin(torch::nn::LinearOptions(8, 3), lo);
  torch::NoGradGuard no_grad;
  lin(torch::rand({4, 8}));
  const float sw = lin->weight_step().item<float>(), sa = lin->activation_step().item<float>();
  lin->set_bits(2, 8);
  CHECK(lin->weight_step().item<float>() == doctest::Approx(sw * 15.0 / 3.0));
  CHECK(lin->activation_step().item<float>() == doctest::Approx(sa * 15.0 / 255.0));
  lin->set_bits(32, 8);
  lin->set_integer_inference(true);
  CHECK_THROWS_AS(lin(torch::rand({4, 8})), mpq::error);
  CHECK_THROWS_AS(lin->set_bits(1, 4), mpq::error);
}
