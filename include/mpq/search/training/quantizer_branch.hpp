// One candidate quantization of a layer's tensor (float, or one of mpq's quantizers at one width)
// and the softmax mixtures of such candidates that EdMIPS and Guo et al.'s reading A train.
#pragma once

#include <cstddef>
#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "mpq/core/error.hpp"
#include "mpq/quant/edmips.hpp"
#include "mpq/quant/lsq.hpp"
#include "mpq/quant/ste.hpp"

namespace mpq {

/// @brief How one candidate width quantizes a tensor: one of mpq's quantizers, or the float path
/// (widths 16 and 32): identity for weights, ReLU for (unsigned, post-ReLU) input activations.
/// value() is Q(x); gradient() is {Q(x), ∂Q/∂x} with the quantizer's own straight-through rule.
class quantizer_branch {
 public:
  enum class kind : std::uint8_t { identity, relu, gaussian, hwgq, lsq };

  /// @brief The identity (so fixed-size arrays of branches can be declared, then assigned).
  quantizer_branch() noexcept = default;

  static quantizer_branch identity() noexcept { return quantizer_branch(kind::identity); }
  static quantizer_branch relu() noexcept { return quantizer_branch(kind::relu); }
  static quantizer_branch of(const gaussian_quantizer<>& q) noexcept {
    quantizer_branch b(kind::gaussian);
    b.gaussian_ = q;
    return b;
  }
  static quantizer_branch of(const hwgq_quantizer<>& q) noexcept {
    quantizer_branch b(kind::hwgq);
    b.hwgq_ = q;
    return b;
  }
  static quantizer_branch of(const lsq_quantizer<>& q) noexcept {
    quantizer_branch b(kind::lsq);
    b.lsq_ = q;
    return b;
  }

  kind type() const noexcept { return kind_; }

  float value(float x) const noexcept {
    switch (kind_) {
      case kind::identity: return x;
      case kind::relu: return x > 0.0f ? x : 0.0f;
      case kind::gaussian: return gaussian_->fake_quantize(x);
      case kind::hwgq: return hwgq_->fake_quantize(x);
      case kind::lsq: return lsq_->fake_quantize(x);
    }
    return x;
  }

  ste_value gradient(float x) const noexcept {
    switch (kind_) {
      case kind::identity: return {x, 1.0f};
      case kind::relu: return x > 0.0f ? ste_value{x, 1.0f} : ste_value{0.0f, 0.0f};
      case kind::gaussian: {
        const auto g = gaussian_->gradient(x);
        return {g.value, g.dx};
      }
      case kind::hwgq: {
        const auto g = hwgq_->gradient(x);
        return {g.value, g.dx};
      }
      case kind::lsq: {
        const auto g = lsq_->gradient(x);
        return {g.value, g.dx};
      }
    }
    return {x, 1.0f};
  }

 private:
  explicit quantizer_branch(kind k) noexcept : kind_(k) {}
  kind kind_ = kind::identity;
  std::optional<gaussian_quantizer<>> gaussian_;
  std::optional<hwgq_quantizer<>> hwgq_;
  std::optional<lsq_quantizer<>> lsq_;
};

/// @brief Up to one branch per candidate width (1..8, 16, 32) with its mixing weight: the candidates
/// of one layer operand.
struct mixture_branches {
  static constexpr std::size_t capacity = 10;
  std::array<quantizer_branch, capacity> q{};
  std::array<float, capacity> pi{};
  std::size_t count = 0;
  std::span<const quantizer_branch> span() const noexcept { return {q.data(), count}; }
  std::span<const float> pi_span() const noexcept { return {pi.data(), count}; }
};

/// @brief y[k] = Σ_i π_i Q_i(x[k]) (summed in branch order, in float). Preconditions (asserted):
/// one π per branch, |x| = |y|; y may be x.
inline void mixture_forward(std::span<const quantizer_branch> branches, std::span<const float> pi,
                            std::span<const float> x, std::span<float> y) noexcept {
  MPQ_ASSERT(branches.size() == pi.size() && x.size() == y.size());
  for (std::size_t k = 0; k < x.size(); ++k) {
    const float v = x[k];
    float acc = 0.0f;
    for (std::size_t i = 0; i < branches.size(); ++i) acc += pi[i] * branches[i].value(v);
    y[k] = acc;
  }
}

/// @brief The mixture's backward: grad_x[k] = g[k] Σ_i π_i ∂Q_i/∂x (skipped when grad_x is empty;
/// grad_x may alias grad_y) and grad_pi[i] += Σ_k g[k] Q_i(x[k]) (in double).
inline void mixture_backward(std::span<const quantizer_branch> branches, std::span<const float> pi,
                             std::span<const float> x, std::span<const float> grad_y, std::span<float> grad_x,
                             std::span<double> grad_pi) noexcept {
  MPQ_ASSERT(branches.size() == pi.size() && branches.size() == grad_pi.size() && x.size() == grad_y.size());
  MPQ_ASSERT(grad_x.empty() || grad_x.size() == x.size());
  for (std::size_t k = 0; k < x.size(); ++k) {
    const float g = grad_y[k];
    float dx = 0.0f;
    for (std::size_t i = 0; i < branches.size(); ++i) {
      const ste_value q = branches[i].gradient(x[k]);
      dx += pi[i] * q.grad;
      grad_pi[i] += static_cast<double>(g) * q.value;
    }
    if (!grad_x.empty()) grad_x[k] = g * dx;
  }
}

}  // namespace mpq
