// EdMIPS with LibTorch: a small CNN whose searched layers are EdMIPS composite convolutions learns
// weight and activation bit distributions under a BitOps budget; the argmax bits are the result.
#include <torch/torch.h>

#include <cstdio>

#include "fmnist_cnn.hpp"
#include "mpq/adapters/torch.hpp"
#include "mpq/cost/bitops.hpp"
#include "mpq/search/training/edmips.hpp"
#include "report.hpp"

int main() {
  using namespace training_example;
  torch::manual_seed(0);
  const auto train = load_fmnist(4096), test = load_fmnist(1000, "t10k");

  // conv1 and fc stay at 8 bits; conv2 and conv3 choose W in {1..4} and A in {2, 3, 4}.
  const int w_bits[] = {1, 2, 3, 4}, a_bits[] = {2, 3, 4};
  mpq::problem p = cnn_problem(w_bits, a_bits, {8, 8}, {8, 8});
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(2, 3));

  mpq::edmips_options o;
  o.eta = 0.01;  // complexity decay: raise it until the argmax bits meet the budget
  auto state = mpq::torch::bind(mpq::edmips_training(p, o));
  Cnn net(state);  // every layer a mpq::torch::QuantConv2d / QuantLinear bound to `state`
  torch::optim::SGD weights(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  torch::optim::SGD arch({state->parameters()}, torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4));

  for (std::int64_t step = 0; step < 150; ++step) {
    const auto [x, y] = batch_of(train, step, 64);
    weights.zero_grad();
    arch.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y) + state->regularizer();  // CE + η·C
    loss.backward();
    state->prepare_update();
    weights.step();
    arch.step();
    state->finish_update();
    if (step % 50 == 49)
      std::printf("step %lld: loss %.3f, expected BitOps %.4g (budget %.4g)\n", static_cast<long long>(step + 1),
                  loss.item<double>(), state->strategy().expected_bitops(), p.raw_budget(0));
  }
  print_allocation(p, state->derive());
  std::printf("test accuracy of the searched network: %.3f\n", accuracy(net, test));
  std::printf("edmips_torch: ok\n");
  return 0;
}
