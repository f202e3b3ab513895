// Guo et al.'s relaxations without any framework (both readings of algorithms.md §6, UNVERIFIED): a
// hand-written perceptron learns weight bit widths under a weight-size penalty, then rounds them.
#include <cstdio>

#include "mpq/cost/weight_size.hpp"
#include "mpq/search/training/guo.hpp"
#include "plain_mlp.hpp"
#include "report.hpp"

namespace {

// One training run of either reading: the loop is the same for every TrainingStrategy.
template <class Strategy>
void train_run(training_example::plain_mlp& net, Strategy& s, const training_example::plain_data& train,
           float strategy_lr) {
  mpq::sgd_optimizer opt({strategy_lr, 0.9f, 0.0f});
  for (std::size_t step = 0; step < 300; ++step) {
    const auto [x, y] = training_example::plain_batch(train, step, 32);
    net.zero_gradients();
    s.zero_gradients();
    net.forward(s, x, 32);
    net.backward(s, y);
    s.add_regularizer_gradients();  // λ ∂(size)/∂θ
    s.prepare_update();
    net.sgd_step({0.05f, 0.9f, 0.0f});
    opt.step(s.parameters(), s.gradients());
    s.finish_update();              // reading B: β projected back into [b_min, b_max]
  }
}

}  // namespace

int main() {
  using namespace training_example;
  const plain_data train = load_plain(4096), test = load_plain(1000, "t10k");

  // Weights of fc2 and fc3 searched over 2..6 bits (consecutive: reading B interpolates them);
  // every input is 8-bit (Guo et al. learn weight bits only); fc1 and fc4 fixed at W8.
  const int w_bits[] = {2, 3, 4, 5, 6}, a_bits[] = {8};
  auto make_problem = [&](const plain_mlp& net) {
    mpq::problem p = mlp_problem(net, w_bits, a_bits);
    p.add_constraint(mpq::weight_size{}, mpq::budget::uniform(4, 8));
    return p;
  };

  {  // Reading A: softmax over the widths, expected-size penalty, argmax.
    plain_mlp net({784, 64, 32, 16, 10});
    const mpq::problem p = make_problem(net);
    mpq::guo_softmax_options o;
    o.lambda = 50.0;  // the size is normalised by the fp32 size of the whole network
    mpq::guo_softmax_training s(p, o);
    train_run(net, s, train, 0.1f);
    std::printf("reading A: expected weight size %.0f bits\n", s.expected_size_bits());
    print_allocation(p, s.derive());
    std::printf("test accuracy (mixtures): %.3f\n", net.accuracy(s, test));
  }
  {  // Reading B: a real bit width per layer interpolating the floor and ceil quantizers.
    plain_mlp net({784, 64, 32, 16, 10});
    const mpq::problem p = make_problem(net);
    mpq::guo_interpolation_options o;
    o.lambda = 50.0;
    mpq::guo_interpolation_training s(p, o);
    train_run(net, s, train, 0.5f);
    std::printf("reading B: beta fc2 %.2f fc3 %.2f\n", s.real_bits(1), s.real_bits(2));
    print_allocation(p, s.derive());
    std::printf("test accuracy (interpolated): %.3f\n", net.accuracy(s, test));
  }
  std::printf("guo_plain: ok\n");
  return 0;
}
