// What the compiled kernels take: activations decoded to int8 codes, runtime-bits views, the output
// (int32, float or requantized codes), and the aligned scratch they allocate.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <vector>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/kernel/executor.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/packed/view.hpp"

namespace mpq::kernel {

/// @brief Alignment of kernel scratch and of packed_weights' rows and tiles (a cache line).
inline constexpr std::size_t kernel_alignment = 64;

namespace detail {

struct aligned_free {
  void operator()(std::uint8_t* p) const noexcept { ::operator delete[](p, std::align_val_t{kernel_alignment}); }
};
using aligned_buffer = std::unique_ptr<std::uint8_t[], aligned_free>;

/// Uninitialized: for buffers whose writer fills every byte (and so also takes their page faults).
inline aligned_buffer allocate(std::size_t bytes) {
  return aligned_buffer(static_cast<std::uint8_t*>(::operator new[](bytes == 0 ? 1 : bytes, std::align_val_t{kernel_alignment})));
}

inline aligned_buffer allocate_zeroed(std::size_t bytes) {
  aligned_buffer p = allocate(bytes);
  std::memset(p.get(), 0, bytes);  // a libc call: no ISA-specific inline code in this shared helper
  return p;
}

/// Codes 0 .. cols-1 of row i of v as Int (int8 for signed codes, uint8 for unsigned, int16 for
/// either), through the layout's bulk unpack when it has one.
template <class Int, int B, signedness S, PackedLayout L>
void decode_row(const packed_view<B, S, L>& v, std::size_t i, Int* out) noexcept {
  if constexpr (requires(std::span<const std::uint8_t> r, std::span<Int> o) {
                  L::template unpack_cols<B, S>(r, std::size_t{}, std::size_t{}, o);
                }) {
    L::template unpack_cols<B, S>(std::span<const std::uint8_t>(v.row_span(i)), v.padded_cols, 0,
                                  std::span<Int>(out, v.cols));
  } else {
    const std::span<const std::uint8_t> row(v.row_span(i));
    for (std::size_t k = 0; k < v.cols; ++k)
      out[k] = static_cast<Int>(field_to_code(L::load(row, B, v.padded_cols, k), B, S));
  }
}

/// The sum of n bytes (in 32-bit partial sums of 2^16 bytes, which the compiler vectorizes).
inline std::uint64_t byte_sum(const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t total = 0;
  for (std::size_t k0 = 0; k0 < n; k0 += std::size_t{1} << 16) {
    const std::size_t k1 = n - k0 < (std::size_t{1} << 16) ? n : k0 + (std::size_t{1} << 16);
    std::uint32_t s = 0;
    for (std::size_t k = k0; k < k1; ++k) s += p[k];
    total += s;
  }
  return total;
}

}  // namespace detail

/// @brief A rows x cols matrix of codes whose width and signedness are known only at run time
/// (what a bitwidth search hands the runtime-bits front end). Byte = const std::uint8_t for a
/// read-only view, std::uint8_t for a writable one; converts from any packed_view of layout L.
template <PackedLayout L, class Byte = const std::uint8_t>
struct basic_runtime_view {
  int bits = 0;
  signedness sign = unsigned_codes;
  Byte* data = nullptr;
  std::size_t rows = 0, cols = 0, padded_cols = 0, row_stride = 0;

  constexpr basic_runtime_view() noexcept = default;
  template <int B, signedness S>
  constexpr basic_runtime_view(const basic_packed_view<B, S, L, Byte>& v) noexcept  // NOLINT(implicit)
      : bits(B), sign(S), data(v.data), rows(v.rows), cols(v.cols), padded_cols(v.padded_cols),
        row_stride(v.row_stride) {}
  template <int B, signedness S>
    requires(std::is_const_v<Byte>)
  constexpr basic_runtime_view(const basic_packed_view<B, S, L, std::uint8_t>& v) noexcept  // NOLINT(implicit)
      : bits(B), sign(S), data(v.data), rows(v.rows), cols(v.cols), padded_cols(v.padded_cols),
        row_stride(v.row_stride) {}

  /// @brief The compile-time view (B and S must be this view's bits and sign).
  template <int B, signedness S>
  constexpr basic_packed_view<B, S, L, Byte> as() const noexcept {
    MPQ_ASSERT(B == bits && S == sign);
    return {data, rows, cols, padded_cols, row_stride};
  }
};

template <PackedLayout L>
using runtime_view = basic_runtime_view<L, const std::uint8_t>;
template <PackedLayout L>
using runtime_span = basic_runtime_view<L, std::uint8_t>;

/// @brief Activations as offset-binary bytes a_u = a + offset (offset = 2^(A-1) for signed codes,
/// 0 for unsigned, so every A-bit code is a byte in [0, 2^A - 1]), row m at codes + m * stride (zero
/// in [cols, stride)), with the row sums of the codes a themselves. What every compiled kernel takes,
/// whatever the activations' packed layout was.
struct decoded_activations {
  int bits = 0;
  signedness sign = unsigned_codes;
  std::int32_t offset = 0;
  std::size_t rows = 0, cols = 0, stride = 0;
  const std::uint8_t* codes = nullptr;
  const std::int32_t* sums = nullptr;  ///< sum_k a[m][k] (not a_u)
  /// Set instead of codes when the bitserial kernel reads 1-bit unsigned interleaved activations as
  /// they are: row m's plane is plane_words words at planes + m * plane_stride (bit i of word w =
  /// code 64 w + i; bits past cols may be anything, since the weights' planes are zero there).
  const std::uint64_t* planes = nullptr;
  std::size_t plane_stride = 0, plane_words = 0;
};

/// @brief Owning decoded activations (the front end decodes once per call).
class activation_codes {
 public:
  /// @brief Decode a packed view (any layout).
  ///
  /// Each row is unpacked straight into its byte row (int8 codes for signed activations, so the
  /// layout's bulk path moves 8 codes per word), then shifted to a_u = a + offset in byte arithmetic
  /// (a two's complement byte plus 2^(A-1) wraps to the offset-binary code) and summed.
  /// Rows are decoded in up to ex.concurrency() tasks of whole 16-row units (the last may be
  /// shorter). bitserial_words > 0 (the consumer is a bitserial kernel reading that many words per
  /// plane): 1-bit unsigned interleaved rows already are that plane, so where their words are
  /// aligned and long enough they are used in place and only the sums are computed.
  template <int B, signedness S, PackedLayout L>
  static activation_codes decode(const packed_view<B, S, L>& v, const executor_ref& ex = serial_executor{},
                                 std::size_t bitserial_words = 0) {
    using code_type = std::conditional_t<S == signed_codes, std::int8_t, std::uint8_t>;
    activation_codes a;
    if constexpr (B == 1 && S == unsigned_codes && std::is_same_v<L, interleaved> &&
                  std::endian::native == std::endian::little) {
      if (bitserial_words > 0 && v.padded_cols / 64 >= bitserial_words && v.row_stride % 8 == 0 &&
          reinterpret_cast<std::uintptr_t>(v.data) % alignof(std::uint64_t) == 0) {
        a.view_.bits = 1;
        a.view_.rows = v.rows;
        a.view_.cols = v.cols;
        a.sums_.assign(v.rows, 0);
        a.view_.sums = a.sums_.data();
        a.view_.planes = reinterpret_cast<const std::uint64_t*>(v.data);
        a.view_.plane_stride = v.row_stride / 8;
        a.view_.plane_words = bitserial_words;
        for (std::size_t m = 0; m < v.rows; ++m) {
          const std::uint64_t* row = a.view_.planes + m * a.view_.plane_stride;
          std::int64_t s = 0;
          for (std::size_t w = 0; w < v.cols / 64; ++w) s += std::popcount(row[w]);
          if (v.cols % 64 != 0) s += std::popcount(row[v.cols / 64] & ((std::uint64_t{1} << (v.cols % 64)) - 1u));
          a.sums_[m] = static_cast<std::int32_t>(s);
        }
        return a;
      }
    }
    a.init(B, S, v.rows, v.cols);
    const auto offset = static_cast<std::uint8_t>(a.view_.offset);
    const auto decode_rows = [&](std::size_t m0, std::size_t m1) {
      for (std::size_t m = m0; m < m1; ++m) {
        std::uint8_t* row = a.storage_.get() + m * a.view_.stride;
        detail::decode_row(v, m, reinterpret_cast<code_type*>(row));
        std::memset(row + v.cols, 0, a.view_.stride - v.cols);
        if constexpr (S == signed_codes)
          for (std::size_t k = 0; k < v.cols; ++k) row[k] = static_cast<std::uint8_t>(row[k] + offset);
        a.sums_[m] = static_cast<std::int32_t>(static_cast<std::int64_t>(detail::byte_sum(row, v.cols)) -
                                               static_cast<std::int64_t>(offset) * static_cast<std::int64_t>(v.cols));
      }
    };
    detail::for_each_task(ex, v.rows, 16, decode_rows);
    return a;
  }

  /// @brief Decode a runtime-bits view (bits 1..8, validated by the caller).
  template <PackedLayout L>
  static activation_codes decode(const runtime_view<L>& v, const executor_ref& ex = serial_executor{},
                                 std::size_t bitserial_words = 0) {
    activation_codes a;
    [&]<int... I>(std::integer_sequence<int, I...>) {
      (void)((v.bits == I / 2 + 1 && (v.sign == signed_codes) == (I % 2 == 1)
                  ? (a = decode(v.template as<I / 2 + 1, I % 2 == 1 ? signed_codes : unsigned_codes>(), ex,
                                bitserial_words),
                     true)
                  : false) ||
             ...);
    }(std::make_integer_sequence<int, 16>{});
    return a;
  }

  const decoded_activations& get() const noexcept { return view_; }

 private:
  void init(int bits, signedness s, std::size_t rows, std::size_t cols) {
    view_.bits = bits;
    view_.sign = s;
    view_.offset = s == signed_codes ? (std::int32_t{1} << (bits - 1)) : 0;
    view_.rows = rows;
    view_.cols = cols;
    view_.stride = round_up(cols == 0 ? 1 : cols, kernel_alignment);
    storage_ = detail::allocate(rows * view_.stride);  // decode writes every byte, row by row
    sums_.assign(rows, 0);
    view_.codes = storage_.get();
    view_.sums = sums_.data();
  }

  decoded_activations view_{};
  detail::aligned_buffer storage_;
  std::vector<std::int32_t> sums_;
};

/// @brief Writes requantized codes of output row m, columns [n0, n0 + count), into the caller's
/// packed output. n0 is a multiple of `block` (the output layout's col_block), and so is n0 + count
/// unless it is the end of the row, so writers never share a byte across calls.
struct code_writer {
  void* ctx = nullptr;
  void (*write)(void* ctx, std::size_t m, std::size_t n0, const std::int32_t* codes, std::size_t count) = nullptr;
  std::size_t block = 64;
};

/// @brief A code_writer for a packed_span<AO, unsigned, L> (bulk pack when the layout has one).
template <int AO, PackedLayout L>
code_writer make_code_writer(const packed_span<AO, unsigned_codes, L>& out) noexcept {
  code_writer w;
  w.ctx = const_cast<void*>(static_cast<const void*>(&out));
  w.block = L::col_block(AO);
  w.write = [](void* ctx, std::size_t m, std::size_t n0, const std::int32_t* codes, std::size_t count) {
    const auto& o = *static_cast<const packed_span<AO, unsigned_codes, L>*>(ctx);
    const std::span<std::uint8_t> row = o.row_span(m);
    if constexpr (requires(std::span<const std::int32_t> c) { L::template pack_cols<AO>(row, o.padded_cols, n0, c); }) {
      if (n0 % L::col_block(AO) == 0) {
        L::template pack_cols<AO>(row, o.padded_cols, n0, std::span<const std::int32_t>(codes, count));
        return;
      }
    }
    for (std::size_t i = 0; i < count; ++i) L::store(row, AO, o.padded_cols, n0 + i, code_to_field(codes[i], AO));
  };
  return w;
}

/// @brief Where a gemm's results go and through which epilogue (docs/kernels.md, "Epilogue").
struct output_spec {
  enum class kind : std::uint8_t { int32, float32, requantized };
  kind what = kind::int32;
  std::int32_t* acc = nullptr;  ///< int32: C[m * ldc + n]
  float* values = nullptr;      ///< float32: C[m * ldc + n]
  std::size_t ldc = 0;
  const dequantization* dq = nullptr;  ///< float32 and requantized
  const requantization* rq = nullptr;  ///< requantized
  code_writer writer{};                ///< requantized
};

}  // namespace mpq::kernel
