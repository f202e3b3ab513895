// A framework-free SGD optimizer (momentum, weight decay) with PyTorch's update rule, for training
// loops without a host framework: it updates any flat span (network weights or a strategy's θ).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"

namespace mpq {

/// @brief Hyperparameters of sgd_optimizer.
struct sgd_options {
  float learning_rate = 0.01f;
  float momentum = 0.0f;
  float weight_decay = 0.0f;
};

/// @brief torch.optim.SGD's rule (no dampening, no Nesterov): d = g + wd·θ; v = d on the first
/// step, else v = μ·v + d; θ -= lr·v. One optimizer per parameter buffer (it keeps the velocity).
class sgd_optimizer {
 public:
  /// @brief Checked: learning rate finite and > 0, momentum in [0, 1), weight decay finite and >= 0.
  static expected<sgd_optimizer> try_make(const sgd_options& o) {
    MPQ_TRY(check(o));
    sgd_optimizer s;
    s.o_ = o;
    return s;
  }
  explicit sgd_optimizer(const sgd_options& o) {
    throw_if_error(check(o));
    o_ = o;
  }

  static status check(const sgd_options& o) noexcept {
    if (!(o.learning_rate > 0.0f) || !is_finite(o.learning_rate))
      return status::failure(errc::invalid_argument, "sgd: learning_rate = %g: must be finite and > 0",
                             static_cast<double>(o.learning_rate));
    if (!(o.momentum >= 0.0f && o.momentum < 1.0f))
      return status::failure(errc::invalid_argument, "sgd: momentum = %g: must lie in [0, 1)",
                             static_cast<double>(o.momentum));
    if (!(o.weight_decay >= 0.0f) || !is_finite(o.weight_decay))
      return status::failure(errc::invalid_argument, "sgd: weight_decay = %g: must be finite and >= 0",
                             static_cast<double>(o.weight_decay));
    return {};
  }

  const sgd_options& options() const noexcept { return o_; }
  /// @brief Checked: a new learning rate (a schedule); on failure nothing changes.
  status try_set_learning_rate(float lr) {
    sgd_options o = o_;
    o.learning_rate = lr;
    MPQ_TRY(check(o));
    o_ = o;
    return {};
  }

  /// @brief Checked: one update of `theta` with `grad` (same size, and the same size on every call).
  /// Non-finite gradients are rejected and nothing changes.
  status try_step(std::span<float> theta, std::span<const float> grad) {
    if (theta.size() != grad.size())
      return status::failure(errc::shape_mismatch, "sgd: %zu parameters and %zu gradients: the sizes must match",
                             theta.size(), grad.size());
    if (!velocity_.empty() && velocity_.size() != theta.size())
      return status::failure(errc::shape_mismatch, "sgd: %zu parameters, but this optimizer was stepped with %zu",
                             theta.size(), velocity_.size());
    for (std::size_t i = 0; i < grad.size(); ++i)
      if (!is_finite(grad[i]))
        return status::failure(errc::not_finite, "sgd: gradient[%zu] = %g: gradients must be finite", i,
                               static_cast<double>(grad[i]));
    const bool first = velocity_.empty();
    if (first && o_.momentum > 0.0f) velocity_.assign(theta.size(), 0.0f);
    for (std::size_t i = 0; i < theta.size(); ++i) {
      float d = grad[i] + o_.weight_decay * theta[i];
      if (o_.momentum > 0.0f) {
        velocity_[i] = first ? d : o_.momentum * velocity_[i] + d;
        d = velocity_[i];
      }
      theta[i] -= o_.learning_rate * d;
    }
    return {};
  }
  void step(std::span<float> theta, std::span<const float> grad) { throw_if_error(try_step(theta, grad)); }

 private:
  sgd_optimizer() = default;
  sgd_options o_{};
  std::vector<float> velocity_;
};

}  // namespace mpq
