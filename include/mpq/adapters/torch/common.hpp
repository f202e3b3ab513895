// LibTorch adapter: what its headers share: checked views of CPU float32 tensors as the raw spans
// mpq's functions take, conv2d options as functional options, and the module-holder macro.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "mpq/core/error.hpp"

namespace mpq::torch::detail {

/// Ok when `t` is a defined CPU float32 tensor; the error names `what` and the rule.
inline status check_cpu_float(const ::torch::Tensor& t, const char* what) {
  if (!t.defined()) return status::failure(errc::invalid_argument, "%s: the tensor is undefined", what);
  if (!t.device().is_cpu())
    return status::failure(errc::unsupported, "%s: the tensor is on %s: mpq's adapter computes on the CPU", what,
                           t.device().str().c_str());
  if (t.scalar_type() != ::torch::kFloat32)
    return status::failure(errc::invalid_argument, "%s: dtype %s: mpq's adapter takes float32 tensors", what,
                           std::string(c10::toString(t.scalar_type())).c_str());
  return {};
}

/// The values of a contiguous CPU float32 tensor.
inline std::span<const float> values(const ::torch::Tensor& t) {
  return {t.data_ptr<float>(), static_cast<std::size_t>(t.numel())};
}
inline std::span<float> mutable_values(::torch::Tensor& t) {
  return {t.data_ptr<float>(), static_cast<std::size_t>(t.numel())};
}

/// conv2d's functional options from a Conv2d module's options and a bias (zero padding only).
inline ::torch::nn::functional::Conv2dFuncOptions conv_function_options(const ::torch::nn::detail::ConvNdOptions<2>& o,
                                                                         const ::torch::Tensor& bias) {
  if (!c10::holds_alternative<::torch::enumtype::kZeros>(o.padding_mode()))
    throw_if_error(status::failure(errc::unsupported, "mpq::torch: only zero padding is supported (padding_mode)"));
  return ::torch::nn::functional::Conv2dFuncOptions()
      .bias(bias)
      .stride(o.stride())
      .padding(o.padding())
      .dilation(o.dilation())
      .groups(o.groups());
}

}  // namespace mpq::torch::detail

// TORCH_MODULE names torch::nn unqualified, which inside namespace mpq::torch is the wrong one.
#define MPQ_TORCH_MODULE(Name)                                 \
  class Name : public ::torch::nn::ModuleHolder<Name##Impl> {   \
   public:                                                     \
    using ::torch::nn::ModuleHolder<Name##Impl>::ModuleHolder; \
    using Impl = Name##Impl;                                   \
  }
