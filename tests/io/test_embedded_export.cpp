// The embedded header exporter (mpq/io/embedded_header.hpp): validation with errors naming the
// layer and the rule, the engine's weight order (conv taps, flatten after a conv), packing, the
// header's text and budgets, the quantization helper, and the golden model's checks.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mpq/cost/bitops.hpp"
#include "mpq/cost/weight_size.hpp"
#include "mpq/io/embedded_header.hpp"
#include "mpq/io/embedded_reference.hpp"
#include "mpq/search/exhaustive.hpp"
#include "mpq/search/problem.hpp"
#include "mpq/search/sensitivity_tables.hpp"

namespace {

using mpq::bit_pair;
using mpq::errc;
using mpq::io::embedded_layer;
using mpq::io::embedded_layer_kind;

embedded_layer conv_layer(std::size_t cin, std::size_t side, std::size_t cout, std::size_t pool) {
  embedded_layer e;
  e.name = "conv";
  e.kind = embedded_layer_kind::conv2d;
  e.in_channels = cin;
  e.in_height = e.in_width = side;
  e.out_channels = cout;
  e.kernel = 3;
  e.padding = 1;
  e.pool = pool;
  e.weight_codes.assign(cout * cin * 9, 0);
  e.weight_steps = {0.5f};
  e.input_step = 0.25f;
  return e;
}

embedded_layer fc_layer(std::size_t in, std::size_t out) {
  embedded_layer e;
  e.name = "fc";
  e.in_channels = in;
  e.out_channels = out;
  e.weight_codes.assign(in * out, 0);
  e.weight_steps = {0.5f};
  e.bias.assign(out, 0.25f);
  e.input_step = 0.125f;
  return e;
}

std::string message_of(const mpq::status& s) { return s.message(); }

}  // namespace

TEST_CASE("prepare: conv weights go from OIHW to (ky, kx, c); an fc after a conv reads the HWC map") {
  embedded_layer c = conv_layer(2, 4, 3, 2);  // 2 x 4 x 4 -> 3 x 4 x 4 -> pool -> 3 x 2 x 2
  for (std::size_t i = 0; i < c.weight_codes.size(); ++i) c.weight_codes[i] = static_cast<std::int8_t>(i % 7 - 3);
  embedded_layer f = fc_layer(12, 2);
  for (std::size_t i = 0; i < f.weight_codes.size(); ++i) f.weight_codes[i] = static_cast<std::int8_t>(i % 13 - 6);
  const std::vector<embedded_layer> layers = {c, f};
  const std::vector<bit_pair> bits = {{4, 8}, {5, 6}};
  auto p = mpq::io::try_prepare_network(layers, bits);
  REQUIRE_MESSAGE(p.has_value(), message_of(p.error()));
  const auto& pc = p->layers[0];
  CHECK(pc.k == 18);
  // ours j = (ky * 3 + kx) * C + c  <-  OIHW (c * 3 + ky) * 3 + kx
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t ky = 0; ky < 3; ++ky)
      for (std::size_t kx = 0; kx < 3; ++kx)
        for (std::size_t ch = 0; ch < 2; ++ch)
          CHECK(pc.codes[n * 18 + (ky * 3 + kx) * 2 + ch] == c.weight_codes[n * 18 + (ch * 3 + ky) * 3 + kx]);
  // fc: ours j = (y * 2 + x) * 3 + ch  <-  PyTorch's flatten ch * 4 + y * 2 + x
  const auto& pf = p->layers[1];
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t pix = 0; pix < 4; ++pix)
      for (std::size_t ch = 0; ch < 3; ++ch) CHECK(pf.codes[n * 12 + pix * 3 + ch] == f.weight_codes[n * 12 + ch * 4 + pix]);
  // Packed: 4-bit interleaved rows of 64 codes (32 bytes), code 0 in the low nibble of byte 0.
  REQUIRE(pc.bytes.size() == 3 * 32);
  CHECK((pc.bytes[0] & 0xF) == (static_cast<unsigned>(pc.codes[0]) & 0xF));
  CHECK((pc.bytes[0] >> 4) == (static_cast<unsigned>(pc.codes[1]) & 0xF));
  CHECK(pc.bytes[31] == 0);  // padding codes are zero
  // Constants: per-tensor step broadcast, scale = s_w * s_a, input requantization at A bits.
  CHECK(pc.scale[2] == 0.5f * 0.25f);
  CHECK(pf.input.bits == 6);
  CHECK(pf.input.code_hi == 63);
  CHECK(pf.input.inverse_step == 8.0f);
  CHECK(pc.macs == 3u * 18 * 16);
  CHECK(pc.type_name() ==
        "mpq::embedded::layer<mpq::embedded::conv2d<3, 1, 1>, 4, 8, mpq::embedded::chw{2, 4, 4}, 3, "
        "mpq::embedded::maxpool<2, 2>>");
  CHECK(pf.type_name() == "mpq::embedded::layer<mpq::embedded::fc, 5, 6, 12, 2>");
}

TEST_CASE("prepare: errors name the layer and the rule, and nothing is produced") {
  const std::vector<bit_pair> two = {{4, 8}, {4, 8}};
  SUBCASE("float bits in the allocation") {
    const std::vector<embedded_layer> layers = {fc_layer(4, 3)};
    const std::vector<bit_pair> bits = {{32, 8}};
    auto p = mpq::io::try_prepare_network(layers, bits);
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().code() == errc::unsupported);
    CHECK(message_of(p.error()).find("layer 0 'fc'") != std::string::npos);
  }
  SUBCASE("shapes that do not chain") {
    const std::vector<embedded_layer> layers = {fc_layer(4, 3), fc_layer(5, 2)};
    auto p = mpq::io::try_prepare_network(layers, two);
    CHECK(p.error().code() == errc::shape_mismatch);
    CHECK(message_of(p.error()).find("layer 1") != std::string::npos);
  }
  SUBCASE("a code outside W bits") {
    embedded_layer f = fc_layer(4, 3);
    f.weight_codes[5] = 8;
    const std::vector<embedded_layer> layers = {f};
    auto p = mpq::io::try_prepare_network(layers, std::vector<bit_pair>{{4, 8}});
    CHECK(p.error().code() == errc::out_of_range);
    CHECK(message_of(p.error()).find("weight code 5 = 8: 4-bit signed codes lie in [-8, 7]") != std::string::npos);
  }
  SUBCASE("sizes of the constants") {
    embedded_layer f = fc_layer(4, 3);
    f.bias = {1.0f, 2.0f};
    auto p = mpq::io::try_prepare_network(std::vector<embedded_layer>{f}, std::vector<bit_pair>{{4, 8}});
    CHECK(p.error().code() == errc::shape_mismatch);
    CHECK(message_of(p.error()).find("bias has 2 values") != std::string::npos);
    f = fc_layer(4, 3);
    f.weight_codes.pop_back();
    CHECK(mpq::io::try_prepare_network(std::vector<embedded_layer>{f}, std::vector<bit_pair>{{4, 8}}).error().code() ==
          errc::shape_mismatch);
  }
  SUBCASE("non-finite and non-positive values") {
    embedded_layer f = fc_layer(4, 3);
    f.bias[1] = __builtin_nanf("");
    CHECK(mpq::io::try_prepare_network(std::vector<embedded_layer>{f}, std::vector<bit_pair>{{4, 8}}).error().code() ==
          errc::not_finite);
    f = fc_layer(4, 3);
    f.input_step = 0.0f;
    CHECK(mpq::io::try_prepare_network(std::vector<embedded_layer>{f}, std::vector<bit_pair>{{4, 8}}).error().code() ==
          errc::invalid_argument);
    f = fc_layer(4, 3);
    f.input_zero_point = 16;
    auto p = mpq::io::try_prepare_network(std::vector<embedded_layer>{f}, std::vector<bit_pair>{{4, 4}});
    CHECK(message_of(p.error()).find("input_zero_point = 16: must lie in [0, 15]") != std::string::npos);
    f = fc_layer(4, 3);
    f.weight_code_offset = 0.25f;
    CHECK(mpq::io::try_prepare_network(std::vector<embedded_layer>{f}, std::vector<bit_pair>{{4, 8}}).error().code() ==
          errc::invalid_argument);
  }
  SUBCASE("pooling: only conv layers, never the last one") {
    embedded_layer f = fc_layer(4, 3);
    f.pool = 2;
    CHECK(mpq::io::try_prepare_network(std::vector<embedded_layer>{f}, std::vector<bit_pair>{{4, 8}}).error().code() ==
          errc::invalid_argument);
    auto p = mpq::io::try_prepare_network(std::vector<embedded_layer>{conv_layer(1, 4, 2, 2)}, std::vector<bit_pair>{{4, 8}});
    CHECK(message_of(p.error()).find("cannot pool") != std::string::npos);
  }
  SUBCASE("K past the exact-int32 bound") {
    embedded_layer f = fc_layer(33026, 1);
    auto p = mpq::io::try_prepare_network(std::vector<embedded_layer>{f}, std::vector<bit_pair>{{8, 8}});
    CHECK(p.error().code() == errc::overflow);
  }
}

TEST_CASE("export: a search result on its problem gives a header with the layer types and budget asserts") {
  const std::vector<embedded_layer> layers = {conv_layer(1, 8, 4, 2), fc_layer(64, 10)};
  mpq::problem p;
  const int wb[] = {2, 4, 8}, ab[] = {4, 8};
  p.add_layer(mpq::conv2d_layer("conv", {1, 4, 8, 8, 3, 1, 1}), wb, ab);
  p.add_layer(mpq::linear_layer("fc", 64, 10), wb, ab);
  p.add_constraint(mpq::weight_size(mpq::memory_unit::bits), mpq::budget::absolute(2000.0));
  p.add_constraint(mpq::bitops{}, mpq::budget::uniform(4, 8));
  mpq::sensitivity_table t;
  for (std::size_t l = 0; l < 2; ++l)
    for (int w : wb)
      for (int a : ab) t.set(l, {w, a}, 1.0 / (w * a));
  p.set_objective(t);
  mpq::exhaustive_search s;
  const mpq::search_result r = s.solve(p);
  mpq::io::header_options o;
  o.namespace_name = "tiny_net";
  o.flash_budget_bytes = 4096;
  o.ram_budget_bytes = 1024;
  auto h = mpq::io::try_export_embedded_header(layers, r, p, o);
  REQUIRE_MESSAGE(h.has_value(), message_of(h.error()));
  const std::string& text = *h;
  char type0[200];
  std::snprintf(type0, sizeof type0,
                "using layer0 = mpq::embedded::layer<mpq::embedded::conv2d<3, 1, 1>, %d, %d, mpq::embedded::chw{1, 8, 8}, 4, "
                "mpq::embedded::maxpool<2, 2>>;",
                r.bits[0].w, r.bits[0].a);
  CHECK(text.find(type0) != std::string::npos);
  CHECK(text.find("using network = mpq::embedded::network<layer0, layer1>;") != std::string::npos);
  CHECK(text.find("static_assert(double(network::weight_size_bits) <= 2000.0") != std::string::npos);
  CHECK(text.find("static_assert(double(network::bitops) <= ") != std::string::npos);
  CHECK(text.find("static_assert(network::parameters_bytes <= flash_budget_bytes") != std::string::npos);
  CHECK(text.find("inline constexpr std::size_t ram_budget_bytes = 1024;") != std::string::npos);
  CHECK(text.find("#include \"mpq/embedded/network.hpp\"") != std::string::npos);
  CHECK(text.find("namespace tiny_net {") != std::string::npos);
  CHECK(text.find("inline constexpr const char* strategy = \"exhaustive\";") != std::string::npos);

  SUBCASE("the problem's layers must be the exported ones") {
    mpq::problem q;
    q.add_layer(mpq::conv2d_layer("conv", {1, 4, 8, 8, 3, 1, 1}), wb, ab);
    q.add_layer(mpq::linear_layer("fc", 64, 12), wb, ab);
    q.set_objective(t);
    auto bad = mpq::io::try_export_embedded_header(layers, r, q, o);
    CHECK(bad.error().code() == errc::shape_mismatch);
    CHECK(message_of(bad.error()).find("layer 1 'fc'") != std::string::npos);
  }
  SUBCASE("the namespace must be an identifier") {
    o.namespace_name = "9lives";
    CHECK(mpq::io::try_export_embedded_header(layers, r, p, o).error().code() == errc::invalid_argument);
  }
  SUBCASE("a prepared network that breaks a budget is refused, not rendered") {
    auto prepared = mpq::io::try_prepare_network(layers, r, p);
    REQUIRE(prepared.has_value());
    REQUIRE(!prepared->budgets.empty());
    prepared->budgets[0].budget = prepared->budgets[0].use - 1.0;
    CHECK(mpq::io::try_render_header(*prepared, o).error().code() == errc::infeasible);
  }
}

TEST_CASE("quantize_weights: symmetric per-channel codes and steps") {
  embedded_layer f = fc_layer(3, 2);
  const std::vector<float> w = {0.75f, -0.375f, 0.125f, 1.5f, -1.5f, 0.5f};
  REQUIRE(mpq::io::try_quantize_weights(f, w, 3).ok());  // codes in [-3, 3]
  CHECK(f.weight_steps == std::vector<float>{0.25f, 0.5f});
  CHECK(f.weight_codes == std::vector<std::int8_t>{3, -2, 0, 3, -3, 1});  // -1.5 and 0.5 round to even
  REQUIRE(mpq::io::try_quantize_weights(f, w, 4, /*per_channel=*/false).ok());
  CHECK(f.weight_steps.size() == 1);
  CHECK(mpq::io::try_quantize_weights(f, w, 1).code() == errc::invalid_argument);
  CHECK(mpq::io::try_quantize_weights(f, std::vector<float>(5, 0.0f), 4).code() == errc::shape_mismatch);
}

TEST_CASE("golden model: checks the input size; a zero network gives its biases") {
  const std::vector<embedded_layer> layers = {fc_layer(4, 3)};
  const std::vector<bit_pair> bits = {{4, 8}};
  auto bad = mpq::io::try_reference_forward(layers, bits, std::vector<float>(5, 0.0f));
  CHECK(bad.error().code() == errc::shape_mismatch);
  auto y = mpq::io::try_reference_forward(layers, bits, std::vector<float>(4, 1.0f));
  REQUIRE(y.has_value());
  CHECK(*y == std::vector<float>{0.25f, 0.25f, 0.25f});
}

TEST_CASE("write_text_file: an unwritable path is an io_error naming it") {
  const mpq::status s = mpq::io::try_write_text_file("/nonexistent-dir/x.hpp", "x");
  CHECK(s.code() == errc::io_error);
  CHECK(message_of(s).find("/nonexistent-dir/x.hpp") != std::string::npos);
}
