// The static_assert wall of the packed-layout concepts (packed/layout_concepts.hpp) and of what the
// packed types promise: every layout model passes, every named non-model is rejected.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <type_traits>

#include "mpq/packed/array.hpp"
#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/packed/strided_block.hpp"
#include "mpq/packed/tensor.hpp"
#include "mpq/packed/ternary.hpp"

namespace mpq_static {
int& wall_count();
}

namespace {
using namespace mpq;

// ---- models -----------------------------------------------------------------------------------------
template <class... L>
constexpr bool all_layouts = (PackedLayout<L> && ...);
static_assert(all_layouts<interleaved, bitplane, ternary2, ternary_base3, strided_block<16>, strided_block<32>,
                          strided_block<64>>);
// the optional members are detected where they exist
static_assert(LayoutWithPackCols<interleaved, 3, std::int8_t> && LayoutWithUnpackCols<bitplane, 5, signed_codes, std::int32_t>);
static_assert(LayoutWithPackCols<ternary_base3, 2, std::int16_t> && LayoutWithByteCheck<ternary_base3>);
static_assert(LayoutWithSupports<strided_block<32>> && LayoutWithCodeRange<ternary2> && !LayoutWithCodeRange<interleaved>);
static_assert(layout_supports<strided_block<16>>(4, unsigned_codes) && !layout_supports<strided_block<16>>(3, signed_codes));
static_assert(!layout_supports<interleaved>(9, signed_codes) && !layout_supports<ternary_base3>(2, unsigned_codes));
static_assert(layout_code_min<ternary2>(2, signed_codes) == -1 && layout_code_max<interleaved>(2, signed_codes) == 1 &&
              layout_code_min<interleaved>(2, signed_codes) == -2);
// every row is padded to whole 64-bit words (interleaved, bitplane) or whole 64-byte blocks (base-3)
static_assert(interleaved::col_block(3) == 64 && bitplane::col_block(7) == 64 && ternary_base3::col_block(2) == 320);
static_assert(strided_block<32>::col_block(4) == 64 && strided_block<64>::col_block(1) == 512);

// views and tensors: random-access iteration, writable proxies, conversions to read-only views
using t4 = packed_tensor<4, signed_codes, interleaved>;
static_assert(std::random_access_iterator<t4::iterator> && std::random_access_iterator<t4::const_iterator>);
static_assert(std::indirectly_writable<t4::iterator, std::int32_t>);
static_assert(std::is_convertible_v<packed_span<4, signed_codes, bitplane>, packed_view<4, signed_codes, bitplane>>);
static_assert(!std::is_convertible_v<packed_view<4, signed_codes, bitplane>, packed_span<4, signed_codes, bitplane>>);
static_assert(std::is_nothrow_move_constructible_v<t4> && std::is_copy_constructible_v<t4>);
// fixed-size arrays: no heap, trivially copyable, convertible to the kernels' view
using a4 = packed_array<4, signed_codes, 100>;
static_assert(std::is_trivially_copyable_v<a4> && std::is_convertible_v<a4, a4::view_type>);
static_assert(holds_codes_v<std::int8_t, 8, signed_codes, interleaved> && !holds_codes_v<std::int8_t, 8, unsigned_codes, interleaved>);

// ---- non-models -------------------------------------------------------------------------------------
struct no_name {  // everything but a name
  static constexpr std::size_t col_block(int) noexcept { return 64; }
  static constexpr std::size_t row_bytes(int, std::size_t n) noexcept { return n; }
  static constexpr void store(std::span<std::uint8_t>, int, std::size_t, std::size_t, std::uint32_t) noexcept {}
  static constexpr std::uint32_t load(std::span<const std::uint8_t>, int, std::size_t, std::size_t) noexcept { return 0; }
};
struct int_block {  // col_block must give std::size_t
  static constexpr const char* name = "int_block";
  static constexpr int col_block(int) noexcept { return 64; }
  static constexpr std::size_t row_bytes(int, std::size_t n) noexcept { return n; }
  static constexpr void store(std::span<std::uint8_t>, int, std::size_t, std::size_t, std::uint32_t) noexcept {}
  static constexpr std::uint32_t load(std::span<const std::uint8_t>, int, std::size_t, std::size_t) noexcept { return 0; }
};
struct no_load {  // write-only
  static constexpr const char* name = "no_load";
  static constexpr std::size_t col_block(int) noexcept { return 64; }
  static constexpr std::size_t row_bytes(int, std::size_t n) noexcept { return n; }
  static constexpr void store(std::span<std::uint8_t>, int, std::size_t, std::size_t, std::uint32_t) noexcept {}
};
static_assert(!PackedLayout<no_name> && !PackedLayout<int_block> && !PackedLayout<no_load>);
static_assert(!PackedLayout<int> && !PackedLayout<packed_view<4, signed_codes, interleaved>>);
static_assert(!LayoutWithPackCols<no_name, 4, std::int8_t> && !LayoutWithByteCheck<interleaved>);

const bool registered = (++mpq_static::wall_count(), true);
}  // namespace
