// What the drivers hand each ISA's micro-kernels: pointers and strides of one register block.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mpq::kernel {

/// @brief One unpack_dot block: S[m * lds + n] = sum_k wr[n][k] * a_u[m][k] for MR activation rows
/// and NR weight rows over padded_cols codes. `w` is the first weight row (split_planes, 64-byte
/// aligned), `a` the first prepared activation row (uint8 codes a_u, or int16 when the kernel's
/// traits ask for them; zero past K). wr is the weight in the kernel's form (unpack_traits).
struct unpack_block_args {
  const std::uint8_t* w = nullptr;
  std::size_t w_stride = 0;  ///< bytes between weight rows
  const std::uint8_t* a = nullptr;
  std::size_t a_stride = 0;  ///< bytes between activation rows
  std::size_t padded_cols = 0;
  std::int32_t* s = nullptr;
  std::size_t lds = 0;
};

/// @brief One LUT block: S[m * lds + r] for the 32 rows r of one row_tiles tile and MR activation
/// rows, over `chunks` chunks of 8 codes. tables + m * table_stride are the 16-entry tables of row m
/// (one per group of 4 codes; 16 bytes per group when A <= 4, else 32: low-nibble table, high).
struct lut_block_args {
  const std::uint8_t* tile = nullptr;
  const std::uint8_t* tables = nullptr;
  std::size_t table_stride = 0;  ///< bytes between the tables of consecutive activation rows
  std::size_t chunks = 0;
  std::int32_t* s = nullptr;
  std::size_t lds = 0;
};

/// @brief One bitserial block: S[m * lds + n] = sum_{i,j} c_i 2^j popcount(w_i & a_j) for MR
/// activation rows and NR weight rows (bitplane rows: W planes of `words` 64-bit words; activation
/// planes likewise, A planes of a_u), c_i = 2^i except c_(W-1) = -2^(W-1).
struct bitserial_block_args {
  const std::uint8_t* w = nullptr;
  std::size_t w_stride = 0;  ///< bytes between weight rows
  const std::uint64_t* a = nullptr;
  std::size_t a_stride = 0;  ///< 64-bit words between activation rows
  std::size_t words = 0;     ///< 64-bit words per plane
  std::int32_t* s = nullptr;
  std::size_t lds = 0;
};

/// @brief The register block of a bitserial kernel (decided per ISA).
struct bitserial_traits {
  int mr = 1;  ///< activation rows per gemm register block
  int nr = 1;  ///< weight rows per register block
};

/// @brief How an unpack_dot kernel holds its operands (decided per ISA from the bit pair).
struct unpack_traits {
  bool int16_activations = false;  ///< prepared activations are int16 (else uint8)
  std::int32_t weight_offset = 0;  ///< the kernel sums (w + weight_offset) * a_u
  int mr = 1;                      ///< activation rows per gemm register block
  int nr = 4;                      ///< weight rows per register block
};

}  // namespace mpq::kernel

namespace mpq::kernel {

/// @brief One row segment of the float / requantized epilogue without user code offsets:
/// acc = s - a_term - w_mul * sum_w (int32, wrapping: acc itself fits), v = float(acc) * scale (+ bias),
/// then v is stored, or requantized into codes.
struct epilogue_row_args {
  const std::int32_t* s = nullptr;
  const std::int32_t* sum_w = nullptr;
  std::uint32_t a_term = 0;
  std::uint32_t w_mul = 0;
  const float* scale = nullptr;  ///< count values, or one when scale_per_tensor
  bool scale_per_tensor = false;
  const float* bias = nullptr;  ///< null: no bias
  bool bias_per_tensor = false;
  float* values = nullptr;      ///< float output, or null for requantization into codes
  std::int32_t* codes = nullptr;
  float inverse_step = 1.0f;
  std::int32_t zero_point = 0, code_lo = 0, code_hi = 0;
  std::size_t count = 0;
};

/// @brief The 16-entry lookup tables of `groups` groups of 4 activation bytes a_u (A-bit): one table
/// per group when A <= 4, else two (low nibbles, then high parts), 16 bytes each, group after group.
struct lut_table_args {
  const std::uint8_t* a = nullptr;
  std::size_t groups = 0;
  int bits = 8;
  std::uint8_t* tables = nullptr;
};

}  // namespace mpq::kernel
