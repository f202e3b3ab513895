// Comparisons the LibTorch adapter tests share: closeness within a tolerance, and bitwise equality.
#pragma once

#include "torch_doctest.hpp"

#include <bit>
#include <cstdint>

namespace mpq_torch_test {

/// max|a − b| <= atol + rtol·max|b| (same shape).
inline void check_close(const torch::Tensor& a, const torch::Tensor& b, double rtol = 1e-5, double atol = 1e-6) {
  REQUIRE(a.sizes() == b.sizes());
  const auto diff = (a - b).abs().max().item<double>();
  const auto scale = b.abs().max().item<double>();
  INFO("max |a - b| = " << diff << ", max |b| = " << scale);
  CHECK(diff <= atol + rtol * scale);
}

/// Every float32 element has the same bits (same shape).
inline bool bitwise_equal(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  const auto ac = a.contiguous(), bc = b.contiguous();
  const float* pa = ac.data_ptr<float>();
  const float* pb = bc.data_ptr<float>();
  for (std::int64_t i = 0; i < ac.numel(); ++i)
    if (std::bit_cast<std::uint32_t>(pa[i]) != std::bit_cast<std::uint32_t>(pb[i])) return false;
  return true;
}

}  // namespace mpq_torch_test
