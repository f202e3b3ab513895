// QBitOpt with LibTorch (algorithms.md §5, an UNVERIFIED reconstruction): LSQ quantization-aware
// training of a small CNN whose bits are re-solved from Fisher sensitivities every T steps.
#include <torch/torch.h>

#include <cstdio>

#include "fmnist_cnn.hpp"
#include "mpq/adapters/torch.hpp"
#include "mpq/cost/bitops.hpp"
#include "mpq/search/training/qbitopt.hpp"
#include "report.hpp"

int main() {
  using namespace training_example;
  torch::manual_seed(0);
  const auto train = load_fmnist(4096), test = load_fmnist(1000, "t10k");
  const int bits[] = {2, 3, 4, 5, 6, 7, 8};
  mpq::problem p = cnn_problem(bits, bits, {8, 8}, {8, 8});
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(3, 3));

  mpq::qbitopt_options o;
  o.total_steps = 200;
  o.resolve_every = 25;  // T
  auto state = mpq::torch::bind(mpq::qbitopt_training<>(p, o));
  Cnn net(state);
  torch::optim::SGD weights(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  torch::optim::SGD steps({state->parameters()}, torch::optim::SGDOptions(0.01));

  for (std::int64_t step = 0; step < 200; ++step) {
    const auto [x, y] = batch_of(train, step, 64);
    weights.zero_grad();
    steps.zero_grad();
    torch::nn::functional::cross_entropy(net->forward(x), y).backward();  // also feeds the Fisher EMAs
    state->prepare_update();
    weights.step();
    steps.step();
    state->finish_update();  // every T steps before the freeze: re-solve within the budget
  }
  for (const auto& a : state->strategy().history())
    std::printf("allocation: conv2 W%dA%d conv3 W%dA%d\n", a[1].w, a[1].a, a[2].w, a[2].a);
  print_allocation(p, state->derive());
  std::printf("test accuracy: %.3f\n", accuracy(net, test));
  std::printf("qbitopt_torch: ok\n");
  return 0;
}
