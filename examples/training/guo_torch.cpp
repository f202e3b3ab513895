// Guo et al. with LibTorch (both readings of algorithms.md §6, UNVERIFIED): weight bit widths relaxed
// to a softmax over widths (A) or to a real width interpolating two quantizers (B), under a size penalty.
#include <torch/torch.h>

#include <cstdio>

#include "fmnist_cnn.hpp"
#include "mpq/adapters/torch.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/search/training/guo.hpp"
#include "report.hpp"

namespace {

// The loop is the same for any bound strategy.
void train_run(training_example::Cnn& net, mpq::torch::training_state& state, const training_example::fmnist_tensors& d,
               double strategy_lr) {
  torch::optim::SGD weights(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  torch::optim::SGD relaxed({state.parameters()}, torch::optim::SGDOptions(strategy_lr).momentum(0.9));
  for (std::int64_t step = 0; step < 150; ++step) {
    const auto [x, y] = training_example::batch_of(d, step, 64);
    weights.zero_grad();
    relaxed.zero_grad();
    (torch::nn::functional::cross_entropy(net->forward(x), y) + state.regularizer()).backward();
    state.prepare_update();
    weights.step();
    relaxed.step();
    state.finish_update();  // reading B: β back into [b_min, b_max]
  }
}

}  // namespace

int main() {
  using namespace training_example;
  torch::manual_seed(0);
  const auto train = load_fmnist(4096), test = load_fmnist(1000, "t10k");
  // conv2 and conv3 learn weight widths 2..6 (consecutive, for reading B); inputs stay float.
  const int w_bits[] = {2, 3, 4, 5, 6}, a_bits[] = {32};
  mpq::problem p = cnn_problem(w_bits, a_bits, {8, 32}, {8, 32});
  p.add_constraint(mpq::weight_size{}, mpq::budget::uniform(4, 32));

  {
    mpq::guo_softmax_options o;
    o.lambda = 10.0;
    auto state = mpq::torch::bind(mpq::guo_softmax_training(p, o));
    Cnn net(state);
    train_run(net, *state, train, 0.1);
    print_allocation(p, state->derive());
    std::printf("reading A test accuracy: %.3f\n", accuracy(net, test));
  }
  {
    mpq::guo_interpolation_options o;
    o.lambda = 10.0;
    auto state = mpq::torch::bind(mpq::guo_interpolation_training(p, o));
    Cnn net(state);
    train_run(net, *state, train, 0.5);
    std::printf("beta conv2 %.2f conv3 %.2f\n", state->strategy().real_bits(1), state->strategy().real_bits(2));
    print_allocation(p, state->derive());
    std::printf("reading B test accuracy: %.3f\n", accuracy(net, test));
  }
  std::printf("guo_torch: ok\n");
  return 0;
}
