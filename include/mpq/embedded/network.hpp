// A whole network fixed at compile time: a list of mpq::embedded::layer types whose shapes must
// chain (checked by static_assert), with its cost-model totals (weight size, BitOps, activation
// memory) as compile-time constants so a generated header can static_assert its budgets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "mpq/embedded/layer.hpp"

namespace mpq::embedded {

namespace detail {

// Instantiated once per consecutive pair; a failed assertion names the pair's position I.
template <std::size_t I, class Prev, class Next>
struct chain_check {
  static_assert(Prev::output_shape.size() == Next::input_shape.size(),
                "mpq::embedded::network: layer I's output size differs from layer I+1's input size");
  static_assert(!Next::is_conv || Prev::output_shape == Next::input_shape,
                "mpq::embedded::network: a conv2d layer's input shape (C, H, W) must equal the previous layer's "
                "pooled output shape");
  static constexpr bool value = true;
};

template <class... Ls, std::size_t... I>
constexpr bool chains(std::index_sequence<I...>) noexcept {
  using list = std::tuple<Ls...>;
  return (chain_check<I, std::tuple_element_t<I, list>, std::tuple_element_t<I + 1, list>>::value && ... && true);
}

}  // namespace detail

/// @brief The network Ls... (in forward order). Each layer's output is requantized to the next
/// layer's input codes (its params.input); the last layer's output is float32 (logits).
///
/// Compile-time facts, for budgets (the same sums mpq's cost models compute, cost/):
///   weight_size_bits   = sum_l weight_count_l * W_l                      (weight_size)
///   bitops             = sum_l macs_l * W_l * A_l                        (bitops)
///   activation_bits_sum / _peak = sum / max_l input_count_l * A_l        (activation_memory)
///   weight_bits_sum, activation_bits_per_layer_sum = sum_l W_l, sum_l A_l  (mean_layer_bits x layers)
///   parameters_bytes   = sum_l sizeof(params_l): the constants in flash
template <Layer... Ls>
struct network {
  static_assert(sizeof...(Ls) >= 1, "mpq::embedded::network: a network needs at least one layer");
  static constexpr std::size_t layer_count = sizeof...(Ls);
  using layers = std::tuple<Ls...>;
  template <std::size_t I>
  using layer_t = std::tuple_element_t<I, layers>;
  using first_layer = layer_t<0>;
  using last_layer = layer_t<layer_count - 1>;

  static_assert(detail::chains<Ls...>(std::make_index_sequence<layer_count - 1>{}));
  static_assert(std::is_same_v<typename last_layer::pool, no_pool>,
                "mpq::embedded::network: the last layer gives float outputs and cannot pool");

  static constexpr chw input_shape = first_layer::input_shape;
  static constexpr chw output_shape = last_layer::output_shape;
  static constexpr std::size_t input_size = input_shape.size();
  static constexpr std::size_t output_size = output_shape.size();

  static constexpr std::uint64_t weight_size_bits = ((Ls::weight_count * static_cast<std::uint64_t>(Ls::weight_bits)) + ...);
  static constexpr std::uint64_t bitops =
      ((Ls::macs * static_cast<std::uint64_t>(Ls::weight_bits) * static_cast<std::uint64_t>(Ls::activation_bits)) + ...);
  static constexpr std::uint64_t macs = (Ls::macs + ...);
  static constexpr std::uint64_t weight_count = (Ls::weight_count + ...);
  static constexpr std::uint64_t activation_bits_sum =
      ((Ls::input_count * static_cast<std::uint64_t>(Ls::activation_bits)) + ...);
  static constexpr std::uint64_t activation_bits_peak = [] {
    std::uint64_t m = 0;
    ((m = Ls::input_count * static_cast<std::uint64_t>(Ls::activation_bits) > m
              ? Ls::input_count * static_cast<std::uint64_t>(Ls::activation_bits)
              : m),
     ...);
    return m;
  }();
  static constexpr std::uint64_t weight_bits_sum = (static_cast<std::uint64_t>(Ls::weight_bits) + ...);
  static constexpr std::uint64_t activation_bits_per_layer_sum = (static_cast<std::uint64_t>(Ls::activation_bits) + ...);
  static constexpr std::size_t parameters_bytes = (sizeof(typename Ls::params) + ...);

  /// @brief The layers' constants, by address (each layer's params is its own constexpr object).
  struct parameters {
    std::tuple<const typename Ls::params*...> layers;
    constexpr explicit parameters(const typename Ls::params*... p) noexcept : layers(p...) {}
    template <std::size_t I>
    constexpr const typename layer_t<I>::params& get() const noexcept {
      return *std::get<I>(layers);
    }
  };
};

/// @brief True for the instantiations of mpq::embedded::network.
template <class T>
inline constexpr bool is_network_v = false;
template <class... Ls>
inline constexpr bool is_network_v<network<Ls...>> = true;

/// @brief A network type (an instantiation of mpq::embedded::network).
template <class T>
concept Network = is_network_v<T>;

}  // namespace mpq::embedded
