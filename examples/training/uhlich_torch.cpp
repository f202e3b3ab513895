// Uhlich et al. with LibTorch: learned-bits (U3) conv layers whose weight memory a penalty pushes
// under its budget; the best validated checkpoint that meets the budget is the result.
#include <torch/torch.h>

#include <cstdio>
#include <span>

#include "fmnist_cnn.hpp"
#include "mpq/adapters/torch.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/search/training/uhlich.hpp"
#include "report.hpp"

int main() {
  using namespace training_example;
  torch::manual_seed(0);
  const auto train = load_fmnist(4096), test = load_fmnist(1000, "t10k");
  const int w_bits[] = {2, 3, 4, 5, 6, 7, 8}, a_bits[] = {1, 2, 3, 4, 5, 6, 7, 8};
  mpq::problem p = cnn_problem(w_bits, a_bits, {8, 8}, {8, 8});
  p.add_constraint(mpq::weight_size{}, mpq::budget::uniform(2, 8));  // 2-bit conv2/conv3 weights

  mpq::uhlich_options<mpq::u3_quantizer> o;
  o.lambda_weights = 1.0;  // memory in KB, as in Sony's configs
  auto state = mpq::torch::bind(mpq::uhlich_training<>(p, o));
  auto& s = state->strategy();
  Cnn net(state);
  for (std::size_t l = 1; l < 3; ++l) {  // Sony's initialisation from max|W|
    const auto w = (l == 1 ? net->c2 : net->c3)->conv->weight.detach().contiguous();
    mpq::throw_if_error(s.try_init_weights(l, {w.data_ptr<float>(), static_cast<std::size_t>(w.numel())}));
  }
  torch::optim::SGD weights(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  torch::optim::SGD quant({state->parameters()}, torch::optim::SGDOptions(0.1));

  for (std::int64_t step = 0; step < 200; ++step) {
    const auto [x, y] = batch_of(train, step, 64);
    weights.zero_grad();
    quant.zero_grad();
    (torch::nn::functional::cross_entropy(net->forward(x), y) + state->regularizer()).backward();  // + λ relu(S − S0)²
    state->prepare_update();  // quantizer gradients clipped to ±d
    weights.step();
    quant.step();
    state->finish_update();   // projection: d < q_max, bounds
    if (step % 10 == 9 && s.meets_constraints() && s.try_offer_checkpoint(accuracy(net, test)).value())
      torch::save(net, "/tmp/mpq_uhlich_best.pt");  // keep the network that goes with the kept bits
  }
  std::printf("weight memory now %.0f bits (budget %.0f)\n", s.constraint_use(0), p.raw_budget(0));
  const auto r = state->derive();  // the best checkpoint within the budget
  print_allocation(p, r);
  std::printf("best checkpoint: step %llu, accuracy %.3f\n", static_cast<unsigned long long>(s.checkpoint().best().step),
              s.checkpoint().best().score);
  std::printf("uhlich_torch: ok\n");
  return 0;
}
