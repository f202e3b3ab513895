// QBitOpt without any framework (algorithms.md §5, an UNVERIFIED reconstruction): LSQ quantization-aware
// training whose bits are re-solved from Fisher sensitivities every T steps, always within the budget.
#include <cstdio>

#include "mpq/cost/bitops.hpp"
#include "mpq/search/training/qbitopt.hpp"
#include "plain_mlp.hpp"
#include "report.hpp"

int main() {
  using namespace training_example;
  const plain_data train = load_plain(4096), test = load_plain(1000, "t10k");
  plain_mlp net({784, 64, 32, 16, 10});

  const int bits[] = {2, 3, 4, 5, 6, 7, 8};
  mpq::problem p = mlp_problem(net, bits, bits);  // fc1 and fc4 fixed at W8A8
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(3, 3));

  mpq::qbitopt_options o;
  o.total_steps = 300;
  o.resolve_every = 50;     // T
  o.freeze_fraction = 0.25; // bits fixed for the last 75 steps
  mpq::qbitopt_training<> s(p, o);  // re-solves with mpq::convex_search
  mpq::sgd_optimizer steps({0.01f, 0.9f, 0.0f});

  for (std::size_t step = 0; step < o.total_steps; ++step) {
    const auto [x, y] = plain_batch(train, step, 32);
    net.zero_gradients();
    s.zero_gradients();
    net.forward(s, x, 32);   // LSQ at the current bits
    net.backward(s, y);      // also folds ∂L/∂Ŵ, ∂L/∂x̂ into the Fisher EMAs
    s.prepare_update();
    net.sgd_step({0.05f, 0.9f, 0.0f});
    steps.step(s.parameters(), s.gradients());
    s.finish_update();       // every T steps: re-solve, rescale the steps of layers whose bits changed
  }
  for (const auto& a : s.history())
    std::printf("allocation: fc2 W%dA%d fc3 W%dA%d\n", a[1].w, a[1].a, a[2].w, a[2].a);
  print_allocation(p, s.derive());
  std::printf("test accuracy: %.3f\n", net.accuracy(s, test));
  std::printf("qbitopt_plain: ok\n");
  return 0;
}
