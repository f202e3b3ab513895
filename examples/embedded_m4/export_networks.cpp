// Host half of the embedded example: two small networks from fixed seeds (a 784-128-64-10 MLP and a
// conv-conv-conv-fc-fc CNN shaped like the end-to-end one), each readout fitted by least squares on
// Fashion-MNIST, bits searched by mpq's exact ILP under a weight-size and a BitOps budget, quantized,
// and exported with mpq's header exporter. Writes into <out dir>:
//   mlp_net.hpp, cnn_net.hpp   the networks (mpq/io/embedded_header.hpp)
//   embedded_inputs.hpp        a few test images, their labels and the golden model's outputs
// Usage: mpq_embedded_export <out dir> [fashion-mnist dir]   (synthetic images when the data is absent)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "fmnist_data.hpp"
#include "mpq/cost/bitops.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/io/embedded_header.hpp"
#include "mpq/io/embedded_reference.hpp"
#include "mpq/quant/uniform.hpp"
#include "mpq/search/ilp.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/seeded_random.hpp"
#include "mpq/search/sensitivity_mse.hpp"
#include "mpq/search/sensitivity_tables.hpp"

namespace {

using mpq::io::embedded_layer;
using mpq::io::embedded_layer_kind;

constexpr std::size_t pixels = 784;
constexpr std::size_t shown_images = 6;     // embedded in the firmware, printed with predictions
constexpr std::size_t fit_images = 1000;    // readout fit (train split)
constexpr std::size_t eval_images = 1000;   // accuracy, float and quantized (t10k split)

struct images {
  std::vector<float> x;  // n x 784 in [0, 1]
  std::vector<std::uint8_t> pixels, labels;
  std::size_t n = 0;
  const float* image(std::size_t i) const { return x.data() + i * ::pixels; }
};

images to_images(const std::vector<std::uint8_t>& px, const std::vector<std::uint8_t>& labels, std::size_t n) {
  images im;
  im.n = std::min(n, labels.size());
  im.pixels.assign(px.begin(), px.begin() + static_cast<std::ptrdiff_t>(im.n * pixels));
  im.labels.assign(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(im.n));
  im.x.resize(im.pixels.size());
  for (std::size_t i = 0; i < im.x.size(); ++i) im.x[i] = static_cast<float>(im.pixels[i]) / 255.0f;
  return im;
}

// Without the data set: blobs on a dark background, labelled by where the brightest blob sits.
images synthetic(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint8_t> px(n * pixels), labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double cy = 4 + 20 * mpq::detail::uniform_open01(seed), cx = 4 + 20 * mpq::detail::uniform_open01(seed);
    for (std::size_t p = 0; p < pixels; ++p) {
      const double dy = static_cast<double>(p / 28) - cy, dx = static_cast<double>(p % 28) - cx;
      px[i * pixels + p] = static_cast<std::uint8_t>(255.0 * std::exp(-(dy * dy + dx * dx) / 18.0));
    }
    labels[i] = static_cast<std::uint8_t>(static_cast<int>(cy / 10.0) * 3 + static_cast<int>(cx / 10.0));
  }
  return to_images(px, labels, n);
}

// ---- a float network in PyTorch's conventions (the "trained" model) -----------------------------------

struct float_net {
  std::vector<embedded_layer> shape;  // geometry only
  std::vector<std::vector<float>> w, b;
};

embedded_layer linear(const char* name, std::size_t in, std::size_t out) {
  embedded_layer e;
  e.name = name;
  e.in_channels = in;
  e.out_channels = out;
  return e;
}
embedded_layer conv(const char* name, std::size_t cin, std::size_t side, std::size_t cout, std::size_t pool) {
  embedded_layer e;
  e.name = name;
  e.kind = embedded_layer_kind::conv2d;
  e.in_channels = cin;
  e.in_height = e.in_width = side;
  e.out_channels = cout;
  e.kernel = 3;
  e.padding = 1;
  e.pool = pool;
  return e;
}

// He-normal weights, small biases, from a fixed seed.
float_net random_net(std::vector<embedded_layer> shape, std::uint64_t seed) {
  float_net f;
  f.shape = std::move(shape);
  for (const embedded_layer& e : f.shape) {
    const std::size_t fan_in = e.in_channels * e.kernel * e.kernel;
    std::vector<float> w(e.out_channels * fan_in), b(e.out_channels);
    const double sd = std::sqrt(2.0 / static_cast<double>(fan_in));
    for (float& v : w) v = static_cast<float>(sd * mpq::detail::standard_normal(seed));
    for (float& v : b) v = static_cast<float>(0.05 * mpq::detail::standard_normal(seed));
    f.w.push_back(std::move(w));
    f.b.push_back(std::move(b));
  }
  return f;
}

// Float forward pass (ReLU after every hidden layer, then its pooling). `inputs[l]` receives layer
// l's input; the return value is the last layer's output.
std::vector<float> forward(const float_net& f, const float* image, std::vector<std::vector<float>>* inputs = nullptr,
                           std::size_t stop = static_cast<std::size_t>(-1)) {
  std::vector<float> x(image, image + f.shape[0].in_channels * f.shape[0].in_height * f.shape[0].in_width);
  for (std::size_t l = 0; l < f.shape.size() && l < stop; ++l) {
    const embedded_layer& e = f.shape[l];
    if (inputs) (*inputs)[l] = x;
    const bool is_conv = e.kind == embedded_layer_kind::conv2d;
    const std::size_t H = e.in_height, W = e.in_width, C = e.in_channels, k = e.kernel;
    const std::size_t oh = is_conv ? H + 2 * e.padding - k + 1 : 1, ow = is_conv ? W + 2 * e.padding - k + 1 : 1;
    std::vector<float> y(e.out_channels * oh * ow);
    for (std::size_t n = 0; n < e.out_channels; ++n)
      for (std::size_t p = 0; p < oh * ow; ++p) {
        double s = f.b[l][n];
        if (is_conv) {
          for (std::size_t c = 0; c < C; ++c)
            for (std::size_t ky = 0; ky < k; ++ky)
              for (std::size_t kx = 0; kx < k; ++kx) {
                const std::size_t iy = p / ow + ky, ix = p % ow + kx;
                if (iy < e.padding || ix < e.padding || iy - e.padding >= H || ix - e.padding >= W) continue;
                s += f.w[l][((n * C + c) * k + ky) * k + kx] * x[(c * H + iy - e.padding) * W + ix - e.padding];
              }
        } else {
          for (std::size_t j = 0; j < x.size(); ++j) s += f.w[l][n * x.size() + j] * x[j];
        }
        y[n * oh * ow + p] = static_cast<float>(s);
      }
    if (l + 1 == f.shape.size()) return y;
    for (float& v : y) v = std::max(v, 0.0f);
    if (e.pool > 1) {
      const std::size_t ph = oh / e.pool, pw = ow / e.pool;
      std::vector<float> pooled(e.out_channels * ph * pw);
      for (std::size_t n = 0; n < e.out_channels; ++n)
        for (std::size_t py = 0; py < ph; ++py)
          for (std::size_t px = 0; px < pw; ++px) {
            float m = 0.0f;
            for (std::size_t d = 0; d < e.pool * e.pool; ++d)
              m = std::max(m, y[(n * oh + py * e.pool + d / e.pool) * ow + px * e.pool + d % e.pool]);
            pooled[(n * ph + py) * pw + px] = m;
          }
      y = std::move(pooled);
    }
    x = std::move(y);
  }
  return x;
}

// The readout (last layer) by ridge regression on the features the other layers give: one-hot
// targets, lambda = 1e-2 * trace / features, solved by Cholesky.
void fit_readout(float_net& f, const images& data) {
  const std::size_t L = f.shape.size() - 1, d = f.shape[L].in_channels + 1, classes = f.shape[L].out_channels;
  std::vector<double> A(d * d, 0.0), B(d * classes, 0.0);
  for (std::size_t i = 0; i < data.n; ++i) {
    const std::vector<float> features = forward(f, data.image(i), nullptr, L);  // the readout's input
    std::vector<double> phi(features.begin(), features.end());
    phi.push_back(1.0);
    for (std::size_t r = 0; r < d; ++r) {
      for (std::size_t c = 0; c < d; ++c) A[r * d + c] += phi[r] * phi[c];
      B[r * classes + data.labels[i] % classes] += phi[r];
    }
  }
  double trace = 0.0;
  for (std::size_t r = 0; r < d; ++r) trace += A[r * d + r];
  for (std::size_t r = 0; r < d; ++r) A[r * d + r] += 1e-2 * trace / static_cast<double>(d);
  for (std::size_t j = 0; j < d; ++j) {  // A = G G^T, in place (lower triangle)
    for (std::size_t k = 0; k < j; ++k) A[j * d + j] -= A[j * d + k] * A[j * d + k];
    A[j * d + j] = std::sqrt(A[j * d + j]);
    for (std::size_t i = j + 1; i < d; ++i) {
      for (std::size_t k = 0; k < j; ++k) A[i * d + j] -= A[i * d + k] * A[j * d + k];
      A[i * d + j] /= A[j * d + j];
    }
  }
  for (std::size_t c = 0; c < classes; ++c) {  // solve G G^T beta = B[:, c]
    std::vector<double> z(d);
    for (std::size_t i = 0; i < d; ++i) {
      double s = B[i * classes + c];
      for (std::size_t k = 0; k < i; ++k) s -= A[i * d + k] * z[k];
      z[i] = s / A[i * d + i];
    }
    for (std::size_t i = d; i-- > 0;) {
      double s = z[i];
      for (std::size_t k = i + 1; k < d; ++k) s -= A[k * d + i] * z[k];
      z[i] = s / A[i * d + i];
    }
    for (std::size_t j = 0; j + 1 < d; ++j) f.w[L][c * (d - 1) + j] = static_cast<float>(z[j]);
    f.b[L][c] = static_cast<float>(z[d - 1]);
  }
}

// ---- search, quantization, export --------------------------------------------------------------------

mpq::layer_info info_of(const embedded_layer& e) {
  if (e.kind == embedded_layer_kind::linear) return mpq::linear_layer(e.name, static_cast<std::int64_t>(e.in_channels),
                                                                      static_cast<std::int64_t>(e.out_channels));
  return mpq::conv2d_layer(e.name, {static_cast<std::int64_t>(e.in_channels), static_cast<std::int64_t>(e.out_channels),
                                    static_cast<std::int64_t>(e.in_height), static_cast<std::int64_t>(e.in_width),
                                    static_cast<std::int64_t>(e.kernel), 1, static_cast<std::int64_t>(e.padding)});
}

float input_step(float max_value, int bits) {
  return max_value / static_cast<float>((1 << bits) - 1);
}

struct exported {
  std::vector<embedded_layer> layers;
  mpq::search_result result;
  std::vector<mpq::bit_pair> bits;
};

// The search: Omega(l, W, A) = ||Q_W(w_l) - w_l||^2 / ||w_l||^2 + E||Q_A(x_l) - x_l||^2 / E||x_l||^2,
// the noise-to-signal ratios of the layer's weights (mpq's weight_quantization_error) and of its
// input (calibrated uniform quantizers on `calib`): scale-free, so layers of any size and scale
// compare. Under a weight-size budget in bytes and a BitOps budget; then quantization with the
// chosen bits and export.
exported search_and_quantize(const float_net& f, const images& calib, double weight_bytes_budget,
                             mpq::bit_pair bitops_budget_pair, const char* name, mpq::problem& p) {
  const std::size_t L = f.shape.size();
  const int wbits[] = {2, 3, 4, 5, 6, 8}, abits[] = {4, 6, 8};
  for (const embedded_layer& e : f.shape) p.add_layer(info_of(e), wbits, abits);
  p.add_constraint(mpq::weight_size(mpq::memory_unit::bytes), mpq::budget::absolute(weight_bytes_budget));
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(bitops_budget_pair));

  std::vector<std::vector<std::vector<float>>> inputs(calib.n, std::vector<std::vector<float>>(L));
  std::vector<float> in_max(L, 0.0f);
  for (std::size_t i = 0; i < calib.n; ++i) {
    forward(f, calib.image(i), &inputs[i]);
    for (std::size_t l = 0; l < L; ++l)
      for (float v : inputs[i][l]) in_max[l] = std::max(in_max[l], v);
  }
  in_max[0] = 1.0f;  // the input is pixels / 255: its quantizer covers [0, 1]
  std::vector<std::span<const float>> spans(f.w.begin(), f.w.end());
  const mpq::weight_quantization_error werr(spans);
  mpq::sensitivity_table table;
  for (std::size_t l = 0; l < L; ++l) {
    double w_energy = 0.0, x_energy = 0.0;
    for (float v : f.w[l]) w_energy += static_cast<double>(v) * v;
    for (std::size_t i = 0; i < calib.n; ++i)
      for (float v : inputs[i][l]) x_energy += static_cast<double>(v) * v;
    for (int a : abits) {
      const float step = input_step(in_max[l], a);
      const mpq::kernel::requantization q{a, 1.0f / step, 0, 0, (1 << a) - 1};
      double err = 0.0;
      for (std::size_t i = 0; i < calib.n; ++i)
        for (float v : inputs[i][l]) {
          const double d = v - step * static_cast<float>(mpq::kernel::requantize_output(v, q));
          err += d * d;
        }
      for (int w : wbits) table.set(l, {w, a}, werr.error(l, w) / w_energy + err / x_energy);
    }
  }
  p.set_objective(table);
  mpq::ilp_search ilp;
  exported out;
  out.result = ilp.solve(p);
  out.bits = out.result.bits;
  std::printf("%s: ilp %s, objective %.6g;", name, out.result.proven_optimal ? "proven optimal" : "not proven",
              out.result.objective);
  for (std::size_t c = 0; c < out.result.constraints.size(); ++c)
    std::printf(" %s %.0f <= %.0f;", out.result.constraints[c].name.c_str(), out.result.constraints[c].use,
                out.result.constraints[c].budget);
  std::printf(" bits (W,A):");
  for (const mpq::bit_pair& b : out.bits) std::printf(" %d/%d", b.w, b.a);
  std::printf("\n");

  for (std::size_t l = 0; l < L; ++l) {
    embedded_layer e = f.shape[l];
    mpq::throw_if_error(mpq::io::try_quantize_weights(e, f.w[l], out.bits[l].w, /*per_channel=*/true));
    e.bias = f.b[l];
    e.input_step = input_step(in_max[l], out.bits[l].a);
    out.layers.push_back(std::move(e));
  }
  return out;
}

double float_accuracy(const float_net& f, const images& data) {
  std::size_t right = 0;
  for (std::size_t i = 0; i < data.n; ++i) {
    const std::vector<float> y = forward(f, data.image(i));
    right += static_cast<std::size_t>(std::max_element(y.begin(), y.end()) - y.begin()) == data.labels[i];
  }
  return static_cast<double>(right) / static_cast<double>(data.n);
}

double quantized_accuracy(const exported& q, const images& data) {
  std::size_t right = 0;
  for (std::size_t i = 0; i < data.n; ++i) {
    const std::vector<float> y =
        mpq::io::try_reference_forward(q.layers, q.bits, std::span<const float>(data.image(i), pixels)).value();
    right += static_cast<std::size_t>(std::max_element(y.begin(), y.end()) - y.begin()) == data.labels[i];
  }
  return static_cast<double>(right) / static_cast<double>(data.n);
}

std::string expected_outputs(const char* name, const exported& q, const images& shown) {
  std::string s = "inline constexpr std::uint32_t " + std::string(name) + "_expected[image_count][" +
                  std::to_string(q.layers.back().out_channels) + "] = {\n";
  for (std::size_t i = 0; i < shown.n; ++i) {
    const std::vector<float> y =
        mpq::io::try_reference_forward(q.layers, q.bits, std::span<const float>(shown.image(i), pixels)).value();
    s += "    {";
    for (float v : y) {
      std::uint32_t u;
      std::memcpy(&u, &v, 4);
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%08xu,", u);
      s += buf;
    }
    s += "},\n";
  }
  return s + "};\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <out dir> [fashion-mnist dir]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const std::string data_dir = argc > 2 ? argv[2] : fmnist::default_dir;
  std::filesystem::create_directories(out);

  images fit, eval;
  bool real = false;
  try {
    const fmnist::split train = fmnist::load(data_dir, "train"), test = fmnist::load(data_dir, "t10k");
    fit = to_images(train.pixels, train.labels, fit_images);
    eval = to_images(test.pixels, test.labels, eval_images);
    real = true;
  } catch (const std::exception& e) {
    std::printf("no Fashion-MNIST (%s): synthetic images instead\n", e.what());
    fit = synthetic(fit_images, 11);
    eval = synthetic(eval_images, 12);
  }
  const images shown = to_images(eval.pixels, eval.labels, shown_images);

  // The MLP: 784-128-64-10, weight budget 44 000 bytes (3.2 bits per weight on average), BitOps
  // at most those of uniform W4A8.
  float_net mlp = random_net({linear("fc1", 784, 128), linear("fc2", 128, 64), linear("fc3", 64, 10)}, 0x5eed);
  fit_readout(mlp, fit);
  mpq::problem mlp_problem;
  const exported mlp_q = search_and_quantize(mlp, fit, 44000.0, {4, 8}, "mlp", mlp_problem);

  // The CNN of the end-to-end shape: conv 1->8 (pool 2), conv 8->16 (pool 2), conv 16->16, fc 784->32,
  // fc 32->10; weight budget 14 000 bytes (3.9 bits per weight), BitOps at most uniform W4A8.
  float_net cnn = random_net({conv("conv1", 1, 28, 8, 2), conv("conv2", 8, 14, 16, 2), conv("conv3", 16, 7, 16, 0),
                              linear("fc1", 784, 32), linear("fc2", 32, 10)},
                             0xc0ffee);
  fit_readout(cnn, fit);
  mpq::problem cnn_problem;
  const exported cnn_q = search_and_quantize(cnn, fit, 14000.0, {4, 8}, "cnn", cnn_problem);

  struct job {
    const char* ns;
    const exported* q;
    const mpq::problem* p;
    std::size_t flash, ram;
    const char* what;
  };
  const job jobs[] = {
      {"mlp_net", &mlp_q, &mlp_problem, 56 * 1024, 8 * 1024,
       "784-128-64-10 MLP (fixed-seed hidden layers, least-squares readout on Fashion-MNIST)"},
      {"cnn_net", &cnn_q, &cnn_problem, 20 * 1024, 16 * 1024,
       "conv-conv-conv-fc-fc CNN (fixed-seed convolutions, least-squares readout on Fashion-MNIST)"},
  };
  for (const job& j : jobs) {
    mpq::io::header_options o;
    o.namespace_name = j.ns;
    o.description = j.what;
    o.flash_budget_bytes = j.flash;
    o.ram_budget_bytes = j.ram;
    const std::string text = mpq::io::try_export_embedded_header(j.q->layers, j.q->result, *j.p, o).value();
    mpq::throw_if_error(mpq::io::try_write_text_file((out / (std::string(j.ns) + ".hpp")).string(), text));
  }

  std::string in = "// embedded_inputs.hpp: test images for the embedded example, written by mpq_embedded_export.\n"
                   "#pragma once\n\n#include <cstddef>\n#include <cstdint>\n\nnamespace embedded_inputs {\n\n";
  in += "inline constexpr bool fashion_mnist = " + std::string(real ? "true" : "false") + ";\n";
  in += "inline constexpr std::size_t image_count = " + std::to_string(shown.n) + ";\n";
  in += "inline constexpr std::uint8_t images[image_count][784] = {\n";
  for (std::size_t i = 0; i < shown.n; ++i) {
    in += "    {";
    for (std::size_t p = 0; p < pixels; ++p) in += std::to_string(shown.pixels[i * pixels + p]) + ",";
    in += "},\n";
  }
  in += "};\ninline constexpr std::uint8_t labels[image_count] = {";
  for (std::size_t i = 0; i < shown.n; ++i) in += std::to_string(shown.labels[i]) + ",";
  in += "};\n";
  in += "inline constexpr const char* class_names[10] = {";
  for (std::size_t c = 0; c < 10; ++c)
    in += std::string("\"") + (real ? fmnist::class_names[c] : "blob") + "\",";
  in += "};\n";
  in += expected_outputs("mlp", mlp_q, shown);
  in += expected_outputs("cnn", cnn_q, shown);
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "// Top-1 on the first %zu t10k images, float model and quantized (golden model): tenths of a percent.\n"
                "inline constexpr int mlp_accuracy_float = %d, mlp_accuracy_quantized = %d;\n"
                "inline constexpr int cnn_accuracy_float = %d, cnn_accuracy_quantized = %d;\n",
                eval.n, static_cast<int>(std::lround(1000 * float_accuracy(mlp, eval))),
                static_cast<int>(std::lround(1000 * quantized_accuracy(mlp_q, eval))),
                static_cast<int>(std::lround(1000 * float_accuracy(cnn, eval))),
                static_cast<int>(std::lround(1000 * quantized_accuracy(cnn_q, eval))));
  in += buf;
  in += "\n}  // namespace embedded_inputs\n";
  mpq::throw_if_error(mpq::io::try_write_text_file((out / "embedded_inputs.hpp").string(), in));
  std::printf("wrote %s/{mlp_net,cnn_net,embedded_inputs}.hpp\n", out.string().c_str());
  return 0;
}
