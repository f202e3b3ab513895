// An owning, zero-filled, 64-byte-aligned byte buffer with a non-throwing allocation, and size checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <utility>

#include "mpq/core/error.hpp"
#include "mpq/packed/layout_concepts.hpp"

namespace mpq::detail {

/// @brief a * b, or false if it does not fit in size_t.
constexpr bool checked_mul(std::size_t a, std::size_t b, std::size_t& out) noexcept {
  return !__builtin_mul_overflow(a, b, &out);
}
/// @brief a + b, or false if it does not fit in size_t.
constexpr bool checked_add(std::size_t a, std::size_t b, std::size_t& out) noexcept {
  return !__builtin_add_overflow(a, b, &out);
}

/// @brief Move-only owner of `size()` bytes aligned to packed_alignment; allocation never throws.
class aligned_bytes {
 public:
  aligned_bytes() noexcept = default;
  aligned_bytes(aligned_bytes&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  aligned_bytes& operator=(aligned_bytes&& o) noexcept {
    if (this != &o) {
      release();
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  aligned_bytes(const aligned_bytes&) = delete;
  aligned_bytes& operator=(const aligned_bytes&) = delete;
  ~aligned_bytes() { release(); }

  /// @brief `n` zero bytes (none for n == 0), or errc::overflow if the memory is not available.
  static status try_allocate(std::size_t n, aligned_bytes& out) noexcept {
    aligned_bytes b;
    if (n != 0) {
      b.p_ = static_cast<std::uint8_t*>(::operator new(n, std::align_val_t{packed_alignment}, std::nothrow));
      if (b.p_ == nullptr)
        return status::failure(errc::overflow, "cannot allocate %zu bytes for a packed tensor", n);
      b.n_ = n;
      std::memset(b.p_, 0, n);
    }
    out = std::move(b);
    return {};
  }

  std::uint8_t* data() const noexcept { return p_; }
  std::size_t size() const noexcept { return n_; }

 private:
  void release() noexcept {
    if (p_ != nullptr) ::operator delete(p_, std::align_val_t{packed_alignment});
    p_ = nullptr;
    n_ = 0;
  }
  std::uint8_t* p_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace mpq::detail
