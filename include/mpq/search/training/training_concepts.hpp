// The TrainingStrategy concept: a bit-width search that lives inside the host's training loop (EdMIPS,
// Guo et al.'s relaxations, Uhlich et al.'s learned bits, QBitOpt, LIMPQ's indicator training).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mpq/core/error.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/search/result.hpp"

namespace mpq {

// ---- The loop contract ------------------------------------------------------------------------------
//
// A training strategy is built from a `problem` (layers, candidate bits, ties, budgets) and owns
// its learnable parameters θ (logits, step sizes, ranges) in one flat buffer, with a gradient
// buffer of the same size. One training step of any host (a hand-written loop, LibTorch, ...):
//
//   s.zero_gradients();
//   forward:   for each layer l the host replaces its weights W and its input x by
//              s.try_forward(l, operand::weights, W, Ŵ) and s.try_forward(l, operand::activations, x, x̂)
//              (a mixture, a learned-bits quantizer, an LSQ quantizer, ... depending on s);
//   backward:  the host computes the task-loss gradients ∂L/∂Ŵ and ∂L/∂x̂ and tells s:
//              s.try_backward(l, which, W or x, ∂L/∂Ŵ or ∂L/∂x̂, ∂L/∂W or ∂L/∂x), which writes the
//              gradient w.r.t. the raw tensor and ADDS ∂L/∂θ to s.gradients();
//   s.add_regularizer_gradients();   // + ∂R/∂θ of the strategy's own term R = s.regularizer()
//   s.try_prepare_update();          // gradient clipping (Uhlich: ±d, LIMPQ: ±1)
//   any optimizer step on s.parameters() with s.gradients() (mpq::sgd_optimizer, or a
//   torch::optim optimizer on a tensor over the same memory: mpq/adapters/torch.hpp);
//   s.try_finish_update();           // projection, step counter, schedule (QBitOpt re-solves)
//
// and once training is done, s.try_derive(result) returns the allocation as the same
// search_result every one-shot strategy returns. The host's reported loss is L + s.regularizer().
// The parameter buffer never moves or changes size after construction, so a host may alias it.

/// @brief S owns a flat buffer of learnable parameters and a gradient buffer of the same size.
template <class S>
concept HasTrainableParameters = requires(S& s, const S& cs) {
  { s.parameters() } -> std::same_as<std::span<float>>;
  { s.gradients() } -> std::same_as<std::span<float>>;
  { cs.parameter_count() } -> std::same_as<std::size_t>;
  s.zero_gradients();
};

/// @brief S replaces a layer's weights or input activations in the forward pass and takes the
/// host's task-loss gradients in the backward pass (accumulating ∂L/∂θ into a gradient buffer).
template <class S>
concept HasLayerOperations =
    requires(S& s, std::size_t layer, operand which, std::span<const float> x, std::span<float> y,
             std::span<const float> grad_y, std::span<float> grad_x, std::span<float> grad_theta) {
      { s.try_forward(layer, which, x, y) } -> std::same_as<status>;
      { s.try_backward(layer, which, x, grad_y, grad_x) } -> std::same_as<status>;
      { s.try_backward(layer, which, x, grad_y, grad_x, grad_theta) } -> std::same_as<status>;
    };

/// @brief S has its own loss term R(θ) (complexity, size or memory penalty; 0 when it has none)
/// and adds ∂R/∂θ to a gradient buffer of parameter_count() values.
template <class S>
concept HasRegularizer = requires(const S& cs, std::span<float> grad_theta) {
  { cs.regularizer() } -> std::same_as<double>;
  { cs.try_regularizer_gradient(grad_theta) } -> std::same_as<status>;
};

/// @brief S has the hooks around the host's optimizer step and counts the steps.
template <class S>
concept HasUpdateHooks = requires(S& s, const S& cs) {
  { s.try_prepare_update() } -> std::same_as<status>;
  { s.try_finish_update() } -> std::same_as<status>;
  { cs.steps() } -> std::same_as<std::uint64_t>;
};

/// @brief S reports the bits its forward pass uses now and derives a final allocation as a
/// search_result (the one-shot strategies' result type).
template <class S>
concept DerivesAllocation = requires(S& s, const S& cs, std::size_t layer, search_result& out) {
  { cs.name() } -> std::convertible_to<const char*>;
  { cs.layer_count() } -> std::same_as<std::size_t>;
  { cs.current_bits(layer) } -> std::same_as<bit_pair>;
  { s.try_derive(out) } -> std::same_as<status>;
};

/// @brief A bit-width search that lives inside a host's training loop (see the loop contract
/// above): owns its parameters, acts on each layer's weights and activations, has its own loss
/// term, hooks around the optimizer step, and derives an allocation.
/// Satisfied by edmips_training, guo_softmax_training, guo_interpolation_training,
/// uhlich_training<u3_quantizer>, uhlich_training<p3_quantizer>, qbitopt_training<Solver> and
/// limpq_training.
template <class S>
concept TrainingStrategy =
    HasTrainableParameters<S> && HasLayerOperations<S> && HasRegularizer<S> && HasUpdateHooks<S> && DerivesAllocation<S>;

}  // namespace mpq
