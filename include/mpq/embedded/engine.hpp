// Inference on a compile-time network: mpq::embedded::engine<Network, Backend> runs the layers with
// a fixed workspace held by value (no heap: declare the engine static and it lives in .bss), im2col
// for convolutions, max pooling on codes, and the exact epilogue of kernel/epilogue.hpp. The
// backend supplies only the integer GEMM; the scalar reference backend is defined here.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <tuple>
#include <utility>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/embedded/layer.hpp"
#include "mpq/embedded/network.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/kernel/reference.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/view.hpp"

namespace mpq::embedded {

/// @brief Bytes of `count` Bits-bit codes stored as one interleaved row (padded to 64 codes): the
/// engine's activation buffers hold a whole feature map (HWC) this way.
constexpr std::size_t packed_codes_bytes(int bits, std::size_t count) noexcept {
  return interleaved::row_bytes(bits, round_up(count, interleaved::col_block(bits)));
}

namespace detail {

/// Code j of a feature map held as one interleaved row of Bits-bit unsigned codes.
template <int Bits>
MPQ_ALWAYS_INLINE std::int32_t load_code(std::span<const std::uint8_t> row, std::size_t j) noexcept {
  if constexpr (Bits == 8) {
    return row[j];
  } else {
    return static_cast<std::int32_t>(interleaved::load(row, Bits, 0, j));
  }
}
template <int Bits>
MPQ_ALWAYS_INLINE void store_code(std::span<std::uint8_t> row, std::size_t j, std::int32_t code) noexcept {
  if constexpr (Bits == 8) {
    row[j] = static_cast<std::uint8_t>(code);
  } else {
    interleaved::store(row, Bits, 0, j, code_to_field(code, Bits));
  }
}

}  // namespace detail

/// @brief Staging rows for backends whose GEMM reads packed activations (reference, SIMD front end):
/// `rows` rows of K unsigned A-bit codes, interleaved, each padded to 64 codes with zero codes.
template <Layer L>
struct packed_rows {
  static constexpr int bits = L::activation_bits;
  static constexpr std::size_t padded_k = round_up(L::k, interleaved::col_block(bits));
  static constexpr std::size_t row_bytes = interleaved::row_bytes(bits, padded_k);
  static constexpr std::size_t bytes(std::size_t rows) noexcept { return rows * row_bytes; }

  std::uint8_t* data = nullptr;

  /// @brief Row r becomes all zero codes (the padding stays so; set() fills the real columns).
  void clear_row(std::size_t r) const noexcept { std::memset(data + r * row_bytes, 0, row_bytes); }
  MPQ_ALWAYS_INLINE void set(std::size_t r, std::size_t k, std::int32_t code) const noexcept {
    detail::store_code<bits>(std::span<std::uint8_t>(data + r * row_bytes, row_bytes), k, code);
  }
  /// @brief The first `rows` rows as a kernel operand.
  packed_view<bits, unsigned_codes, interleaved> view(std::size_t rows) const noexcept {
    return {data, rows, L::k, padded_k, row_bytes};
  }
};

/// @brief The per-layer state of a backend that needs none (it reads the params' weights as they are).
template <Layer L>
struct stateless_layer {
  constexpr explicit stateless_layer(const typename L::params&) noexcept {}
};

/// @brief The scalar reference backend: mpq::kernel::try_reference_gemm on packed staging rows, one
/// pooling window (or one fc row) per call. Core-only: no xsimd, no heap, no exceptions.
struct reference_backend {
  static constexpr const char* name = "reference";

  template <Layer L>
  using layer_state = stateless_layer<L>;
  template <Layer L>
  using rows = packed_rows<L>;
  template <Layer L>
  static constexpr std::size_t chunk_windows = 1;

  template <Layer L>
  static status gemm(const layer_state<L>&, const typename L::params& p, const rows<L>& a, std::size_t nrows,
                     std::int32_t* acc) noexcept {
    return kernel::try_reference_gemm(a.view(nrows), p.weights.view(), std::span<std::int32_t>(acc, nrows * L::n),
                                      L::n);
  }
};

/// @brief What the engine needs of a backend, for layer type L: a per-layer state built from the
/// layer's params (prepacked weights, or nothing), a staging-row type over a byte buffer
/// (clear_row, set(r, k, code), bytes(rows)), how many pooling windows it takes per call, and
/// gemm(state, params, rows, nrows, acc): acc[r * N + n] = sum_k rows[r][k] W[n][k], exact int32.
/// Satisfied by reference_backend, simd_backend (engine_simd.hpp, the host's SIMD kernels) and
/// cortex_m_dsp_backend (arch/cortex_m/backend.hpp, SMLAD).
template <class B, class L>
concept BackendFor = Layer<L> && requires(const typename B::template layer_state<L>& st, const typename L::params& p,
                                          const typename B::template rows<L>& r, std::uint8_t* buf, std::int32_t* acc) {
  { B::name } -> std::convertible_to<const char*>;
  { B::template chunk_windows<L> } -> std::convertible_to<std::size_t>;
  { B::template rows<L>::bytes(std::size_t{1}) } -> std::same_as<std::size_t>;
  { typename B::template rows<L>{buf} };
  { r.clear_row(std::size_t{0}) };
  { r.set(std::size_t{0}, std::size_t{0}, std::int32_t{0}) };
  { B::template gemm<L>(st, p, r, std::size_t{1}, acc) } -> std::same_as<status>;
};

namespace detail {
template <class B, class Net>
struct backend_fits;
template <class B, class... Ls>
struct backend_fits<B, network<Ls...>> {
  static constexpr bool value = (BackendFor<B, Ls> && ...);
};
}  // namespace detail

/// @brief A backend that runs every layer of network Net.
template <class B, class Net>
concept BackendForNetwork = Network<Net> && detail::backend_fits<B, Net>::value;

/// @brief Index of the largest value (the first one on ties): the predicted class of logits.
constexpr std::size_t argmax(std::span<const float> v) noexcept {
  std::size_t best = 0;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

/// @brief Runs network Net with Backend's integer GEMM. Holds its whole workspace by value:
/// two activation buffers (a feature map of packed codes each, ping-pong), the staging rows of
/// one GEMM call, its int32 accumulators. Size: workspace_bytes, known at compile time.
///
///   static mpq::embedded::engine<my_net::network, mpq::embedded::reference_backend> e(my_net::parameters);
///   std::array<float, 10> logits;
///   if (auto s = e.try_run(image, logits); !s) { ... s.message() ... }
///
/// Per layer: the input codes are staged (im2col for conv2d, rows in pooling-window order), the
/// backend computes the exact int32 sums, the epilogue gives v = scale[n] * r + bias[n] (float32,
/// kernel/epilogue.hpp) and either requantizes v to the next layer's input codes (max over the
/// pooling window) or, for the last layer, writes v. Every backend's sums are exact, so every
/// backend gives bit-identical outputs.
template <Network Net, class Backend = reference_backend>
  requires BackendForNetwork<Backend, Net>
class engine {
  template <std::size_t I>
  using layer_t = typename Net::template layer_t<I>;

  template <class L>
  static constexpr std::size_t rows_per_call = Backend::template chunk_windows<L> * L::window_rows;

  template <std::size_t... I>
  static constexpr std::size_t max_activation_bytes(std::index_sequence<I...>) noexcept {
    std::size_t m = 0;
    ((m = packed_codes_bytes(layer_t<I>::activation_bits, layer_t<I>::input_shape.size()) > m
              ? packed_codes_bytes(layer_t<I>::activation_bits, layer_t<I>::input_shape.size())
              : m),
     ...);
    return m;
  }
  template <std::size_t... I>
  static constexpr std::size_t max_staging_bytes(std::index_sequence<I...>) noexcept {
    std::size_t m = 0;
    ((m = Backend::template rows<layer_t<I>>::bytes(rows_per_call<layer_t<I>>) > m
              ? Backend::template rows<layer_t<I>>::bytes(rows_per_call<layer_t<I>>)
              : m),
     ...);
    return m;
  }
  template <std::size_t... I>
  static constexpr std::size_t max_rows(std::index_sequence<I...>) noexcept {
    std::size_t m = 0;
    ((m = rows_per_call<layer_t<I>> > m ? rows_per_call<layer_t<I>> : m), ...);
    return m;
  }
  template <std::size_t... I>
  static constexpr std::size_t max_accumulators(std::index_sequence<I...>) noexcept {
    std::size_t m = 0;
    ((m = rows_per_call<layer_t<I>> * layer_t<I>::n > m ? rows_per_call<layer_t<I>> * layer_t<I>::n : m), ...);
    return m;
  }
  using all = std::make_index_sequence<Net::layer_count>;
  template <class Seq>
  struct states_of;
  template <std::size_t... I>
  struct states_of<std::index_sequence<I...>> {
    using type = std::tuple<typename Backend::template layer_state<layer_t<I>>...>;
  };
  using states_type = typename states_of<all>::type;

 public:
  using network_type = Net;
  using backend_type = Backend;

  static constexpr std::size_t activation_buffer_bytes = max_activation_bytes(all{});
  static constexpr std::size_t staging_bytes = round_up(max_staging_bytes(all{}), 4);
  static constexpr std::size_t accumulator_count = max_accumulators(all{});
  static constexpr std::size_t staged_rows = max_rows(all{});
  /// @brief RAM of the workspace (activation buffers, staging, accumulators, row sums).
  static constexpr std::size_t workspace_bytes =
      2 * round_up(activation_buffer_bytes, 4) + staging_bytes + 4 * accumulator_count + 4 * staged_rows;

  explicit engine(const typename Net::parameters& p) : p_(&p), states_(make_states(p, all{})) {}

  /// @brief Run on float inputs in PyTorch's CHW order (Net::input_size values), each quantized with
  /// the first layer's input quantizer; write the last layer's Net::output_size float32 outputs.
  /// Errors: wrong sizes (shape_mismatch); nothing is written then.
  status try_run(std::span<const float> input, std::span<float> output) {
    MPQ_TRY(check_sizes(input.size(), output.size()));
    using L0 = layer_t<0>;
    constexpr chw s = L0::input_shape;
    const kernel::requantization& q = p_->template get<0>().input;
    const std::span<std::uint8_t> codes(act_[0]);
    for (std::size_t c = 0; c < s.c; ++c)
      for (std::size_t i = 0; i < s.h * s.w; ++i)
        detail::store_code<L0::activation_bits>(codes, i * s.c + c, kernel::requantize_output(input[c * s.h * s.w + i], q));
    return run_layers(output, all{});
  }

  /// @brief Run on input codes given directly (HWC order, each in the first layer's code range).
  /// Errors: wrong sizes (shape_mismatch), a code out of range (out_of_range).
  status try_run_codes(std::span<const std::uint8_t> input, std::span<float> output) {
    MPQ_TRY(check_sizes(input.size(), output.size()));
    using L0 = layer_t<0>;
    const kernel::requantization& q = p_->template get<0>().input;
    for (std::size_t i = 0; i < input.size(); ++i)
      if (input[i] < q.code_lo || input[i] > q.code_hi)
        return status::failure(errc::out_of_range, "engine: input code %zu = %d: must lie in [%d, %d]", i,
                               static_cast<int>(input[i]), static_cast<int>(q.code_lo), static_cast<int>(q.code_hi));
    for (std::size_t i = 0; i < input.size(); ++i) detail::store_code<L0::activation_bits>(std::span<std::uint8_t>(act_[0]), i, input[i]);
    return run_layers(output, all{});
  }

  const typename Net::parameters& parameters() const noexcept { return *p_; }

 private:
  template <std::size_t... I>
  static constexpr states_type make_states(const typename Net::parameters& p, std::index_sequence<I...>) {
    return states_type(typename Backend::template layer_state<layer_t<I>>(p.template get<I>())...);
  }

  static status check_sizes(std::size_t in, std::size_t out) noexcept {
    if (in != Net::input_size)
      return status::failure(errc::shape_mismatch, "engine: the input has %zu values; the network takes %zu", in,
                             Net::input_size);
    if (out != Net::output_size)
      return status::failure(errc::shape_mismatch, "engine: the output has %zu values; the network gives %zu", out,
                             Net::output_size);
    return {};
  }

  template <std::size_t... I>
  status run_layers(std::span<float> output, std::index_sequence<I...>) {
    status s;
    ((s.ok() ? (void)(s = run_layer<I>(act_[I % 2], act_[(I + 1) % 2], output)) : (void)0), ...);
    return s;
  }

  // Stage conv pixel (oy, ox) as row r: K codes in (ky, kx, c) order; taps outside the input hold
  // the code of 0.0. Returns the row's code sum.
  template <class L, class Rows>
  static std::int32_t stage_conv_row(const Rows& rows, std::size_t r, std::span<const std::uint8_t> in, std::size_t oy,
                                     std::size_t ox, std::int32_t pad_code) noexcept {
    constexpr chw s = L::input_shape;
    constexpr std::size_t kk = L::kind::kernel, st = L::kind::stride, pad = L::kind::padding;
    std::int32_t sum = 0;
    std::size_t k = 0;
    for (std::size_t ky = 0; ky < kk; ++ky) {
      const std::size_t iy = oy * st + ky;  // + pad
      const bool row_in = iy >= pad && iy - pad < s.h;
      for (std::size_t kx = 0; kx < kk; ++kx) {
        const std::size_t ix = ox * st + kx;
        if (row_in && ix >= pad && ix - pad < s.w) {
          const std::size_t base = ((iy - pad) * s.w + (ix - pad)) * s.c;
          for (std::size_t c = 0; c < s.c; ++c, ++k) {
            const std::int32_t code = detail::load_code<L::activation_bits>(in, base + c);
            rows.set(r, k, code);
            sum += code;
          }
        } else {
          for (std::size_t c = 0; c < s.c; ++c, ++k) rows.set(r, k, pad_code);
          sum += pad_code * static_cast<std::int32_t>(s.c);
        }
      }
    }
    return sum;
  }

  template <std::size_t I>
  status run_layer(std::span<const std::uint8_t> in, std::span<std::uint8_t> out_codes, std::span<float> out_values) {
    using L = layer_t<I>;
    constexpr bool last = I + 1 == Net::layer_count;
    constexpr std::size_t chunk = Backend::template chunk_windows<L>;
    constexpr std::size_t P = L::window_rows, N = L::n;
    static_assert(chunk >= 1, "an engine backend must take at least one pooling window per call");
    const typename L::params& p = p_->template get<I>();
    const typename Backend::template rows<L> rows{staging_.data()};
    const kernel::doubled_offsets off = p.offsets();
    const std::int32_t pad_code = kernel::requantize_output(0.0f, p.input);

    for (std::size_t w0 = 0; w0 < L::windows; w0 += chunk) {
      const std::size_t nw = L::windows - w0 < chunk ? L::windows - w0 : chunk;
      const std::size_t nrows = nw * P;
      for (std::size_t r = 0; r < nrows; ++r) rows.clear_row(r);
      if constexpr (L::is_conv) {
        for (std::size_t wi = 0; wi < nw; ++wi) {
          const std::size_t py = (w0 + wi) / L::output_shape.w, px = (w0 + wi) % L::output_shape.w;
          for (std::size_t dy = 0; dy < L::pool::size; ++dy)
            for (std::size_t dx = 0; dx < L::pool::size; ++dx) {
              const std::size_t r = wi * P + dy * L::pool::size + dx;
              row_sums_[r] = stage_conv_row<L>(rows, r, in, py * L::pool::stride + dy, px * L::pool::stride + dx, pad_code);
            }
        }
      } else {
        std::int32_t sum = 0;
        for (std::size_t k = 0; k < L::k; ++k) {
          const std::int32_t code = detail::load_code<L::activation_bits>(in, k);
          rows.set(0, k, code);
          sum += code;
        }
        row_sums_[0] = sum;
      }
      MPQ_TRY(Backend::template gemm<L>(std::get<I>(states_), p, rows, nrows, acc_.data()));

      // The epilogue of kernel/epilogue.hpp, output by output.
      auto value = [&](std::size_t r, std::size_t n) {
        const std::int64_t r4 = kernel::corrected_sum_x4(acc_[r * N + n], p.row_sums[n], row_sums_[r], L::k, off);
        return kernel::dequantize_output(r4, p.scale[n], p.bias[n], p.has_bias);
      };
      for (std::size_t wi = 0; wi < nw; ++wi) {
        if constexpr (last) {
          for (std::size_t n = 0; n < N; ++n) out_values[(w0 + wi) * N + n] = value(wi, n);
        } else {
          using next = layer_t<I + 1>;
          const kernel::requantization& q = p_->template get<I + 1>().input;
          for (std::size_t n = 0; n < N; ++n) {
            std::int32_t code = kernel::requantize_output(value(wi * P, n), q);
            for (std::size_t j = 1; j < P; ++j) {
              const std::int32_t c = kernel::requantize_output(value(wi * P + j, n), q);
              code = c > code ? c : code;
            }
            detail::store_code<next::activation_bits>(out_codes, (w0 + wi) * N + n, code);
          }
        }
      }
    }
    (void)out_codes;
    (void)out_values;
    return {};
  }

  const typename Net::parameters* p_;
  states_type states_;
  alignas(64) std::array<std::array<std::uint8_t, round_up(activation_buffer_bytes, 4)>, 2> act_{};
  alignas(64) std::array<std::uint8_t, staging_bytes> staging_{};
  std::array<std::int32_t, accumulator_count> acc_{};
  std::array<std::int32_t, staged_rows> row_sums_{};
};

}  // namespace mpq::embedded
