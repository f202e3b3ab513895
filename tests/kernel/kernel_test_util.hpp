// Helpers for the kernel tests: random and extreme code matrices packed into views of any layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "mpq/core/bits.hpp"
#include "mpq/packed/view.hpp"

namespace mpq_test {

/// How test codes are drawn: uniformly, or all at one end of the range (overflow edges).
enum class fill { random, all_min, all_max, alternate_extremes };

/// A 64-byte aligned, zero-initialised byte buffer (what owning packed tensors give kernels).
struct aligned_bytes {
  struct free_deleter {
    void operator()(std::uint8_t* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<std::uint8_t[], free_deleter> ptr;
  std::size_t size = 0;
  explicit aligned_bytes(std::size_t n) : size(n) {
    const std::size_t alloc = ((n + 63) / 64) * 64 + 64;
    ptr.reset(static_cast<std::uint8_t*>(std::aligned_alloc(64, alloc)));
    for (std::size_t i = 0; i < alloc; ++i) ptr[i] = 0;
  }
  std::uint8_t* data() const noexcept { return ptr.get(); }
};

inline std::int32_t draw_code(std::mt19937& rng, int bits, mpq::signedness s, fill f, std::size_t index) {
  const std::int32_t lo = mpq::code_min(bits, s), hi = mpq::code_max(bits, s);
  switch (f) {
    case fill::all_min: return lo;
    case fill::all_max: return hi;
    case fill::alternate_extremes: return (index % 2) ? lo : hi;
    case fill::random: break;
  }
  return lo + static_cast<std::int32_t>(rng() % static_cast<std::uint32_t>(hi - lo + 1));
}

/// A rows x cols matrix of Bits-bit codes: the codes as ints, and the same codes packed in layout L.
template <int Bits, mpq::signedness S, mpq::PackedLayout L>
struct code_matrix {
  using view_type = mpq::packed_view<Bits, S, L>;
  using span_type = mpq::packed_span<Bits, S, L>;
  std::size_t rows, cols, padded_cols, stride;
  std::vector<std::int32_t> codes;
  aligned_bytes bytes;

  code_matrix(std::size_t r, std::size_t c, std::mt19937& rng, fill f = fill::random)
      : rows(r),
        cols(c),
        padded_cols(span_type::pad_cols(c)),
        stride(((span_type::bytes_per_row(c) + 63) / 64) * 64),
        codes(r * c),
        bytes(r * stride + 64) {
    span_type sp = span();
    for (std::size_t i = 0; i < r; ++i)
      for (std::size_t j = 0; j < c; ++j) {
        codes[i * c + j] = draw_code(rng, Bits, S, f, i * 31 + j);
        sp.set(i, j, codes[i * c + j]);
      }
  }
  std::int32_t code(std::size_t i, std::size_t j) const { return codes[i * cols + j]; }
  span_type span() const { return {bytes.data(), rows, cols, padded_cols, stride}; }
  view_type view() const { return span(); }
};

/// sum_k W[n][k] A[m][k] straight from the int codes (independent of any layout or kernel).
template <class WM, class AM>
std::int64_t naive_dot(const WM& w, std::size_t n, const AM& a, std::size_t m) {
  std::int64_t s = 0;
  for (std::size_t k = 0; k < w.cols; ++k) s += std::int64_t{w.code(n, k)} * a.code(m, k);
  return s;
}

}  // namespace mpq_test
