// EdMIPS without any framework: a hand-written perceptron on Fashion-MNIST learns per-layer weight
// and activation bit distributions under a BitOps budget, then takes the argmax bits.
#include <cstdio>

#include "mpq/cost/bitops.hpp"
#include "mpq/search/training/edmips.hpp"
#include "plain_mlp.hpp"
#include "report.hpp"

int main() {
  using namespace training_example;
  const plain_data train = load_plain(4096), test = load_plain(1000, "t10k");
  plain_mlp net({784, 64, 32, 16, 10});

  // The problem: fc1 and fc4 stay at 8 bits; fc2, fc3 choose W in {1..4} and A in {2, 3, 4}.
  const int w_bits[] = {1, 2, 3, 4}, a_bits[] = {2, 3, 4};
  mpq::problem p = mlp_problem(net, w_bits, a_bits);  // fc1 and fc4 fixed at W8A8
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(2, 3));

  mpq::edmips_options o;
  o.eta = 0.01;  // the complexity decay: raise it until the bits meet the budget
  mpq::edmips_training s(p, o);
  mpq::sgd_optimizer arch({0.1f, 0.9f, 1e-4f});  // α, β: their own optimizer (EdMIPS: SGD, momentum)

  for (std::size_t step = 0; step < 300; ++step) {
    const auto [x, y] = plain_batch(train, step, 32);
    net.zero_gradients();
    s.zero_gradients();
    net.forward(s, x, 32);                 // mixtures of quantized weights and inputs
    const double loss = net.backward(s, y) + s.regularizer();
    s.add_regularizer_gradients();         // + η ∂C/∂(α, β)
    s.prepare_update();
    net.sgd_step({0.05f, 0.9f, 0.0f});
    arch.step(s.parameters(), s.gradients());
    s.finish_update();
    if (step % 100 == 99)
      std::printf("step %zu: loss %.3f, expected BitOps %.4g (budget %.4g)\n", step + 1, loss, s.expected_bitops(),
                  p.raw_budget(0));
  }
  const mpq::search_result r = s.derive();  // argmax bits; errc::infeasible if they break the budget
  print_allocation(p, r);
  std::printf("test accuracy of the searched (mixed) network: %.3f\n", net.accuracy(s, test));
  std::printf("edmips_plain: ok\n");
  return 0;
}
