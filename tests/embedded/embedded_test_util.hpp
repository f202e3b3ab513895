// Shared by the embedded tests (built with MPQ_CORTEX_M_EMULATE_DSP, so the SMLAD backend runs): random layers in PyTorch's conventions, the engine's params built
// at run time through the exporter's preparation; the golden model is the oracle.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "mpq/arch/cortex_m/backend.hpp"
#include "mpq/embedded/engine.hpp"
#include "mpq/embedded/engine_simd.hpp"
#include "mpq/embedded/network.hpp"
#include "mpq/io/embedded_header.hpp"
#include "mpq/io/embedded_reference.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/search/seeded_random.hpp"

namespace embedded_test {

using mpq::io::embedded_layer;
using mpq::io::embedded_layer_kind;

/// A layer description matching type L (shapes, bits) with random codes and constants.
template <class L>
embedded_layer random_layer(std::uint64_t& rng, bool offsets) {
  embedded_layer e;
  e.name = std::to_string(rng % 1000);  // (assigning a literal trips GCC 12's false -Wrestrict at -O3)
  e.kind = L::is_conv ? embedded_layer_kind::conv2d : embedded_layer_kind::linear;
  e.in_channels = L::is_conv ? L::input_shape.c : L::k;
  e.in_height = L::is_conv ? L::input_shape.h : 1;
  e.in_width = L::is_conv ? L::input_shape.w : 1;
  e.out_channels = L::n;
  e.kernel = L::kind::kernel;
  e.stride = L::kind::stride;
  e.padding = L::kind::padding;
  e.pool = L::pool::size > 1 ? L::pool::size : 0;
  e.pool_stride = L::pool::stride;
  const std::int32_t lo = mpq::code_min(L::weight_bits, mpq::signed_codes);
  const std::int32_t hi = mpq::code_max(L::weight_bits, mpq::signed_codes);
  e.weight_codes.resize(L::n * L::k);
  for (auto& c : e.weight_codes)
    c = static_cast<std::int8_t>(lo + static_cast<std::int32_t>(mpq::detail::splitmix64(rng) % static_cast<std::uint64_t>(hi - lo + 1)));
  e.weight_steps.resize(L::n);
  for (auto& s : e.weight_steps) s = static_cast<float>(0.01 + 0.05 * mpq::detail::uniform_open01(rng));
  e.bias.resize(L::n);
  for (auto& b : e.bias) b = static_cast<float>(mpq::detail::standard_normal(rng) * 0.3);
  e.input_step = static_cast<float>(0.02 + 0.1 * mpq::detail::uniform_open01(rng));
  if (offsets) {
    e.input_zero_point = mpq::code_max(L::activation_bits, mpq::unsigned_codes) / 3;
    e.weight_code_offset = 0.5f;
    e.input_relu = false;
  }
  return e;
}

/// The params of type L from a prepared layer (what the generated header's make({...}) holds).
template <class L>
std::unique_ptr<typename L::params> params_of(const mpq::io::prepared_layer& p) {
  auto s = std::make_unique<typename L::spec>();
  REQUIRE(p.bytes.size() == s->weights.size());
  std::copy(p.bytes.begin(), p.bytes.end(), s->weights.begin());
  std::copy(p.weight_steps.begin(), p.weight_steps.end(), s->weight_steps.begin());
  std::copy(p.scale.begin(), p.scale.end(), s->scale.begin());
  std::copy(p.bias.begin(), p.bias.end(), s->bias.begin());
  s->has_bias = p.has_bias;
  s->input = p.input;
  s->weight_code_offset = p.weight_code_offset;
  return std::make_unique<typename L::params>(L::make(*s));
}

/// Owns a network's params (built at run time) and its parameters object.
template <class Net>
struct built_network;
template <class... Ls>
struct built_network<mpq::embedded::network<Ls...>> {
  using net = mpq::embedded::network<Ls...>;
  std::vector<embedded_layer> layers;
  mpq::io::prepared_network prepared;
  std::tuple<std::unique_ptr<typename Ls::params>...> params;
  std::unique_ptr<typename net::parameters> parameters;

  built_network(std::uint64_t seed, bool offsets) {
    std::uint64_t rng = seed;
    layers = {random_layer<Ls>(rng, offsets)...};
    std::vector<mpq::bit_pair> bits = {mpq::bit_pair{Ls::weight_bits, Ls::activation_bits}...};
    auto p = mpq::io::try_prepare_network(layers, bits);
    REQUIRE_MESSAGE(p.has_value(), std::string(p.error().message()));
    prepared = *p;
    fill(std::index_sequence_for<Ls...>{});
  }

 private:
  template <std::size_t... I>
  void fill(std::index_sequence<I...>) {
    ((std::get<I>(params) = params_of<Ls>(prepared.layers[I])), ...);
    parameters = std::make_unique<typename net::parameters>(std::get<I>(params).get()...);
  }
};

/// The golden model (mpq/io/embedded_reference.hpp) on the layers' PyTorch-order codes.
template <class Net>
std::vector<float> oracle(const std::vector<embedded_layer>& layers, std::span<const float> input) {
  std::vector<mpq::bit_pair> bits;
  [&]<class... Ls>(mpq::embedded::network<Ls...>*) { bits = {mpq::bit_pair{Ls::weight_bits, Ls::activation_bits}...}; }(
      static_cast<Net*>(nullptr));
  auto y = mpq::io::try_reference_forward(layers, bits, input);
  REQUIRE_MESSAGE(y.has_value(), std::string(y.error().message()));
  return *y;
}

inline std::vector<float> random_input(std::size_t n, std::uint64_t seed) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(mpq::detail::uniform_open01(seed) * 2.5 - 0.4);
  return v;
}

inline bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// Every backend (reference, SIMD front end, SMLAD) against the golden model, bit for bit, on
/// three random inputs of a network with random constants.
template <class Net>
void check_all_backends(std::uint64_t seed, bool offsets) {
  // A fresh copy per call: engines keep a pointer to the parameters.
  static std::unique_ptr<built_network<Net>> keep;
  keep = std::make_unique<built_network<Net>>(seed, offsets);
  for (std::uint64_t trial = 0; trial < 3; ++trial) {
    const std::vector<float> x = random_input(Net::input_size, seed * 31 + trial);
    const std::vector<float> want = oracle<Net>(keep->layers, x);
    REQUIRE(want.size() == Net::output_size);
    mpq::embedded::engine<Net, mpq::embedded::reference_backend> ref(*keep->parameters);
    std::vector<float> y(Net::output_size);
    REQUIRE(ref.try_run(x, y).ok());
    CHECK(same_bits(y, want));
    mpq::embedded::engine<Net, mpq::embedded::simd_backend> simd(*keep->parameters);
    std::vector<float> ys(Net::output_size);
    REQUIRE(simd.try_run(x, ys).ok());
    CHECK(same_bits(ys, want));
    mpq::embedded::engine<Net, mpq::embedded::cortex_m_dsp_backend> dsp(*keep->parameters);
    std::vector<float> yd(Net::output_size);
    REQUIRE(dsp.try_run(x, yd).ok());
    CHECK(same_bits(yd, want));
  }
}

/// Test networks: a three-layer MLP and a four-layer CNN (padding, stride 1 and 2 kernels, 2x2 and
/// overlapping 3x3/1 pooling, flatten into an fc), bits from the template arguments.
namespace emb = mpq::embedded;
template <int W, int A>
using mlp = emb::network<emb::layer<emb::fc, W, A, 77, 21>, emb::layer<emb::fc, W % 8 + 1, A % 8 + 1, 21, 9>,
                         emb::layer<emb::fc, 8, A, 9, 5>>;

template <int W1, int W2, int A>
using cnn = emb::network<emb::layer<emb::conv2d<3, 1, 1>, W1, A, emb::chw{3, 9, 11}, 6, emb::maxpool<2>>,     // 6x4x5
                         emb::layer<emb::conv2d<2, 1, 0>, W2, 8, emb::chw{6, 4, 5}, 7>,                       // 7x3x4
                         emb::layer<emb::conv2d<3, 1, 1>, W1, A, emb::chw{7, 3, 4}, 4, emb::maxpool<3, 1>>,   // 4x1x2
                         emb::layer<emb::fc, W2, 8, 8, 5>>;

}  // namespace embedded_test
