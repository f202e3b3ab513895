// The pipeline's LSQ network (fmnist_torch.hpp's QatNet) against the torch-free deployment
// (fmnist_deploy.hpp): a small random network exported through the model file, run on synthetic
// images. LibTorch's integer mode and the deployment must give bit-identical logits; fake
// quantization differs from them only by float rounding, so its predictions must agree.
#include "torch_doctest.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "fmnist_deploy.hpp"
#include "fmnist_model_file.hpp"
#include "fmnist_torch.hpp"

using namespace fmnist_e2e;

TEST_CASE("LibTorch's integer mode and the deployment agree bit for bit, fake quantization on predictions") {
  torch::manual_seed(5);
  constexpr std::int64_t n = 200;
  // Synthetic images: pixel values 0..255 with some structure (a bright square per image).
  torch::Tensor images = torch::randint(0, 40, {n, 1, side1, side1}, torch::kInt64);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t y = i % 18, x = (i * 7) % 18;
    images[i].narrow(1, y, 10).narrow(2, x, 10).fill_(128 + i % 128);
  }
  const torch::Tensor pixels_u8 = images.to(torch::kUInt8).contiguous();
  images = images.to(torch::kFloat32);

  for (const char* text : {"W2A8 W2A2 W2A2 W2A2 W2A2", "W4A8 W3A5 W6A2 W2A4 W8A3"}) {
    const std::string allocation = text;
    CAPTURE(allocation);
    Fp32Net fp;
    fp->eval();
    QatNet net(parse_bits(text));
    net->load_folded(fold_network(fp), images.narrow(0, 0, 64));
    net->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor fake = net->forward(images).contiguous();
    net->set_integer_inference(true);
    const torch::Tensor integer = net->forward(images).contiguous();
    net->set_integer_inference(false);

    const auto path = std::filesystem::temp_directory_path() /
                      ("mpq_test_torch_deploy_" + std::to_string(::getpid()) + "_" + bits_key(parse_bits(text)) + ".mpq");
    model exported;
    REQUIRE_NOTHROW(exported = export_model(net));  // every epilogue scale is s_w * s_a
    REQUIRE(try_save_model(exported, path.string()).ok());
    auto m = try_load_model(path.string());
    std::filesystem::remove(path);
    REQUIRE(m.has_value());
    auto dep = deployed_network::try_make(*m);
    REQUIRE(dep.has_value());
    std::vector<float> logits(static_cast<std::size_t>(n) * classes);
    REQUIRE(dep->try_run({pixels_u8.data_ptr<std::uint8_t>(), static_cast<std::size_t>(n * side1 * side1)},
                         static_cast<std::size_t>(n), logits, 2)
                .ok());

    CHECK(std::memcmp(logits.data(), integer.data_ptr<float>(), logits.size() * sizeof(float)) == 0);
    // The images get different logits (the codes reaching fc2 are not all the same).
    CHECK((integer - integer[0]).abs().amax().item<float>() > 0.0f);
    const torch::Tensor deployed = torch::from_blob(logits.data(), {n, classes}, torch::kFloat32);
    const auto agree = deployed.argmax(1).eq(fake.argmax(1)).sum().item<std::int64_t>();
    // Fake quantization sums float products in another order, so a value next to a rounding edge may
    // take the neighbouring code and move a near-tie of two logits: allow a few of 200.
    CAPTURE(agree);
    CHECK(agree >= n - 4);
  }
}

TEST_CASE("the QAT learning-rate groups: conv1's weight and weight steps apart, every trainable tensor once") {
  QatNet net(parse_bits("W4A8 W4A4 W4A4 W4A4 W4A4"));
  Fp32Net fp;
  fp->eval();
  net->load_folded(fold_network(fp), torch::rand({16, 1, side1, side1}) * 255.0);
  const auto groups = net->trainable_groups();
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].second == doctest::Approx(1.0 / 65025.0).epsilon(1e-12));
  CHECK(groups[1].second == 1.0);
  REQUIRE(groups[0].first.size() == 2);
  const auto& g0 = groups[0].first;
  CHECK(((g0[0].is_same(net->conv1->conv->weight) && g0[1].is_same(net->conv1->weight_step())) ||
         (g0[1].is_same(net->conv1->conv->weight) && g0[0].is_same(net->conv1->weight_step()))));
  const auto all = net->trainable();
  CHECK(groups[0].first.size() + groups[1].first.size() == all.size());
  for (const auto& t : all) {
    int seen = 0;
    for (const auto& g : groups)
      for (const auto& u : g.first) seen += u.is_same(t) ? 1 : 0;
    CHECK(seen == 1);
  }
  for (const auto& u : groups[1].first) CHECK_FALSE(u.is_same(net->conv1->activation_step()));  // fixed, not trained
}
