// The training side of the end-to-end Fashion-MNIST pipeline (docs/e2e.md), one stage per command:
//
//   mpq_fmnist_pipeline fp32        --work DIR [--epochs N]          train the FP32 network
//   mpq_fmnist_pipeline sensitivity --work DIR                       post-training sensitivities
//   mpq_fmnist_pipeline search      --work DIR --method M --budget B search an allocation
//                                     (M = uniform writes the budget's uniform baseline)
//   mpq_fmnist_pipeline qat         --work DIR --bits ALLOC --seed S fine-tune, evaluate, export
//
// Every stage reads what the earlier ones wrote into DIR and writes its own files there (a file is
// written under a temporary name and renamed, so an interrupted stage leaves nothing half-written).
// tools/main.sh --full runs the stages in order with progress and time estimates.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <zlib.h>

#include <ctime>
#include <functional>
#include <memory>
#include <optional>

#include "fmnist_data.hpp"
#include "fmnist_model_file.hpp"
#include "fmnist_net.hpp"
#include "fmnist_torch.hpp"
#include "mpq/search/convex.hpp"
#include "mpq/search/greedy.hpp"
#include "mpq/search/ilp.hpp"
#include "mpq/search/sensitivity_limpq.hpp"
#include "mpq/search/sensitivity_tables.hpp"
#include "mpq/search/training/edmips.hpp"
#include "mpq/search/training/guo.hpp"
#include "mpq/search/training/limpq.hpp"
#include "mpq/search/training/qbitopt.hpp"
#include "mpq/search/training/uhlich.hpp"
#include "progress.hpp"

namespace fs = std::filesystem;
using namespace fmnist_e2e;

namespace {

// ---- command line ---------------------------------------------------------------------------------

struct args {
  std::string command;
  std::map<std::string, std::string> opts;
  std::string get(const std::string& k, const std::string& fallback = {}) const {
    auto it = opts.find(k);
    if (it != opts.end()) return it->second;
    if (fallback.empty()) throw std::runtime_error("missing option --" + k);
    return fallback;
  }
  long number(const std::string& k, long fallback) const {
    auto it = opts.find(k);
    if (it == opts.end()) return fallback;
    char* end = nullptr;
    const long v = std::strtol(it->second.c_str(), &end, 10);
    if (end == it->second.c_str() || *end != '\0' || v < 0)
      throw std::runtime_error("--" + k + " = '" + it->second + "': must be a non-negative integer");
    return v;
  }
};

args parse(int argc, char** argv) {
  if (argc < 2) throw std::runtime_error("usage: mpq_fmnist_pipeline fp32|sensitivity|search|qat --work DIR [...]");
  args a;
  a.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc) throw std::runtime_error("bad argument '" + k + "': expected --name value");
    a.opts[k.substr(2)] = argv[++i];
  }
  return a;
}

/// Writes `text` to `path` through a temporary file and a rename.
void write_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".partial";
  {
    std::ofstream f(tmp);
    f << text;
    if (!f) throw std::runtime_error(tmp.string() + ": cannot write");
  }
  fs::rename(tmp, path);
}

struct data_sets {
  tensors train, test;
};

data_sets load_data(const args& a) {
  const std::string dir = a.get("data", fmnist::default_dir);
  return {to_tensors(fmnist::load(dir, "train")), to_tensors(fmnist::load(dir, "t10k"))};
}

// ---- stage 1: FP32 training -------------------------------------------------------------------------

// Adam, batch 128, learning rate 2e-3 with a cosine decay to 0 over the run, random horizontal
// flips, dropout 0.3 after fc1; batch norm after every layer but the last.
int stage_fp32(const args& a) {
  const fs::path work = a.get("work");
  fs::create_directories(work);
  const long epochs = a.number("epochs", 10);
  const auto seed = static_cast<std::uint64_t>(a.number("seed", 0));
  const data_sets d = load_data(a);
  torch::manual_seed(seed);
  Fp32Net net;
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(2e-3));
  const std::int64_t batch = 128, n = d.train.size(), steps_per_epoch = n / batch;
  const long total = epochs * steps_per_epoch;
  progress bar("fp32 training", total, 15.0);
  std::string log;
  long step = 0;
  for (long e = 0; e < epochs; ++e) {
    net->train();
    const auto order = permutation(n, seed * 1000 + static_cast<std::uint64_t>(e));
    double loss_sum = 0.0;
    for (std::int64_t b = 0; b < steps_per_epoch; ++b, ++step) {
      const double lr = 2e-3 * 0.5 * (1.0 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(total)));
      for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
      const auto idx = order.narrow(0, b * batch, batch);
      const auto x = random_flip(d.train.images.index_select(0, idx), seed * 7919 + static_cast<std::uint64_t>(step));
      const auto y = d.train.labels.index_select(0, idx);
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>();
      bar.update(step + 1);
    }
    const double acc = accuracy_of(predict(net, d.test), d.test);
    char line[160];
    std::snprintf(line, sizeof line, "epoch %ld: train loss %.4f, test accuracy %.2f %%\n", e + 1,
                  loss_sum / static_cast<double>(steps_per_epoch), 100.0 * acc);
    std::fprintf(stderr, "%s", line);
    log += line;
  }
  torch::save(net, (work / "fp32.pt.partial").string());
  fs::rename(work / "fp32.pt.partial", work / "fp32.pt");
  const double acc = accuracy_of(predict(net, d.test), d.test);
  char summary[200];
  std::snprintf(summary, sizeof summary, "fp32_test_accuracy\t%.4f\nfp32_epochs\t%ld\nfp32_seconds\t%.0f\n", acc, epochs,
                bar.seconds());
  write_file(work / "fp32.tsv", summary);
  write_file(work / "fp32.log", log);
  std::printf("fp32: test accuracy %.2f %% after %ld epochs (%s)\n", 100.0 * acc, epochs,
              progress::format(bar.seconds()).c_str());
  return 0;
}

// ---- shared helpers ----------------------------------------------------------------------------------

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

tensors slice(const tensors& d, std::int64_t start, std::int64_t n) {
  return {d.images.narrow(0, start, n), d.labels.narrow(0, start, n)};
}

Fp32Net load_fp32(const fs::path& work) {
  const fs::path f = work / "fp32.pt";
  if (!fs::exists(f)) throw std::runtime_error(f.string() + ": not found: run the fp32 stage first");
  Fp32Net net;
  torch::load(net, f.string());
  net->eval();
  return net;
}

/// A budget named by its tag: "bopsN" (BitOps of uniform WNAN) or "sizeN" (weight size of uniform WN),
/// N = 1..8. The full run uses budgets(); other N are for experiments (and N = 1 is below what any
/// allocation reaches, which the search stage reports).
budget_spec find_budget(const std::string& tag) {
  for (const auto& b : budgets())
    if (b.tag() == tag) return b;
  const bool bops = tag.rfind("bops", 0) == 0, size = tag.rfind("size", 0) == 0;
  if ((bops || size) && tag.size() == 5 && tag[4] >= '1' && tag[4] <= '8')
    return {bops ? budget_spec::kind::bitops : budget_spec::kind::size, tag[4] - '0'};
  std::string known;
  for (const auto& b : budgets()) {
    known += ' ';
    known += b.tag();
  }
  throw std::runtime_error("budget '" + tag + "': expected bopsN or sizeN with N = 1..8 (the full run's:" + known + ")");
}

/// Throws, naming the numbers, when no allocation of `p` meets its budget: the cheapest candidate of
/// every layer already costs more (constraint 0; costs add over layers).
void check_reachable(const mpq::problem& p, const budget_spec& b) {
  const auto costs = p.cost_table(0);
  std::vector<mpq::bit_pair> lowest;
  for (std::size_t l = 0; l < p.layer_count(); ++l) {
    const auto first = costs.begin() + static_cast<std::ptrdiff_t>(p.candidate_offset(l));
    const auto cheapest = std::min_element(first, first + static_cast<std::ptrdiff_t>(p.candidates(l).size()));
    lowest.push_back(p.candidates(l)[static_cast<std::size_t>(cheapest - first)]);
  }
  const double least = p.cost(0, lowest), budget = p.constraint(0).budget_value;
  if (least > budget) {
    char msg[320];
    std::snprintf(msg, sizeof msg,
                  "budget %s = %.6g is below the minimum achievable %.6g (%s: every layer at its fewest bits); "
                  "nothing was searched or written",
                  b.name().c_str(), budget, least, format_bits(lowest).c_str());
    throw std::runtime_error(msg);
  }
}

// ---- stage 2: post-training sensitivities ----------------------------------------------------------

// Ω_l(W, A) = mean cross-entropy on 2048 training images with layer l alone quantized (LSQ steps
// initialised from 256 images by LIMPQ's rules, no training), minus the float network's loss.
int stage_sensitivity(const args& a) {
  const fs::path work = a.get("work");
  const double t0 = cpu_seconds();
  const data_sets d = load_data(a);
  Fp32Net net = load_fp32(work);
  const auto folded = fold_network(net);
  const tensors calib = slice(d.train, 0, 2048);
  const torch::Tensor init = d.train.images.narrow(0, 0, 256);
  const std::vector<mpq::bit_pair> all_float(layer_count, mpq::bit_pair{32, 32});
  QatNet fp(all_float);
  fp->load_folded(folded, init);
  const double base = mean_loss(fp, calib);
  long total = 0;
  for (std::size_t l = 0; l < layer_count; ++l)
    total += static_cast<long>(weight_bits.size() * (l == 0 ? 1 : activation_bits.size()));
  progress bar("sensitivity", total, 15.0);
  std::ostringstream out;
  out << "# delta of the mean cross-entropy (2048 training images) with one layer quantized; float loss " << base
      << "\nlayer\tw\ta\tdelta_loss\n";
  long done = 0;
  for (std::size_t l = 0; l < layer_count; ++l)
    for (int w : weight_bits)
      for (int ab : activation_bits) {
        if (l == 0 && ab != input_bits) continue;
        auto bits = all_float;
        bits[l] = {w, ab};
        QatNet q(bits);
        q->load_folded(folded, init);
        out << layer_names[l] << '\t' << w << '\t' << ab << '\t' << (mean_loss(q, calib) - base) << '\n';
        bar.update(++done);
      }
  out << "# cpu_seconds\t" << (cpu_seconds() - t0) << '\n';
  write_file(work / "sensitivity.tsv", out.str());
  std::printf("sensitivity: %ld measurements (%s CPU)\n", done, progress::format(cpu_seconds() - t0).c_str());
  return 0;
}

struct sensitivity_data {
  std::map<std::tuple<std::size_t, int, int>, double> delta;
  double cpu_seconds = 0.0;
};

sensitivity_data read_sensitivity(const fs::path& work) {
  const fs::path f = work / "sensitivity.tsv";
  std::ifstream in(f);
  if (!in) throw std::runtime_error(f.string() + ": not found: run the sensitivity stage first");
  sensitivity_data s;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# cpu_seconds\t", 0) == 0) {
      s.cpu_seconds = std::stod(line.substr(14));
      continue;
    }
    if (line.empty() || line[0] == '#' || line.rfind("layer\t", 0) == 0) continue;
    std::istringstream ls(line);
    std::string name;
    int w = 0, ab = 0;
    double v = 0.0;
    if (!(ls >> name >> w >> ab >> v)) throw std::runtime_error(f.string() + ": bad line '" + line + "'");
    const auto it = std::find(layer_names.begin(), layer_names.end(), name);
    if (it == layer_names.end()) throw std::runtime_error(f.string() + ": unknown layer '" + name + "'");
    s.delta[{static_cast<std::size_t>(it - layer_names.begin()), w, ab}] = v;
  }
  return s;
}

// ---- stage 3: search ----------------------------------------------------------------------------------

// The FP32 network (batch norm kept) whose every layer's weights and input run through a bound
// training strategy (mpq::torch::apply; each activation operation includes the ReLU). `bn_copies`
// > 1 gives every batch norm that many copies (LIMPQ's switchable BN), chosen per pass.
class SearchNetImpl : public torch::nn::Module {
 public:
  SearchNetImpl(std::shared_ptr<mpq::torch::training_state> state, const fs::path& work, std::size_t bn_copies = 1)
      : state_(std::move(state)) {
    net = register_module("net", Fp32Net());
    torch::load(net, (work / "fp32.pt").string());
    for (std::size_t l = 0; l < 4; ++l) {
      bns.emplace_back();
      for (std::size_t k = 0; k < bn_copies; ++k) {
        std::shared_ptr<torch::nn::Module> c = l == 0 ? net->bn1->clone()
                                               : l == 1 ? net->bn2->clone()
                                               : l == 2 ? net->bn3->clone()
                                                        : net->bn4->clone();
        bns[l].push_back(register_module("bn" + std::to_string(l) + "_" + std::to_string(k), c));
      }
    }
    bn_choice.assign(4, 0);
  }
  torch::Tensor forward(torch::Tensor x) {
    using mpq::operand;
    auto bn = [&](std::size_t l, const torch::Tensor& y) {
      auto* m = bns[l][bn_choice[l]].get();
      if (auto* b2 = dynamic_cast<torch::nn::BatchNorm2dImpl*>(m)) return b2->forward(y);
      return dynamic_cast<torch::nn::BatchNorm1dImpl*>(m)->forward(y);
    };
    const auto pad = torch::nn::functional::Conv2dFuncOptions().padding(1);
    x = x * (1.0 / 255.0);
    torch::nn::Conv2d convs[3] = {net->conv1, net->conv2, net->conv3};
    for (std::size_t l = 0; l < 3; ++l) {
      x = torch::nn::functional::conv2d(state_->apply(l, operand::activations, x),
                                        state_->apply(l, operand::weights, convs[l]->weight), pad);
      x = torch::max_pool2d(bn(l, x), 2);
    }
    x = torch::nn::functional::linear(state_->apply(3, operand::activations, x.flatten(1)),
                                      state_->apply(3, operand::weights, net->fc1->weight), net->fc1->bias);
    x = bn(3, x);
    return torch::nn::functional::linear(state_->apply(4, operand::activations, x),
                                         state_->apply(4, operand::weights, net->fc2->weight), net->fc2->bias);
  }
  /// The host's weights (the strategy's parameters are separate).
  std::vector<torch::Tensor> network_parameters() { return parameters(); }

  Fp32Net net{nullptr};
  std::vector<std::vector<std::shared_ptr<torch::nn::Module>>> bns;
  std::vector<std::size_t> bn_choice;

 private:
  std::shared_ptr<mpq::torch::training_state> state_;
};
TORCH_MODULE(SearchNet);

struct search_outcome {
  std::vector<mpq::bit_pair> bits;
  bool feasible = false;
  std::string message;  // why not, when infeasible
};

constexpr std::int64_t search_batch = 128;
constexpr long search_steps = 200;      // per training-time search run (penalty methods: per try)
constexpr long qbitopt_steps = 300;
constexpr long limpq_batches = 200;

// One training-time search run: `steps` batches from the FP32 weights (network: SGD 0.01,
// momentum 0.9), the strategy's own optimizer, its hooks; then derive().
search_outcome run_search(mpq::torch::training_state& st, SearchNet& net, torch::optim::Optimizer& strategy_opt,
                          const data_sets& d, long steps, const std::string& what,
                          const std::function<void(long)>& after_step = {}) {
  torch::optim::SGD w(net->network_parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  const auto order = permutation(d.train.size(), 12345);
  progress bar(what, steps, 20.0);
  net->train();
  for (long s = 0; s < steps; ++s) {
    const std::int64_t start = (s * search_batch) % (d.train.size() - search_batch);
    const auto idx = order.narrow(0, start, search_batch);
    const auto x = random_flip(d.train.images.index_select(0, idx), 777 + static_cast<std::uint64_t>(s));
    const auto y = d.train.labels.index_select(0, idx);
    w.zero_grad();
    strategy_opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(net->forward(x), y) + st.regularizer();
    loss.backward();
    st.prepare_update();
    w.step();
    strategy_opt.step();
    st.finish_update();
    if (after_step) after_step(s);
    bar.update(s + 1);
  }
  search_outcome r;
  try {
    r.bits = st.derive().bits;
    r.feasible = true;
  } catch (const mpq::error& e) {
    r.message = e.what();
  }
  return r;
}

// The penalty methods (EdMIPS, Guo, Uhlich) land on a budget only through their penalty weight:
// up to 4 runs, multiplying it by 4 while the derived allocation breaks the budget, dividing it by
// 4 while it is feasible but uses under 85 % of the budget, and one geometric-mean refinement once
// both sides are known. The feasible allocation with the highest cost wins.
struct tuned_outcome {
  search_outcome best;
  std::string note;
};

tuned_outcome tune_penalty(double first, const mpq::problem& p,
                           const std::function<search_outcome(double)>& run) {
  tuned_outcome t;
  double lam = first, lo = std::nan(""), hi = std::nan(""), best_cost = -1.0;
  bool refined = false;
  const double budget = p.constraint(0).budget_value;
  for (int k = 0; k < 4; ++k) {
    const search_outcome r = run(lam);
    char note[96];
    const double cost = r.feasible ? p.cost(0, r.bits) : std::nan("");
    std::snprintf(note, sizeof note, "%s%g: %s", t.note.empty() ? "" : "; ", lam,
                  r.feasible ? (std::to_string(static_cast<int>(100.0 * cost / budget + 0.5)) + "% of budget").c_str()
                             : "over budget");
    t.note += note;
    if (r.feasible) {
      if (cost > best_cost) {
        best_cost = cost;
        t.best = r;
      }
      hi = std::isnan(hi) ? lam : std::min(hi, lam);
    } else {
      lo = std::isnan(lo) ? lam : std::max(lo, lam);
      if (!t.best.feasible) t.best = r;
    }
    if (refined) break;
    if (!std::isnan(lo) && !std::isnan(hi)) {
      lam = std::sqrt(lo * hi);
      refined = true;
    } else if (std::isnan(hi)) {
      lam *= 4.0;
    } else if (best_cost < 0.85 * budget) {
      lam /= 4.0;
    } else {
      break;
    }
  }
  return t;
}

// LIMPQ's indicators: trained once (they do not depend on the budget), cached in the work dir.
mpq::limpq_indicators limpq_indicators_for(const fs::path& work, const data_sets& d, double& cpu) {
  const fs::path f = work / "limpq_indicators.tsv";
  constexpr double alpha = 2.0;
  mpq::limpq_indicators ind(alpha);
  const bool trained_here = !fs::exists(f);  // then the caller's own clock already counts the training
  if (trained_here) {
    const double t0 = cpu_seconds();
    // conv1 stays outside the search (LIMPQ keeps the first layer out); widths 6..2 as LIMPQ's.
    mpq::problem p;
    const auto ls = layers();
    const int widths[] = {2, 3, 4, 5, 6};
    for (std::size_t l = 0; l < layer_count; ++l) {
      if (l == 0)
        p.add_layer(ls[l], {mpq::bit_pair{8, 8}});
      else
        p.add_layer(ls[l], widths, widths);
    }
    p.add_constraint(mpq::bitops{}, mpq::budget::between_low_high(1.0));
    mpq::limpq_options o;
    o.alpha = alpha;
    auto state = mpq::torch::bind(mpq::limpq_training(p, o));
    auto& s = state->strategy();
    SearchNet net(state, work, s.widths().size());
    torch::optim::SGD w(net->network_parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    torch::optim::SGD steps({state->parameters()}, torch::optim::SGDOptions(0.01));
    const auto order = permutation(d.train.size(), 4242);
    progress bar("limpq indicators", limpq_batches, 20.0);
    for (long b = 0; b < limpq_batches; ++b) {
      const auto idx = order.narrow(0, (b * search_batch) % (d.train.size() - search_batch), search_batch);
      const auto x = random_flip(d.train.images.index_select(0, idx), 999 + static_cast<std::uint64_t>(b));
      const auto y = d.train.labels.index_select(0, idx);
      w.zero_grad();
      steps.zero_grad();
      for (std::size_t k = 0; k < s.pass_count(); ++k) {  // every uniform width, then a random policy
        mpq::throw_if_error(s.try_begin_pass(k));
        for (std::size_t l = 0; l < 4; ++l) net->bn_choice[l] = s.is_searched(l) ? s.current_bit_index(l) : 0;
        torch::nn::functional::cross_entropy(net->forward(x), y).backward();
      }
      for (auto& t : net->network_parameters())
        if (t.grad().defined()) t.grad().clamp_(-1.0, 1.0);  // LIMPQ clips every gradient to ±1
      state->prepare_update();
      w.step();
      steps.step();
      state->finish_update();
      bar.update(b + 1);
    }
    const auto cleaned = s.try_indicators().value();  // LIMPQ's clean-up applied
    std::ostringstream out;
    out << "layer\toperand\tbits\tindicator\n";
    for (std::size_t l = 1; l < layer_count; ++l)
      for (int b : widths)
        for (mpq::operand op : {mpq::operand::weights, mpq::operand::activations})
          out << layer_names[l] << '\t' << (op == mpq::operand::weights ? "w" : "a") << '\t' << b << '\t'
              << cleaned.indicator(l, op, b) << '\n';
    out << "# cpu_seconds\t" << (cpu_seconds() - t0) << '\n';
    write_file(f, out.str());
  }
  std::ifstream in(f);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# cpu_seconds\t", 0) == 0) cpu = std::stod(line.substr(14));
    if (line.empty() || line[0] == '#' || line.rfind("layer\t", 0) == 0) continue;
    std::istringstream ls(line);
    std::string name, op;
    int b = 0;
    double v = 0.0;
    if (!(ls >> name >> op >> b >> v)) throw std::runtime_error(f.string() + ": bad line '" + line + "'");
    const auto l = static_cast<std::size_t>(std::find(layer_names.begin(), layer_names.end(), name) - layer_names.begin());
    ind.set(l, op == "w" ? mpq::operand::weights : mpq::operand::activations, b, v);
  }
  if (trained_here) cpu = 0.0;
  return ind;
}

int stage_search(const args& a) {
  const fs::path work = a.get("work");
  const std::string method = a.get("method");
  const budget_spec b = find_budget(a.get("budget"));
  mpq::problem p = make_problem(b, method == "guo");
  check_reachable(p, b);
  fs::create_directories(work / "search");
  const fs::path out_file = work / "search" / (b.tag() + "_" + method + ".tsv");
  const double t0 = cpu_seconds();
  double extra_cpu = 0.0;  // shared work done once for several searches (sensitivities, indicators)
  search_outcome result;
  std::string note;

  if (method == "uniform") {
    result.bits = b.uniform();
    result.feasible = true;
    note = "the uniform baseline whose cost defines the budget";
  } else if (method == "ilp" || method == "greedy" || method == "convex") {
    const sensitivity_data sens = read_sensitivity(work);
    std::vector<double> values;
    for (std::size_t l = 0; l < layer_count; ++l)
      for (const auto& c : p.candidates(l)) {
        const auto it = sens.delta.find({l, c.w, c.a});
        if (it == sens.delta.end()) throw std::runtime_error("sensitivity.tsv has no entry for a candidate");
        values.push_back(it->second);
      }
    mpq::throw_if_error(p.try_set_objective_values(values));
    mpq::search_result r;
    mpq::status st = method == "ilp"      ? mpq::ilp_search().try_solve(p, r)
                     : method == "greedy" ? mpq::greedy_search().try_solve(p, r)
                                          : mpq::convex_search().try_solve(p, r);
    result.feasible = st.ok();
    if (st.ok()) result.bits = r.bits;
    else result.message = st.message();
    extra_cpu = sens.cpu_seconds;
    note = "post-training sensitivities (loss increase, one layer quantized)";
    if (method == "ilp" && st.ok()) note += r.proven_optimal ? "; proven optimal" : "; not proven optimal";
  } else if (method == "edmips") {
    const data_sets d = load_data(a);
    const double first = b.bits == 2 ? 0.02 : b.bits == 3 ? 0.008 : 0.003;
    auto t = tune_penalty(first, p, [&](double eta) {
      torch::manual_seed(1);
      mpq::edmips_options o;
      o.eta = eta;
      auto state = mpq::torch::bind(mpq::edmips_training(p, o));
      SearchNet net(state, work);
      torch::optim::SGD arch({state->parameters()}, torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4));
      return run_search(*state, net, arch, d, search_steps, "edmips eta " + std::to_string(eta));
    });
    result = t.best;
    note = "eta tries: " + t.note;
  } else if (method == "guo") {
    const data_sets d = load_data(a);
    auto t = tune_penalty(10.0, p, [&](double lambda) {
      torch::manual_seed(1);
      mpq::guo_softmax_options o;
      o.lambda = lambda;
      auto state = mpq::torch::bind(mpq::guo_softmax_training(p, o));
      SearchNet net(state, work);
      torch::optim::SGD arch({state->parameters()}, torch::optim::SGDOptions(0.1).momentum(0.9));
      return run_search(*state, net, arch, d, search_steps, "guo lambda " + std::to_string(lambda));
    });
    result = t.best;
    note = "reading A (softmax over weight widths, size penalty), activations fixed; lambda tries: " + t.note;
  } else if (method == "uhlich") {
    const data_sets d = load_data(a);
    const tensors val = slice(d.train, d.train.size() - 2000, 2000);
    auto t = tune_penalty(1.0, p, [&](double lambda) {
      torch::manual_seed(1);
      mpq::uhlich_options<mpq::u3_quantizer> o;
      o.lambda_weights = lambda;
      o.lambda_bitops = lambda;
      auto state = mpq::torch::bind(mpq::uhlich_training<>(p, o));
      auto& s = state->strategy();
      SearchNet net(state, work);
      torch::nn::Linear fcs[2] = {net->net->fc1, net->net->fc2};
      torch::nn::Conv2d convs[3] = {net->net->conv1, net->net->conv2, net->net->conv3};
      for (std::size_t l = 0; l < layer_count; ++l) {  // Sony's initialisation from max|W|
        const auto wt = (l < 3 ? convs[l]->weight : fcs[l - 3]->weight).detach().contiguous();
        mpq::throw_if_error(s.try_init_weights(l, {wt.data_ptr<float>(), static_cast<std::size_t>(wt.numel())}));
      }
      torch::optim::SGD quant({state->parameters()}, torch::optim::SGDOptions(0.1));
      // Model selection (Sony's): offer the state every 25 steps; only states within the budget count.
      return run_search(*state, net, quant, d, search_steps, "uhlich lambda " + std::to_string(lambda), [&](long step) {
        if (step % 25 == 24 && s.meets_constraints()) {
          const double acc = accuracy_of(predict(net, val), val);
          mpq::throw_if_error(s.try_offer_checkpoint(acc).error());
        }
      });
    });
    result = t.best;
    note = "U3 learned bits, best validated checkpoint within the budget; lambda tries: " + t.note;
  } else if (method == "qbitopt") {
    const data_sets d = load_data(a);
    torch::manual_seed(1);
    mpq::qbitopt_options o;
    o.total_steps = qbitopt_steps;
    o.resolve_every = 50;
    auto state = mpq::torch::bind(mpq::qbitopt_training<>(p, o));
    SearchNet net(state, work);
    torch::optim::SGD steps({state->parameters()}, torch::optim::SGDOptions(0.01));
    result = run_search(*state, net, steps, d, qbitopt_steps, "qbitopt");
    note = std::to_string(state->strategy().history().size()) + " allocations (re-solved every 50 steps, frozen for the last 25 %)";
  } else if (method == "limpq") {
    const data_sets d = load_data(a);
    mpq::limpq_indicators trained = limpq_indicators_for(work, d, extra_cpu);
    // The ILP over layers 2..5 with LIMPQ's widths 2..6; conv1 outside the search at the uniform's bits.
    mpq::problem q;
    const auto ls = layers();
    const auto u = b.uniform();
    const int widths[] = {2, 3, 4, 5, 6};
    const int eight[] = {8};
    for (std::size_t l = 0; l < layer_count; ++l) {
      if (l == 0)
        q.add_layer(ls[l], {u[0]});
      else if (b.what == budget_spec::kind::size)
        q.add_layer(ls[l], widths, eight);
      else
        q.add_layer(ls[l], widths, widths);
    }
    if (b.what == budget_spec::kind::bitops)
      q.add_constraint(mpq::bitops{}, mpq::budget::absolute(p.constraint(0).budget_value));
    else
      q.add_constraint(mpq::weight_size{}, mpq::budget::absolute(p.constraint(0).budget_value));
    mpq::limpq_indicators ind(trained.alpha());
    for (std::size_t l = 1; l < layer_count; ++l)
      for (int w : widths) {
        ind.set(l, mpq::operand::weights, w, trained.indicator(l, mpq::operand::weights, w));
        if (b.what == budget_spec::kind::size)
          ind.set(l, mpq::operand::activations, 8, 1.0);  // fixed: a constant term
        else
          ind.set(l, mpq::operand::activations, w, trained.indicator(l, mpq::operand::activations, w));
      }
    q.set_objective(ind);
    mpq::search_result r;
    const mpq::status st = mpq::ilp_search().try_solve(q, r);
    result.feasible = st.ok();
    if (st.ok()) result.bits = r.bits;
    else result.message = st.message();
    note = "indicators trained once (" + std::to_string(limpq_batches) +
           " batches x 6 passes), widths 2..6, conv1 outside the search; ILP";
  } else {
    throw std::runtime_error("method '" + method + "': one of uniform ilp greedy convex edmips guo uhlich qbitopt limpq");
  }

  const double cpu = cpu_seconds() - t0 + extra_cpu;
  std::ostringstream out;
  out << "method\t" << method << "\nbudget\t" << b.tag() << "\nbudget_value\t" << p.constraint(0).budget_value
      << "\nfeasible\t" << (result.feasible ? 1 : 0) << "\nbits\t" << (result.feasible ? format_bits(result.bits) : "")
      << "\nbitops\t" << (result.feasible ? bitops_of(result.bits) : 0.0) << "\nsize_bits\t"
      << (result.feasible ? size_bits_of(result.bits) : 0.0) << "\nsearch_cpu_seconds\t" << cpu << "\nnote\t" << note
      << (result.feasible ? "" : "; no feasible allocation: " + result.message) << "\n";
  write_file(out_file, out.str());
  std::printf("search %s at %s: %s (%s CPU)\n", method.c_str(), b.name().c_str(),
              result.feasible ? format_bits(result.bits).c_str() : ("none: " + result.message).c_str(),
              progress::format(cpu).c_str());
  return 0;
}

// ---- stage 4: quantization-aware fine-tuning, evaluation, export ------------------------------------

// The same recipe for every allocation: from the folded FP32 weights, LSQ steps initialised on 256
// images, SGD (momentum 0.9) with learning rate 0.01 decaying by a cosine to 0 over `epochs` epochs
// of batch 128, random horizontal flips; weights and steps trained together. conv1's weights and
// weight steps take the learning rate divided by 255² (QatNet::trainable_groups: they carry the
// folded 1/255 input scaling; with the plain rate one epoch diverged to 10 % accuracy).
int stage_qat(const args& a) {
  const fs::path work = a.get("work");
  const auto bits = parse_bits(a.get("bits"));
  const auto seed = static_cast<std::uint64_t>(a.number("seed", 0));
  const long epochs = a.number("epochs", 1);
  const std::string key = bits_key(bits) + "_s" + std::to_string(seed);
  fs::create_directories(work / "qat");
  fs::create_directories(work / "models");
  const double t0 = cpu_seconds();
  const data_sets d = load_data(a);
  Fp32Net fp = load_fp32(work);
  const auto folded = fold_network(fp);
  torch::manual_seed(seed);
  QatNet net(bits);
  net->load_folded(folded, d.train.images.narrow(0, 0, 256));
  const double base_lr = 0.01;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  std::vector<double> lr_scale;
  for (auto& [params, scale] : net->trainable_groups()) {
    groups.emplace_back(params, std::make_unique<torch::optim::SGDOptions>(base_lr * scale));
    lr_scale.push_back(scale);
  }
  torch::optim::SGD opt(std::move(groups), torch::optim::SGDOptions(base_lr).momentum(0.9));
  for (auto& g : opt.param_groups()) static_cast<torch::optim::SGDOptions&>(g.options()).momentum(0.9);
  const std::int64_t batch = 128, n = d.train.size(), per_epoch = n / batch;
  const long total = epochs * per_epoch;
  progress bar("qat " + key, total, 30.0);
  long step = 0;
  net->train();
  for (long e = 0; e < epochs; ++e) {
    const auto order = permutation(n, seed * 1000 + static_cast<std::uint64_t>(e) + 17);
    for (std::int64_t b = 0; b < per_epoch; ++b, ++step) {
      const double lr = base_lr * 0.5 * (1.0 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(total)));
      for (std::size_t g = 0; g < lr_scale.size(); ++g)
        static_cast<torch::optim::SGDOptions&>(opt.param_groups()[g].options()).lr(lr * lr_scale[g]);
      const auto idx = order.narrow(0, b * batch, batch);
      const auto x = random_flip(d.train.images.index_select(0, idx), seed * 7919 + static_cast<std::uint64_t>(step) + 5);
      const auto y = d.train.labels.index_select(0, idx);
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
      loss.backward();
      opt.step();
      net->clamp_steps();
      bar.update(step + 1);
    }
  }
  // Fake quantization (training forward) and the bit-exact integer mode, on the 10000 test images.
  const double fake = accuracy_of(predict(net, d.test), d.test);
  net->set_integer_inference(true);
  const torch::Tensor pred = predict(net, d.test).to(torch::kUInt8).contiguous();
  net->set_integer_inference(false);
  const auto correct = pred.to(torch::kInt64).eq(d.test.labels).sum().item<std::int64_t>();
  const auto crc = crc32(0L, pred.data_ptr<std::uint8_t>(), static_cast<uInt>(pred.numel()));

  // Export what the integer mode used: codes, steps, biases, input steps.
  const model m = export_model(net);
  const fs::path model_file = work / "models" / (key + ".mpq");
  mpq::throw_if_error(try_save_model(m, model_file.string()));
  char out[512];
  std::snprintf(out, sizeof out,
                "bits\t%s\nseed\t%llu\nepochs\t%ld\nfake_quant_accuracy\t%.4f\ninteger_accuracy\t%.4f\n"
                "integer_correct\t%lld\ninteger_predictions_crc32\t%08lx\nqat_cpu_seconds\t%.0f\nmodel\t%s\n",
                format_bits(bits).c_str(), static_cast<unsigned long long>(seed), epochs, fake,
                static_cast<double>(correct) / static_cast<double>(d.test.size()), static_cast<long long>(correct),
                static_cast<unsigned long>(crc), cpu_seconds() - t0, model_file.filename().c_str());
  write_file(work / "qat" / (key + ".tsv"), out);
  std::printf("qat %s: fake-quant %.2f %%, integer mode %.2f %% (%s CPU)\n", key.c_str(), 100.0 * fake,
              100.0 * static_cast<double>(correct) / static_cast<double>(d.test.size()),
              progress::format(cpu_seconds() - t0).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const args a = parse(argc, argv);
    torch::set_num_threads(static_cast<int>(a.number("threads", 1)));
    if (a.command == "fp32") return stage_fp32(a);
    if (a.command == "sensitivity") return stage_sensitivity(a);
    if (a.command == "search") return stage_search(a);
    if (a.command == "qat") return stage_qat(a);
    throw std::runtime_error("unknown stage '" + a.command + "'");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpq_fmnist_pipeline: %s\n", e.what());
    return 1;
  }
}
