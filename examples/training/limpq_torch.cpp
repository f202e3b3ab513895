// LIMPQ with LibTorch: train one LSQ step per bit width jointly (uniform passes plus one random
// policy per batch, switchable batch norm), read the steps as indicators, solve the ILP.
#include <torch/torch.h>

#include <cstdio>

#include "fmnist_cnn.hpp"
#include "mpq/adapters/torch.hpp"
#include "mpq/cost/bitops.hpp"
#include "mpq/search/training/limpq.hpp"
#include "report.hpp"

int main() {
  using namespace training_example;
  torch::manual_seed(0);
  const auto train = load_fmnist(4096);
  const int bits[] = {2, 3, 4, 5, 6};
  mpq::problem p = cnn_problem(bits, bits, {8, 8}, {8, 8});
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));

  auto state = mpq::torch::bind(mpq::limpq_training(p));
  auto& s = state->strategy();
  Cnn net(state, s.widths().size());  // one batch norm per width (switchable BN)
  torch::optim::SGD weights(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  torch::optim::SGD steps({state->parameters()}, torch::optim::SGDOptions(0.01));

  for (std::int64_t batch = 0; batch < 60; ++batch) {
    const auto [x, y] = batch_of(train, batch, 64);
    weights.zero_grad();
    steps.zero_grad();
    for (std::size_t k = 0; k < s.pass_count(); ++k) {  // 6, 5, 4, 3, 2 bits, then a random policy
      mpq::throw_if_error(s.try_begin_pass(k));
      for (std::size_t l = 0; l < 3; ++l) net->bn_choice[l] = s.is_searched(l) ? s.current_bit_index(l) : 0;
      torch::nn::functional::cross_entropy(net->forward(x), y).backward();  // gradients accumulate
    }
    for (auto& t : net->parameters())
      if (t.grad().defined()) t.grad().clamp_(-1.0, 1.0);  // LIMPQ clips every gradient to ±1
    state->prepare_update();                                // ... the steps' too
    weights.step();
    steps.step();
    state->finish_update();
  }
  const auto ind = s.try_indicators().value();
  for (std::size_t l = 1; l < 3; ++l) {
    std::printf("%s indicators (weights / activations):", p.layer(l).name.c_str());
    for (int b : bits)
      std::printf(" %d:%.4f/%.4f", b, ind.indicator(l, mpq::operand::weights, b), ind.indicator(l, mpq::operand::activations, b));
    std::printf("\n");
  }
  print_allocation(p, state->derive());
  std::printf("limpq_torch: ok\n");
  return 0;
}
