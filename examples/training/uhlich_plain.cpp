// Uhlich et al. without any framework: a hand-written perceptron learns U3 quantizers (step d and
// range q_max) whose inferred bits a weight-memory penalty pushes under its budget; the best
// checkpoint that meets the budget is kept.
#include <cstdio>

#include "mpq/cost/weight_size.hpp"
#include "mpq/search/training/uhlich.hpp"
#include "plain_mlp.hpp"
#include "report.hpp"

int main() {
  using namespace training_example;
  const plain_data train = load_plain(4096), test = load_plain(1000, "t10k");
  plain_mlp net({784, 64, 32, 16, 10});

  // fc1 and fc4 fixed at 8 bits; fc2, fc3 learn W in 2..8 and A in 1..8 bits. Budget: the weight
  // memory of 2-bit fc2/fc3 weights.
  const int w_bits[] = {2, 3, 4, 5, 6, 7, 8}, a_bits[] = {1, 2, 3, 4, 5, 6, 7, 8};
  mpq::problem p = mlp_problem(net, w_bits, a_bits);  // fc1 and fc4 fixed at W8A8
  p.add_constraint(mpq::weight_size{}, mpq::budget::uniform(2, 8));

  mpq::uhlich_options<mpq::u3_quantizer> o;
  o.lambda_weights = 1.0;  // λ_w, with the memory in KB (Sony's unit)
  mpq::uhlich_training<> s(p, o);
  // Sony's initialisation of each searched layer's weight quantizer from max|W|.
  for (std::size_t l = 1; l < 3; ++l) mpq::throw_if_error(s.try_init_weights(l, net.weights(l)));
  mpq::sgd_optimizer quant({0.1f, 0.9f, 0.0f});

  for (std::size_t step = 0; step < 300; ++step) {
    const auto [x, y] = plain_batch(train, step, 32);
    net.zero_gradients();
    s.zero_gradients();
    net.forward(s, x, 32);
    net.backward(s, y);
    s.add_regularizer_gradients();  // λ·relu(S − S0)² through the bit surrogate
    s.prepare_update();             // clip the quantizer gradients to ±d
    net.sgd_step({0.05f, 0.9f, 0.0f});
    quant.step(s.parameters(), s.gradients());
    s.finish_update();              // project: d < q_max, bounds
    // Model selection: only states whose bits meet the budget are kept.
    if (step % 25 == 24 && s.meets_constraints()) s.try_offer_checkpoint(net.accuracy(s, test)).value();
  }
  std::printf("weight memory now %.0f bits (budget %.0f); checkpoint kept: %s\n", s.constraint_use(0),
              p.raw_budget(0), s.checkpoint().has_value() ? "yes" : "no");
  print_allocation(p, s.derive());  // the best kept checkpoint's bits
  std::printf("uhlich_plain: ok\n");
  return 0;
}
