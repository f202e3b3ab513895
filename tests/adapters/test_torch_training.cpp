// Short real training runs of every training strategy through the LibTorch adapter: a small CNN on
// the first Fashion-MNIST training images, a few hundred steps each (seconds on 2 cores).
#include "torch_doctest.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "fmnist_cnn.hpp"
#include "mpq/cost/bitops.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/search/training/edmips.hpp"
#include "mpq/search/training/guo.hpp"
#include "mpq/search/training/limpq.hpp"
#include "mpq/search/training/qbitopt.hpp"
#include "mpq/search/training/uhlich.hpp"

namespace {

using training_example::Cnn;
using training_example::fmnist_tensors;

const fmnist_tensors& data() {
  static const fmnist_tensors d = training_example::load_fmnist(4096);
  return d;
}

// One training step: task loss + the strategy's own term, the strategy's hooks around both
// optimizers' steps. Returns the loss.
double step(Cnn& net, mpq::torch::training_state& state, torch::optim::Optimizer& weights,
            torch::optim::Optimizer& strategy, std::int64_t b) {
  weights.zero_grad();
  strategy.zero_grad();
  const auto [x, y] = training_example::batch_of(data(), b, 64);
  auto loss = torch::nn::functional::cross_entropy(net->forward(x), y) + state.regularizer();
  loss.backward();
  state.prepare_update();
  weights.step();
  strategy.step();
  state.finish_update();
  return loss.item<double>();
}

torch::optim::SGD weight_optimizer(Cnn& net) {
  return torch::optim::SGD(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
}

bool within(const mpq::problem& p, const std::vector<mpq::bit_pair>& bits) {
  for (std::size_t c = 0; c < p.constraint_count(); ++c)
    if (!p.within_budget(c, p.cost(c, bits))) return false;
  return true;
}

}  // namespace

TEST_CASE("torch training: EdMIPS's expected BitOps moves under its target as eta grows") {
  torch::manual_seed(10);
  const int wb[] = {1, 2, 3, 4}, ab[] = {2, 3, 4};
  mpq::problem p = training_example::cnn_problem(wb, ab, {8, 8}, {8, 8});
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(2, 3));
  const double target = p.raw_budget(0);
  std::vector<double> expected;
  for (double eta : {0.0, 0.01, 0.1}) {
    mpq::edmips_options o;
    o.eta = eta;
    auto state = mpq::torch::bind(mpq::edmips_training(p, o));
    Cnn net(state);
    auto opt = weight_optimizer(net);
    torch::optim::SGD arch({state->parameters()}, torch::optim::SGDOptions(0.1).momentum(0.9));
    for (int s = 0; s < 100; ++s) step(net, *state, opt, arch, s);
    expected.push_back(state->strategy().expected_bitops());
    MESSAGE("eta " << eta << ": expected BitOps " << expected.back() << " (target " << target << "), accuracy "
                   << training_example::accuracy(net, data()));
    if (eta == 0.1) {
      const auto r = state->derive();  // the argmax bits meet the budget
      CHECK(within(p, r.bits));
    }
  }
  CHECK(expected[0] > target);
  CHECK(expected[1] < expected[0]);
  CHECK(expected[2] < expected[1]);
  CHECK(expected[2] < target);
}

TEST_CASE("torch training: Uhlich's memory penalty drives the model inside its weight budget") {
  const int wb[] = {2, 3, 4, 5, 6, 7, 8}, ab[] = {1, 2, 3, 4, 5, 6, 7, 8};
  mpq::problem p = training_example::cnn_problem(wb, ab, {8, 8}, {8, 8});
  p.add_constraint(mpq::weight_size{}, mpq::budget::uniform(2, 8));
  const auto validation = training_example::load_fmnist(1000, "t10k");
  std::vector<int> feasible;
  for (double lambda : {0.0, 1.0}) {
    torch::manual_seed(11);
    mpq::uhlich_options<mpq::u3_quantizer> o;
    o.lambda_weights = lambda;  // S in KB (Sony's unit)
    auto state = mpq::torch::bind(mpq::uhlich_training<>(p, o));
    Cnn net(state);
    auto& s = state->strategy();
    for (std::size_t l = 1; l < 3; ++l) {
      auto& conv = l == 1 ? net->c2 : net->c3;
      const auto w = conv->conv->weight.detach().contiguous();
      REQUIRE(s.try_init_weights(l, std::span<const float>(w.data_ptr<float>(), static_cast<std::size_t>(w.numel()))).ok());
    }
    const double start = s.constraint_use(0);
    CHECK(!s.meets_constraints());  // 4-bit start, 2-bit budget
    auto opt = weight_optimizer(net);
    torch::optim::SGD quant({state->parameters()}, torch::optim::SGDOptions(0.1));
    int kept = 0, inside = 0;
    for (int b = 0; b < 200; ++b) {
      step(net, *state, opt, quant, b);
      inside += s.meets_constraints() ? 1 : 0;
      // Model selection: offer the state every 10 steps; only states within the budget are kept.
      if (b % 10 == 9 && s.meets_constraints() && *s.try_offer_checkpoint(training_example::accuracy(net, validation)))
        ++kept;
    }
    feasible.push_back(inside);
    MESSAGE("lambda " << lambda << ": weight memory " << start << " -> " << s.constraint_use(0) << " bits (budget "
                      << p.raw_budget(0) << "), within the budget for " << inside << " of 200 steps, " << kept
                      << " checkpoints kept");
    if (lambda > 0.0) {
      CHECK(s.constraint_use(0) < start);
      CHECK(kept >= 1);
      const auto r = state->derive();  // the best checkpoint within the budget
      CHECK(r.constraints[0].use <= r.constraints[0].budget);
    }
  }
  CHECK(feasible[1] >= 50);
  CHECK(feasible[1] > feasible[0]);
}

TEST_CASE("torch training: every allocation QBitOpt emits meets the BitOps budget") {
  torch::manual_seed(12);
  const int bits[] = {2, 3, 4, 5, 6, 7, 8};
  mpq::problem p = training_example::cnn_problem(bits, bits, {8, 8}, {8, 8});
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(3, 3));
  mpq::qbitopt_options o;
  o.total_steps = 200;
  o.resolve_every = 25;
  auto state = mpq::torch::bind(mpq::qbitopt_training<>(p, o));
  Cnn net(state);
  auto opt = weight_optimizer(net);
  torch::optim::SGD steps({state->parameters()}, torch::optim::SGDOptions(0.01));
  for (int b = 0; b < 200; ++b) step(net, *state, opt, steps, b);
  const auto& h = state->strategy().history();
  MESSAGE(h.size() << " allocations; last conv2 W" << h.back()[1].w << "A" << h.back()[1].a << " conv3 W"
                   << h.back()[2].w << "A" << h.back()[2].a << ", accuracy " << training_example::accuracy(net, data()));
  CHECK(h.size() == 1 + 5);  // re-solves at steps 25, 50, ..., 125; frozen from step 150
  for (const auto& a : h) CHECK(within(p, a));
  const auto r = state->derive();
  CHECK(r.constraints[0].use <= r.constraints[0].budget);
  CHECK(state->strategy().frozen());
}

TEST_CASE("torch training: LIMPQ's learned indicators decrease with bits") {
  torch::manual_seed(13);
  const int bits[] = {2, 3, 4, 5, 6};
  mpq::problem p = training_example::cnn_problem(bits, bits, {8, 8}, {8, 8});
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));
  auto state = mpq::torch::bind(mpq::limpq_training(p));
  auto& s = state->strategy();
  Cnn net(state, s.widths().size());
  auto opt = weight_optimizer(net);
  torch::optim::SGD steps({state->parameters()}, torch::optim::SGDOptions(0.01));
  std::vector<float> initial;
  for (int b = 0; b < 60; ++b) {
    opt.zero_grad();
    steps.zero_grad();
    const auto [x, y] = training_example::batch_of(data(), b, 64);
    for (std::size_t k = 0; k < s.pass_count(); ++k) {  // every uniform width, then one random policy
      REQUIRE(s.try_begin_pass(k).ok());
      for (std::size_t l = 0; l < 3; ++l) net->bn_choice[l] = s.is_searched(l) ? s.current_bit_index(l) : 0;
      torch::nn::functional::cross_entropy(net->forward(x), y).backward();
    }
    if (b == 0) initial.assign(s.parameters().begin(), s.parameters().end());  // initialised by the passes
    for (auto& t : net->parameters())
      if (t.grad().defined()) t.grad().clamp_(-1.0, 1.0);  // LIMPQ clips the network's gradients too
    state->prepare_update();
    opt.step();
    steps.step();
    state->finish_update();
  }
  double moved = 0.0;  // the largest relative change of a step during training
  for (std::size_t i = 0; i < initial.size(); ++i)
    moved = std::max(moved, std::fabs(s.parameters()[i] - initial[i]) / static_cast<double>(initial[i]));
  MESSAGE("largest relative change of a learned step: " << moved);
  CHECK(moved > 0.05);
  for (std::size_t l = 1; l < 3; ++l)
    for (mpq::operand which : {mpq::operand::weights, mpq::operand::activations}) {
      std::string line;
      for (int b : bits) {
        line += " " + std::to_string(s.step(l, which, b));
        if (b > 2) CHECK(s.step(l, which, b) < s.step(l, which, b - 1));
      }
      MESSAGE("layer " << l << std::string(which == mpq::operand::weights ? " weights" : " activations") << ":" << line);
    }
  const auto r = state->derive();
  CHECK(r.constraints[0].use <= r.constraints[0].budget);
}

TEST_CASE("torch training: Guo's size penalty lowers the expected weight size") {
  torch::manual_seed(14);
  const int wb[] = {1, 2, 4, 8}, ab[] = {32};
  mpq::problem p = training_example::cnn_problem(wb, ab, {32, 32}, {32, 32});
  std::vector<double> size;
  for (double lambda : {0.0, 20.0}) {
    mpq::guo_softmax_options o;
    o.lambda = lambda;
    auto state = mpq::torch::bind(mpq::guo_softmax_training(p, o));
    Cnn net(state);
    auto opt = weight_optimizer(net);
    torch::optim::SGD arch({state->parameters()}, torch::optim::SGDOptions(0.1).momentum(0.9));
    for (int b = 0; b < 100; ++b) step(net, *state, opt, arch, b);
    size.push_back(state->strategy().expected_size_bits());
  }
  MESSAGE("expected weight size: lambda 0 -> " << size[0] << " bits, lambda 20 -> " << size[1] << " bits");
  CHECK(size[1] < size[0]);
}
