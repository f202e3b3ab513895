// packed_matrix / packed_array: fixed-size packed codes with no heap, packed in constant evaluation,
// so an embedded build keeps constexpr packed weights (and their scales) in flash.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"
#include "mpq/packed/element_access.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/packed/row_codec.hpp"
#include "mpq/packed/view.hpp"
#include "mpq/quant/quantizer_concepts.hpp"

namespace mpq {

namespace detail {
// Not constexpr on purpose: reaching it during constant evaluation turns the bad argument into a
// compile error whose note points here.
inline void packed_code_out_of_range_in_constant_expression() {}
inline void packed_bytes_not_canonical_in_constant_expression() {}
inline void quantizer_codes_do_not_fit_in_constant_expression() {}
}  // namespace detail

/// @brief Rows x Cols Bits-bit codes in layout L, held by value (no heap, no exceptions needed):
/// the same rows, padding (zero codes up to a multiple of L::col_block(Bits)) and row stride
/// (L::row_bytes) as a packed_tensor, so view() is what kernels take. Per-row scales and zero points
/// come with it (value = scales[i] * (code - zero_points[i])).
///
///   constexpr auto w = mpq::packed_matrix<4, mpq::signed_codes, 2, 3>::from_codes({1, -8, 7, 0, 2, -1});
///   static_assert(w(0, 1) == -8);
///   mpq::packed_view<4, mpq::signed_codes, mpq::interleaved> v = w.view();   // for a kernel
///
/// In constant evaluation a code out of range is a compile error (the note names
/// packed_code_out_of_range_in_constant_expression); at run time it raises errc::out_of_range.
template <int Bits, signedness S, std::size_t Rows, std::size_t Cols, PackedLayout L = interleaved>
struct packed_matrix {
  static_assert(is_packable_bits(Bits), "mpq::packed_matrix: Bits must be 1..8");
  static_assert(layout_supports<L>(Bits, S),
                "mpq::packed_matrix: the layout does not hold codes of this width and signedness");

  using layout = L;
  using view_type = packed_view<Bits, S, L>;
  using span_type = packed_span<Bits, S, L>;
  static constexpr int bits = Bits;
  static constexpr signedness sign = S;
  static constexpr std::size_t rows = Rows;
  static constexpr std::size_t cols = Cols;
  static constexpr std::size_t padded_cols = round_up(Cols, L::col_block(Bits));
  static constexpr std::size_t row_stride = L::row_bytes(Bits, padded_cols);
  static constexpr std::size_t byte_size = Rows * row_stride;
  static constexpr std::int32_t code_min = layout_code_min<L>(Bits, S);
  static constexpr std::int32_t code_max = layout_code_max<L>(Bits, S);

  alignas(packed_alignment) std::array<std::uint8_t, byte_size> bytes{};
  std::array<float, Rows> scales = filled(1.0f);
  std::array<float, Rows> zero_points = filled(0.0f);

  /// @brief Pack Rows*Cols row-major codes.
  template <std::integral Int>
  static constexpr packed_matrix from_codes(const std::array<Int, Rows * Cols>& codes) {
    return from_codes(std::span<const Int, Rows * Cols>(codes));
  }
  template <std::integral Int>
  static constexpr packed_matrix from_codes(const Int (&codes)[Rows * Cols]) {
    return from_codes(std::span<const Int, Rows * Cols>(codes));
  }
  template <std::integral Int>
  static constexpr packed_matrix from_codes(std::span<const Int, Rows * Cols> codes) {
    packed_matrix m;
    for (std::size_t k = 0; k < codes.size(); ++k) {
      const auto c = static_cast<std::int64_t>(codes[k]);
      if (c < code_min || c > code_max) {
        if (std::is_constant_evaluated()) detail::packed_code_out_of_range_in_constant_expression();
        else raise(status::failure(errc::out_of_range, "packed_matrix::from_codes: codes[%zu] = %lld: %d-bit %s "
                                   "codes in layout %s must lie in [%d, %d]", k, static_cast<long long>(c), Bits,
                                   to_string(S), L::name, static_cast<int>(code_min), static_cast<int>(code_max)));
      }
    }
    for (std::size_t i = 0; i < Rows; ++i)
      for (std::size_t j = 0; j < padded_cols; ++j)
        L::store(m.row_bytes(i), Bits, padded_cols, j,
                 j < Cols ? code_to_field(static_cast<std::int32_t>(codes[i * Cols + j]), Bits) : 0u);
    return m;
  }

  /// @brief Adopt already packed bytes (e.g. from an exported header) with their scales and zero
  /// points. The rows must be canonical (codes in range, zero padding, no impossible byte).
  static constexpr packed_matrix from_bytes(const std::array<std::uint8_t, byte_size>& packed,
                                            const std::array<float, Rows>& row_scales = filled(1.0f),
                                            const std::array<float, Rows>& row_zero_points = filled(0.0f)) {
    packed_matrix m;
    m.bytes = packed;
    m.scales = row_scales;
    m.zero_points = row_zero_points;
    for (std::size_t i = 0; i < Rows; ++i) {
      if (!row_is_canonical<Bits, S, L>(std::as_const(m).row_bytes(i), padded_cols, Cols)) {
        if (std::is_constant_evaluated()) detail::packed_bytes_not_canonical_in_constant_expression();
        else raise(status::failure(errc::corrupt_data, "packed_matrix::from_bytes: row %zu is not what packing "
                                   "%zu codes in layout %s produces", i, Cols, L::name));
      }
    }
    return m;
  }

  /// @brief Quantize Rows*Cols floats with q (any Quantizer usable in constant evaluation, e.g.
  /// uniform_quantizer) and pack them; scales/zero points are the quantizer's step and -code_offset
  /// when it is a UniformQuantizer.
  template <Quantizer Q>
  static constexpr packed_matrix quantize(const Q& q, const std::array<float, Rows * Cols>& x) {
    std::array<Q, 1> one{q};
    return quantize_rows(std::span<const Q>(one), x);
  }
  /// @brief Row i quantized by quantizers[i] (per-channel).
  template <Quantizer Q>
  static constexpr packed_matrix quantize(const std::array<Q, Rows>& quantizers,
                                          const std::array<float, Rows * Cols>& x) {
    return quantize_rows(std::span<const Q>(quantizers), x);
  }

  constexpr view_type view() const noexcept { return {bytes.data(), Rows, Cols, padded_cols, row_stride}; }
  constexpr span_type span() noexcept { return {bytes.data(), Rows, Cols, padded_cols, row_stride}; }
  constexpr operator view_type() const noexcept { return view(); }  // NOLINT(implicit)

  constexpr std::int32_t operator()(std::size_t i, std::size_t j) const noexcept { return view().get(i, j); }
  /// @brief Element n of a 1-row array (packed_array).
  constexpr std::int32_t operator[](std::size_t n) const noexcept { return view().get(n / Cols, n % Cols); }
  constexpr float value(std::size_t i, std::size_t j) const noexcept {
    return scales[i] * (static_cast<float>((*this)(i, j)) - zero_points[i]);
  }
  static constexpr std::size_t size() noexcept { return Rows * Cols; }

  friend constexpr bool operator==(const packed_matrix&, const packed_matrix&) = default;

 private:
  static constexpr std::array<float, Rows> filled(float v) noexcept {
    std::array<float, Rows> a{};
    for (float& e : a) e = v;
    return a;
  }
  constexpr std::span<std::uint8_t> row_bytes(std::size_t i) noexcept {
    return std::span<std::uint8_t>(bytes).subspan(i * row_stride, row_stride);
  }
  constexpr std::span<const std::uint8_t> row_bytes(std::size_t i) const noexcept {
    return std::span<const std::uint8_t>(bytes).subspan(i * row_stride, row_stride);
  }
  template <Quantizer Q>
  static constexpr packed_matrix quantize_rows(std::span<const Q> qs, const std::array<float, Rows * Cols>& x) {
    for (const Q& q : qs) {
      if (q.code_min() < code_min || q.code_max() > code_max) {
        if (std::is_constant_evaluated()) detail::quantizer_codes_do_not_fit_in_constant_expression();
        else raise(status::failure(errc::invalid_argument, "packed_matrix::quantize: the quantizer's codes [%d, %d] "
                                   "do not fit %d-bit %s codes in layout %s [%d, %d]", static_cast<int>(q.code_min()),
                                   static_cast<int>(q.code_max()), Bits, to_string(S), L::name,
                                   static_cast<int>(code_min), static_cast<int>(code_max)));
      }
    }
    packed_matrix m;
    for (std::size_t i = 0; i < Rows; ++i) {
      const Q& q = qs[qs.size() == 1 ? 0 : i];
      for (std::size_t j = 0; j < padded_cols; ++j)
        L::store(m.row_bytes(i), Bits, padded_cols, j, j < Cols ? code_to_field(q.quantize(x[i * Cols + j]), Bits) : 0u);
      if constexpr (UniformQuantizer<Q>) {
        m.scales[i] = static_cast<float>(q.step());
        m.zero_points[i] = -static_cast<float>(q.code_offset());
      }
    }
    return m;
  }
};

/// @brief N codes in one row: the fixed-size, heap-free packed vector.
template <int Bits, signedness S, std::size_t N, PackedLayout L = interleaved>
using packed_array = packed_matrix<Bits, S, 1, N, L>;

}  // namespace mpq
