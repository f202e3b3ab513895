// LIMPQ without any framework: jointly train one LSQ step per bit width (every uniform width plus one
// random mixed policy per batch), read the learned steps as importance indicators, solve the ILP.
#include <algorithm>
#include <cstdio>

#include "mpq/cost/bitops.hpp"
#include "mpq/search/training/limpq.hpp"
#include "plain_mlp.hpp"
#include "report.hpp"

int main() {
  using namespace training_example;
  const plain_data train = load_plain(4096);
  plain_mlp net({784, 64, 32, 16, 10});

  const int bits[] = {2, 3, 4, 5, 6};  // LIMPQ's candidates
  mpq::problem p = mlp_problem(net, bits, bits);  // fc1 and fc4 fixed at W8A8
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 4));

  mpq::limpq_training s(p);  // α = 2, clean-up on, gradients clipped to ±1
  mpq::sgd_optimizer steps({0.01f, 0.0f, 0.0f});

  for (std::size_t batch = 0; batch < 100; ++batch) {
    const auto [x, y] = plain_batch(train, batch, 32);
    net.zero_gradients();
    s.zero_gradients();
    for (std::size_t k = 0; k < s.pass_count(); ++k) {  // 6, 5, 4, 3, 2 bits, then a random policy
      mpq::throw_if_error(s.try_begin_pass(k));
      net.forward(s, x, 32);
      net.backward(s, y);  // gradients accumulate over the passes
    }
    s.prepare_update();  // clip the step gradients to ±1 (do the same to the network's)
    net.sgd_step({0.02f, 0.9f, 0.0f});
    steps.step(s.parameters(), s.gradients());
    s.finish_update();
  }
  const auto indicators = s.try_indicators().value();
  for (std::size_t l = 1; l < 3; ++l) {
    std::printf("%s indicators (weights / activations):", p.layer(l).name.c_str());
    for (int b : bits)
      std::printf(" %d:%.4f/%.4f", b, indicators.indicator(l, mpq::operand::weights, b),
                  indicators.indicator(l, mpq::operand::activations, b));
    std::printf("\n");
  }
  print_allocation(p, s.derive());  // min Σ I^a + α I^w under the budget, exactly
  std::printf("limpq_plain: ok\n");
  return 0;
}
