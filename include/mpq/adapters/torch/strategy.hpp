// LibTorch adapter: a training strategy bound to LibTorch. Its parameters become one leaf tensor over
// the strategy's own memory (any torch optimizer updates them in place), its layer operations become
// autograd functions, its own loss term a scalar tensor; QuantConv2d / QuantLinear run it on a layer.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>

#include "mpq/adapters/torch/common.hpp"
#include "mpq/core/error.hpp"
#include "mpq/cost/average_bits.hpp"
#include "mpq/cost/layer.hpp"
#include "mpq/search/result.hpp"
#include "mpq/search/training/training_base.hpp"
#include "mpq/search/training/training_concepts.hpp"

namespace mpq::torch {

/// @brief The strategy-independent face of a bound training strategy: what the modules hold.
///
/// A step of a LibTorch loop:
///
///   optimizer.zero_grad(); strategy_optimizer.zero_grad();
///   loss = criterion(model(x), y) + state->regularizer();   // the strategy's own term, as a tensor
///   loss.backward();
///   state->prepare_update();                                 // the strategy's clipping
///   optimizer.step(); strategy_optimizer.step();             // strategy_optimizer over state->parameters()
///   state->finish_update();                                  // projection, schedule, re-solves
///
/// and at the end state->derive() gives the allocation (a search_result).
class training_state {
 public:
  virtual ~training_state() = default;
  training_state(const training_state&) = delete;
  training_state& operator=(const training_state&) = delete;

  /// @brief The leaf tensor (requires_grad) over the strategy's parameters; give it to an optimizer.
  const ::torch::Tensor& parameters() const noexcept { return theta_; }

  /// @brief The strategy's operation on layer `layer`'s weights or input activations, as an
  /// autograd function: forward is the strategy's try_forward, backward its try_backward
  /// (∂L/∂θ flows into parameters().grad()). x: CPU float32, any shape.
  virtual ::torch::Tensor apply(std::size_t layer, operand which, const ::torch::Tensor& x) = 0;
  /// @brief The strategy's own loss term R(θ) as a scalar tensor whose gradient w.r.t.
  /// parameters() is the strategy's analytic gradient (0 for strategies without one).
  virtual ::torch::Tensor regularizer() = 0;
  /// @brief Copies parameters().grad() into the strategy, runs its try_prepare_update (clipping)
  /// and copies the result back. Call after backward, before the optimizer steps.
  virtual void prepare_update() = 0;
  /// @brief The strategy's try_finish_update (projection, step counter, schedule). Call after the
  /// optimizer steps. Throws mpq::error on failure.
  virtual void finish_update() = 0;
  /// @brief The bits layer `layer` uses now.
  virtual bit_pair current_bits(std::size_t layer) const = 0;
  virtual std::size_t layer_count() const = 0;
  virtual const char* name() const = 0;
  /// @brief The strategy's try_derive, throwing mpq::error on failure.
  virtual search_result derive() = 0;

 protected:
  training_state() = default;
  ::torch::Tensor theta_;
};

namespace detail {

/// The autograd function of a strategy's layer operation. The strategy is reached through a raw
/// pointer kept in saved_data; the saved parameter tensor owns (through its storage's deleter) a
/// reference to the strategy, so it outlives every graph that uses it.
template <TrainingStrategy S>
struct layer_function : public ::torch::autograd::Function<layer_function<S>> {
  static ::torch::Tensor forward(::torch::autograd::AutogradContext* ctx, const ::torch::Tensor& x,
                                 const ::torch::Tensor& theta, std::int64_t strategy, std::int64_t layer,
                                 std::int64_t which) {
    throw_if_error(check_cpu_float(x, "mpq::torch::apply: x"));
    S& s = *reinterpret_cast<S*>(static_cast<std::intptr_t>(strategy));
    const ::torch::Tensor xc = x.contiguous();
    ::torch::Tensor y = ::torch::empty_like(xc);
    throw_if_error(s.try_forward(static_cast<std::size_t>(layer), static_cast<operand>(which), values(xc),
                                 mutable_values(y)));
    ctx->save_for_backward({xc, theta});
    ctx->saved_data["strategy"] = strategy;
    ctx->saved_data["layer"] = layer;
    ctx->saved_data["which"] = which;
    return y;
  }

  static ::torch::autograd::variable_list backward(::torch::autograd::AutogradContext* ctx,
                                                   ::torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const ::torch::Tensor& xc = saved[0];
    const ::torch::Tensor& theta = saved[1];
    S& s = *reinterpret_cast<S*>(static_cast<std::intptr_t>(ctx->saved_data["strategy"].toInt()));
    const ::torch::Tensor g = grad[0].contiguous();
    ::torch::Tensor gx = ::torch::empty_like(xc);
    ::torch::Tensor gtheta = ::torch::zeros_like(theta);
    throw_if_error(s.try_backward(static_cast<std::size_t>(ctx->saved_data["layer"].toInt()),
                                  static_cast<operand>(ctx->saved_data["which"].toInt()), values(xc), values(g),
                                  mutable_values(gx), mutable_values(gtheta)));
    return {gx, gtheta, {}, {}, {}};
  }
};

/// R(θ) as a scalar; its gradient (computed with the value, in forward) is saved for backward.
struct regularizer_function : public ::torch::autograd::Function<regularizer_function> {
  static ::torch::Tensor forward(::torch::autograd::AutogradContext* ctx, const ::torch::Tensor& theta, double value,
                                 const ::torch::Tensor& gradient) {
    ctx->save_for_backward({gradient});
    return ::torch::full({}, value, theta.options().requires_grad(false));
  }
  static ::torch::autograd::variable_list backward(::torch::autograd::AutogradContext* ctx,
                                                   ::torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    return {saved[0] * grad[0], {}, {}};
  }
};

}  // namespace detail

/// @brief A training strategy S bound to LibTorch (see training_state). Create it with bind().
template <TrainingStrategy S>
class strategy_state final : public training_state {
 public:
  /// @brief Takes the strategy; parameters() becomes a tensor over its parameter memory.
  explicit strategy_state(S strategy) : strategy_(std::make_shared<S>(std::move(strategy))) {
    const std::span<float> p = strategy_->parameters();
    std::shared_ptr<S> keep = strategy_;
    theta_ = ::torch::from_blob(p.data(), {static_cast<std::int64_t>(p.size())}, [keep](void*) {},
                                ::torch::TensorOptions().dtype(::torch::kFloat32))
                 .requires_grad_(true);
  }

  /// @brief The strategy itself (its own API: checkpoints, histories, options, ...).
  S& strategy() noexcept { return *strategy_; }
  const S& strategy() const noexcept { return *strategy_; }

  ::torch::Tensor apply(std::size_t layer, operand which, const ::torch::Tensor& x) override {
    throw_if_error(mpq::detail::check_layer_index("mpq::torch::apply", layer, strategy_->layer_count()));
    return detail::layer_function<S>::apply(x, theta_, static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(strategy_.get())),
                                            static_cast<std::int64_t>(layer), static_cast<std::int64_t>(which));
  }

  ::torch::Tensor regularizer() override {
    ::torch::Tensor g = ::torch::zeros_like(theta_, ::torch::TensorOptions().requires_grad(false));
    throw_if_error(strategy_->try_regularizer_gradient(detail::mutable_values(g)));
    return detail::regularizer_function::apply(theta_, strategy_->regularizer(), g);
  }

  void prepare_update() override {
    const std::span<float> mine = strategy_->gradients();
    ::torch::Tensor g = theta_.grad();
    if (g.defined()) {
      ::torch::Tensor gc = g.contiguous();
      std::copy(gc.data_ptr<float>(), gc.data_ptr<float>() + gc.numel(), mine.begin());
    } else {
      strategy_->zero_gradients();
    }
    throw_if_error(strategy_->try_prepare_update());
    if (g.defined()) {
      ::torch::NoGradGuard no_grad;
      g.copy_(::torch::from_blob(mine.data(), {static_cast<std::int64_t>(mine.size())}, ::torch::kFloat32));
    }
  }

  void finish_update() override { throw_if_error(strategy_->try_finish_update()); }
  bit_pair current_bits(std::size_t layer) const override { return strategy_->current_bits(layer); }
  std::size_t layer_count() const override { return strategy_->layer_count(); }
  const char* name() const override { return strategy_->name(); }
  search_result derive() override {
    search_result r;
    throw_if_error(strategy_->try_derive(r));
    return r;
  }

 private:
  std::shared_ptr<S> strategy_;
};

/// @brief Binds a training strategy to LibTorch: bind(mpq::edmips_training(problem, options)).
template <TrainingStrategy S>
std::shared_ptr<strategy_state<S>> bind(S strategy) {
  return std::make_shared<strategy_state<S>>(std::move(strategy));
}

/// @brief The strategy's operation on a tensor, for a hand-written forward:
/// conv2d(apply(state, l, operand::activations, x), apply(state, l, operand::weights, w), ...).
inline ::torch::Tensor apply(training_state& state, std::size_t layer, operand which, const ::torch::Tensor& x) {
  return state.apply(layer, which, x);
}

// ---- Strategy-bound layers ---------------------------------------------------------------------------

/// @brief A conv2d whose weights and input run through layer `layer` of a bound training strategy:
/// y = conv2d(state.apply(layer, activations, x), state.apply(layer, weights, W)) + bias.
/// Bound to EdMIPS it is the composite convolution (one conv of the mixed input with the mixed
/// weight); bound to Uhlich it is the learned-bits (U3/P3) layer; bound to QBitOpt or LIMPQ an LSQ
/// layer at the strategy's current bits. The input's quantizer includes the ReLU.
class QuantConv2dImpl : public ::torch::nn::Module {
 public:
  QuantConv2dImpl(std::shared_ptr<training_state> state, std::size_t layer, const ::torch::nn::Conv2dOptions& options)
      : state_(std::move(state)), layer_(layer) {
    if (!state_) throw_if_error(status::failure(errc::invalid_argument, "QuantConv2d: the state is null"));
    throw_if_error(mpq::detail::check_layer_index("QuantConv2d", layer, state_->layer_count()));
    conv = register_module("conv", ::torch::nn::Conv2d(options));
  }
  ::torch::Tensor forward(const ::torch::Tensor& x) {
    const ::torch::Tensor xq = state_->apply(layer_, operand::activations, x);
    const ::torch::Tensor wq = state_->apply(layer_, operand::weights, conv->weight);
    return ::torch::nn::functional::conv2d(xq, wq, detail::conv_function_options(conv->options, conv->bias));
  }
  std::size_t layer() const noexcept { return layer_; }
  training_state& state() noexcept { return *state_; }

  ::torch::nn::Conv2d conv{nullptr};

 private:
  std::shared_ptr<training_state> state_;
  std::size_t layer_;
};
MPQ_TORCH_MODULE(QuantConv2d);

/// @brief The linear counterpart of QuantConv2d: y = state.apply(x) · state.apply(W)ᵀ + bias.
class QuantLinearImpl : public ::torch::nn::Module {
 public:
  QuantLinearImpl(std::shared_ptr<training_state> state, std::size_t layer, const ::torch::nn::LinearOptions& options)
      : state_(std::move(state)), layer_(layer) {
    if (!state_) throw_if_error(status::failure(errc::invalid_argument, "QuantLinear: the state is null"));
    throw_if_error(mpq::detail::check_layer_index("QuantLinear", layer, state_->layer_count()));
    linear = register_module("linear", ::torch::nn::Linear(options));
  }
  ::torch::Tensor forward(const ::torch::Tensor& x) {
    const ::torch::Tensor xq = state_->apply(layer_, operand::activations, x);
    const ::torch::Tensor wq = state_->apply(layer_, operand::weights, linear->weight);
    return ::torch::nn::functional::linear(xq, wq, linear->bias);
  }
  std::size_t layer() const noexcept { return layer_; }
  training_state& state() noexcept { return *state_; }

  ::torch::nn::Linear linear{nullptr};

 private:
  std::shared_ptr<training_state> state_;
  std::size_t layer_;
};
MPQ_TORCH_MODULE(QuantLinear);

}  // namespace mpq::torch
