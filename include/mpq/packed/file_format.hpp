// The packed-model file format (docs/packed_format.md): save and load one packed tensor or a named
// set, from files or memory buffers; loading validates every field and leaves nothing half-loaded.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/file.hpp"
#include "mpq/core/math.hpp"
#include "mpq/packed/aligned_bytes.hpp"
#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/byte_order.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/packed/model.hpp"
#include "mpq/packed/row_codec.hpp"
#include "mpq/packed/strided_block.hpp"
#include "mpq/packed/tensor.hpp"
#include "mpq/packed/ternary.hpp"

namespace mpq {

/// @brief The layouts a loader recognises by name (a file names its layout; kernels that declare
/// their own layouts pass a list that includes them).
template <PackedLayout... Ls>
struct layout_list {};

/// @brief The layouts mpq's packed/ defines.
using packed_layouts = layout_list<interleaved, bitplane, ternary2, ternary_base3, strided_block<16>,
                                   strided_block<32>, strided_block<64>>;

namespace packed_file {
/// @brief "\x89MPQ\r\n\x1a\n": the high byte catches 7-bit channels, CR LF / LF and ^Z catch text-mode
/// conversions (the trick of PNG's signature, RFC 2083 section 12.11).
inline constexpr std::array<std::uint8_t, 8> magic = {0x89, 'M', 'P', 'Q', 0x0D, 0x0A, 0x1A, 0x0A};
inline constexpr std::uint16_t version = 1;
inline constexpr std::size_t header_bytes = 20;        // magic, version, flags, count, header CRC
inline constexpr std::size_t record_fixed_bytes = 48;  // record_bytes .. row_stride
inline constexpr std::size_t max_layout_name = 64;
inline constexpr std::size_t max_tensor_name = 4096;
}  // namespace packed_file

namespace detail {

// ---- CRC-32 (the CRC of zlib, gzip and PNG: reflected polynomial 0xEDB88320, init and final xor
// 0xFFFFFFFF), slicing by 8: table k gives the CRC contribution of a byte followed by k zero bytes.
inline constexpr std::array<std::array<std::uint32_t, 256>, 8> crc32_tables = [] {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t c = b;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    t[0][b] = c;
  }
  for (std::size_t k = 1; k < 8; ++k)
    for (std::uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  return t;
}();

/// @brief Continue a CRC-32 over more bytes (start with crc = 0).
constexpr std::uint32_t crc32(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0) noexcept {
  const auto& t = crc32_tables;
  crc = ~crc;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    const std::uint32_t lo = crc ^ (static_cast<std::uint32_t>(bytes[i]) | static_cast<std::uint32_t>(bytes[i + 1]) << 8 |
                                    static_cast<std::uint32_t>(bytes[i + 2]) << 16 |
                                    static_cast<std::uint32_t>(bytes[i + 3]) << 24);
    crc = t[7][lo & 0xFFu] ^ t[6][(lo >> 8) & 0xFFu] ^ t[5][(lo >> 16) & 0xFFu] ^ t[4][lo >> 24] ^
          t[3][bytes[i + 4]] ^ t[2][bytes[i + 5]] ^ t[1][bytes[i + 6]] ^ t[0][bytes[i + 7]];
  }
  for (; i < bytes.size(); ++i) crc = (crc >> 8) ^ t[0][(crc ^ bytes[i]) & 0xFFu];
  return ~crc;
}

// ---- writing ----
class byte_writer {
 public:
  explicit byte_writer(std::vector<std::uint8_t>& out) noexcept : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(v); }
  void uint(std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void f32(float v) { uint(std::bit_cast<std::uint32_t>(v), 4); }
  void bytes(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  std::size_t size() const noexcept { return out_.size(); }
  void patch_u64(std::size_t at, std::uint64_t v) noexcept {
    for (std::size_t i = 0; i < 8; ++i) out_[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  std::span<const std::uint8_t> from(std::size_t at) const noexcept {
    return std::span<const std::uint8_t>(out_).subspan(at);
  }

 private:
  std::vector<std::uint8_t>& out_;
};

// ---- reading ----
inline std::uint64_t read_le(const std::uint8_t* p, std::size_t n) noexcept { return load_le(p, n); }

/// @brief True if v fits size_t (always on 64-bit hosts; not on a 32-bit target).
constexpr bool fits_size(std::uint64_t v) noexcept {
  if constexpr (sizeof(std::size_t) < sizeof(std::uint64_t)) return v <= static_cast<std::uint64_t>(SIZE_MAX);
  return true;
}

/// @brief The name for messages: at most 64 characters, non-printable bytes as '?'.
inline std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  if (s.size() > 64) out += "...";
  return out;
}

/// @brief Calls f.template operator()<Bits, S, L>() for the one (Bits, S, L) with L::name == layout,
/// Bits == bits and S == s that L supports; returns false (calling nothing) if there is none.
template <class F, PackedLayout... Ls>
bool dispatch_packed_type(layout_list<Ls...>, std::string_view layout, int bits, signedness s, F&& f) {
  bool found = false;
  auto try_layout = [&]<class L>() {
    if (found || layout != std::string_view(L::name)) return;
    [&]<int... B>(std::integer_sequence<int, B...>) {
      auto one = [&]<int Bits>() {
        if (bits != Bits || found) return;
        if constexpr (layout_supports<L>(Bits, signed_codes)) {
          if (s == signed_codes) { found = true; f.template operator()<Bits, signed_codes, L>(); }
        }
        if constexpr (layout_supports<L>(Bits, unsigned_codes)) {
          if (s == unsigned_codes) { found = true; f.template operator()<Bits, unsigned_codes, L>(); }
        }
      };
      (one.template operator()<B + 1>(), ...);
    }(std::make_integer_sequence<int, max_packed_bits>{});
  };
  (try_layout.template operator()<Ls>(), ...);
  return found;
}

template <PackedLayout... Ls>
std::string layout_names(layout_list<Ls...>) {
  std::string s;
  ((s += (s.empty() ? "" : ", "), s += Ls::name), ...);
  return s;
}

/// @brief Whether layout `name` is in the list.
template <PackedLayout... Ls>
bool has_layout(layout_list<Ls...>, std::string_view name) noexcept {
  return ((name == std::string_view(Ls::name)) || ...);
}

/// @brief Parse one record of `rec` (record_bytes excluded: rec is what it counts) into a tensor.
template <class Layouts>
status parse_record(std::span<const std::uint8_t> rec, std::uint64_t record_bytes, std::size_t index,
                    bool verify_checksum, std::string& name, any_packed_tensor& out) {
  using namespace packed_file;
  const std::uint8_t* p = rec.data();
  const auto fail = [&](errc code, const char* what) {
    return status::failure(code, "packed file: tensor %zu ('%s'): %s", index, printable(name).c_str(), what);
  };
  char msg[192];
  if (rec.size() < record_fixed_bytes - 8 + 4) {
    std::snprintf(msg, sizeof msg, "record of %llu bytes is shorter than its fixed fields (%zu bytes)",
                  static_cast<unsigned long long>(record_bytes), record_fixed_bytes - 8 + 4);
    return fail(errc::corrupt_data, msg);
  }
  const int bits = p[0];
  const std::uint8_t sign_byte = p[1], rank = p[2], layout_len = p[3];
  const auto name_len = static_cast<std::size_t>(read_le(p + 4, 2));
  const auto reserved = static_cast<unsigned>(read_le(p + 6, 2));
  const std::uint64_t rows = read_le(p + 8, 8), cols = read_le(p + 16, 8), padded = read_le(p + 24, 8),
                      stride = read_le(p + 32, 8);
  // Name first (if it fits), so that every later message can say which tensor it is about.
  const std::size_t strings_at = record_fixed_bytes - 8;
  if (layout_len <= max_layout_name && name_len <= max_tensor_name && strings_at + layout_len + name_len <= rec.size())
    name.assign(reinterpret_cast<const char*>(p + strings_at + layout_len), name_len);
  if (!is_packable_bits(bits)) {
    std::snprintf(msg, sizeof msg, "bits = %d: packed codes must be 1..8 bits wide", bits);
    return fail(errc::corrupt_data, msg);
  }
  if (sign_byte > 1) {
    std::snprintf(msg, sizeof msg, "signedness = %u: must be 0 (unsigned) or 1 (signed)", static_cast<unsigned>(sign_byte));
    return fail(errc::corrupt_data, msg);
  }
  if (rank != 1 && rank != 2) {
    std::snprintf(msg, sizeof msg, "rank = %u: must be 1 or 2", static_cast<unsigned>(rank));
    return fail(errc::corrupt_data, msg);
  }
  if (rank == 1 && rows != 1) {
    std::snprintf(msg, sizeof msg, "rank 1 with rows = %llu: must be 1", static_cast<unsigned long long>(rows));
    return fail(errc::corrupt_data, msg);
  }
  if (reserved != 0) {
    std::snprintf(msg, sizeof msg, "reserved field = %u: must be 0", reserved);
    return fail(errc::corrupt_data, msg);
  }
  if (layout_len == 0 || layout_len > max_layout_name || name_len > max_tensor_name) {
    std::snprintf(msg, sizeof msg, "layout name of %u bytes, tensor name of %zu bytes: must be 1..%zu and 0..%zu",
                  static_cast<unsigned>(layout_len), name_len, max_layout_name, max_tensor_name);
    return fail(errc::corrupt_data, msg);
  }
  const std::string_view layout(reinterpret_cast<const char*>(p + strings_at),
                                strings_at + layout_len <= rec.size() ? layout_len : 0);
  // Sizes: every product and sum checked before it is used.
  std::size_t payload = 0, floats = 0, need = 0;
  const bool sizes_fit = fits_size(rows) && fits_size(stride) &&
                         checked_mul(static_cast<std::size_t>(rows), static_cast<std::size_t>(stride), payload) &&
                         checked_mul(static_cast<std::size_t>(rows), 2 * sizeof(float), floats) &&
                         checked_add(strings_at + layout_len + name_len + 4, floats, need) &&
                         checked_add(need, payload, need);
  if (!sizes_fit || need != rec.size()) {
    std::snprintf(msg, sizeof msg, "shape %llu x %llu with row stride %llu needs a record of %s bytes, the file says %llu",
                  static_cast<unsigned long long>(rows), static_cast<unsigned long long>(cols),
                  static_cast<unsigned long long>(stride), sizes_fit ? std::to_string(need).c_str() : "too many",
                  static_cast<unsigned long long>(record_bytes));
    return fail(errc::corrupt_data, msg);
  }
  if (!has_layout(Layouts{}, layout)) {
    std::snprintf(msg, sizeof msg, "layout '%s' is not one this loader knows (%s)", printable(layout).c_str(),
                  layout_names(Layouts{}).c_str());
    return fail(errc::unsupported, msg);
  }
  const signedness s = sign_byte ? signed_codes : unsigned_codes;
  // The layout's own rules (padding, stride, canonical rows), then the checksum, then the values.
  status result{};
  const bool supported = dispatch_packed_type(Layouts{}, layout, bits, s, [&]<int Bits, signedness S, class L>() {
    const std::uint64_t want_padded = round_up(static_cast<std::size_t>(cols), L::col_block(Bits));
    if (!fits_size(cols) || cols > SIZE_MAX / 16 || padded != want_padded || stride != L::row_bytes(Bits, static_cast<std::size_t>(padded))) {
      std::snprintf(msg, sizeof msg, "padded_cols = %llu, row_stride = %llu: layout %s stores %llu %d-bit columns as "
                    "%llu padded columns of %llu bytes", static_cast<unsigned long long>(padded),
                    static_cast<unsigned long long>(stride), L::name, static_cast<unsigned long long>(cols), Bits,
                    static_cast<unsigned long long>(want_padded),
                    static_cast<unsigned long long>(L::row_bytes(Bits, static_cast<std::size_t>(want_padded))));
      result = fail(errc::corrupt_data, msg);
      return;
    }
    const std::uint32_t stored = static_cast<std::uint32_t>(read_le(rec.data() + rec.size() - 4, 4));
    std::uint8_t size_field[8];
    store_le<8>(size_field, record_bytes);
    const std::uint32_t computed = crc32(rec.first(rec.size() - 4), crc32(size_field));
    if (verify_checksum && stored != computed) {
      std::snprintf(msg, sizeof msg, "checksum mismatch (stored 0x%08x, computed 0x%08x)", static_cast<unsigned>(stored),
                    static_cast<unsigned>(computed));
      result = fail(errc::corrupt_data, msg);
      return;
    }
    detail::packed_storage st;
    const packed_shape shape{rank, static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)};
    if (status a = packed_storage::try_make(shape, static_cast<std::size_t>(padded), static_cast<std::size_t>(stride), st);
        !a.ok()) {
      result = a;
      return;
    }
    const std::uint8_t* values = p + strings_at + layout_len + name_len;
    for (std::size_t i = 0; i < shape.rows; ++i) {
      const float scale = std::bit_cast<float>(static_cast<std::uint32_t>(read_le(values + 4 * i, 4)));
      const float zero = std::bit_cast<float>(static_cast<std::uint32_t>(read_le(values + 4 * (shape.rows + i), 4)));
      if (!is_finite(scale) || !is_finite(zero)) {
        std::snprintf(msg, sizeof msg, "row %zu: scale %g, zero point %g: both must be finite", i,
                      static_cast<double>(scale), static_cast<double>(zero));
        result = fail(errc::corrupt_data, msg);
        return;
      }
      st.scales()[i] = scale;
      st.zero_points()[i] = zero;
    }
    const std::uint8_t* codes = values + floats;
    if (payload != 0) std::memcpy(st.data(), codes, payload);
    for (std::size_t i = 0; i < shape.rows; ++i) {
      const std::span<const std::uint8_t> row(st.data() + i * static_cast<std::size_t>(stride),
                                              static_cast<std::size_t>(stride));
      if (!row_is_canonical<Bits, S, L>(row, static_cast<std::size_t>(padded), shape.cols)) {
        std::snprintf(msg, sizeof msg, "row %zu is not what packing %zu codes in layout %s gives (a code outside "
                      "[%d, %d], a nonzero padding code or an impossible byte)", i, shape.cols, L::name,
                      static_cast<int>(layout_code_min<L>(Bits, S)), static_cast<int>(layout_code_max<L>(Bits, S)));
        result = fail(errc::corrupt_data, msg);
        return;
      }
    }
    out = any_packed_tensor::adopt<L>(Bits, S, std::move(st));
  });
  if (!supported) {
    std::snprintf(msg, sizeof msg, "layout %s does not hold %d-bit %s codes", printable(layout).c_str(), bits,
                  to_string(s));
    return fail(errc::corrupt_data, msg);
  }
  return result;
}

}  // namespace detail

// ================================== writing ==================================================

/// @brief Checked: the file image of a model (appended to `out`). Fails (writing nothing) if a name
/// or layout name is too long, or a scale or zero point is not finite.
inline status try_serialize(const packed_model& model, std::vector<std::uint8_t>& out) {
  using namespace packed_file;
  for (const auto& e : model) {
    const auto& t = e.tensor;
    if (e.name.size() > max_tensor_name)
      return status::failure(errc::invalid_argument, "save: tensor name of %zu bytes: at most %zu", e.name.size(),
                             max_tensor_name);
    const std::size_t ln = std::strlen(t.layout_name());
    if (ln == 0 || ln > max_layout_name)
      return status::failure(errc::invalid_argument, "save: tensor '%s': layout name '%s' must be 1..%zu bytes",
                             detail::printable(e.name).c_str(), t.layout_name(), max_layout_name);
    for (std::size_t i = 0; i < t.rows(); ++i)
      if (!is_finite(t.scales()[i]) || !is_finite(t.zero_points()[i]))
        return status::failure(errc::not_finite, "save: tensor '%s', row %zu: scale %g, zero point %g: both must be finite",
                               detail::printable(e.name).c_str(), i, static_cast<double>(t.scales()[i]),
                               static_cast<double>(t.zero_points()[i]));
  }
  const std::size_t start = out.size();
  detail::byte_writer w(out);
  w.bytes(magic.data(), magic.size());
  w.uint(version, 2);
  w.uint(0, 2);  // flags
  w.uint(model.size(), 4);
  w.uint(detail::crc32(w.from(start).first(header_bytes - 4)), 4);
  for (const auto& e : model) {
    const auto& t = e.tensor;
    const std::size_t at = w.size();
    w.uint(0, 8);  // record_bytes, patched below
    w.u8(static_cast<std::uint8_t>(t.bits()));
    w.u8(t.sign() == signed_codes ? 1 : 0);
    w.u8(static_cast<std::uint8_t>(t.shape().rank));
    const std::size_t ln = std::strlen(t.layout_name());
    w.u8(static_cast<std::uint8_t>(ln));
    w.uint(e.name.size(), 2);
    w.uint(0, 2);  // reserved
    w.uint(t.rows(), 8);
    w.uint(t.cols(), 8);
    w.uint(t.padded_cols(), 8);
    w.uint(t.row_stride(), 8);
    w.bytes(t.layout_name(), ln);
    w.bytes(e.name.data(), e.name.size());
    for (float s : t.scales()) w.f32(s);
    for (float z : t.zero_points()) w.f32(z);
    w.bytes(t.payload().data(), t.payload().size());
    w.patch_u64(at, w.size() - at - 8 + 4);
    w.uint(detail::crc32(w.from(at)), 4);
  }
  return {};
}

/// @brief Checked: write a model to `path`. The file is written under a temporary name and renamed
/// into place, so a failed save leaves any existing file untouched.
inline status try_save(const packed_model& model, const char* path) {
  std::vector<std::uint8_t> image;
  MPQ_TRY(try_serialize(model, image));
  return try_write_file_replacing(path, image.data(), image.size(), "save", ".mpq-partial");
}
inline status try_save(const packed_model& model, const std::string& path) { return try_save(model, path.c_str()); }

/// @brief Checked: save one tensor (a model with one tensor named "").
template <int Bits, signedness S, PackedLayout L>
status try_save(const packed_tensor<Bits, S, L>& t, const char* path) {
  packed_model m;
  MPQ_TRY(m.try_add("", any_packed_tensor(packed_tensor<Bits, S, L>(t))));
  return try_save(m, path);
}
template <int Bits, signedness S, PackedLayout L>
status try_save(const packed_tensor<Bits, S, L>& t, const std::string& path) {
  return try_save(t, path.c_str());
}

inline void save(const packed_model& model, const std::string& path) { throw_if_error(try_save(model, path)); }
template <int Bits, signedness S, PackedLayout L>
void save(const packed_tensor<Bits, S, L>& t, const std::string& path) {
  throw_if_error(try_save(t, path));
}

// ================================== reading ==================================================

namespace detail {
/// @brief The loader. verify_checksums = false exists for the fuzzer only (so that mutated inputs
/// reach the checks behind the checksums, as libpng's fuzzers ignore CRCs); everything else verifies.
template <class Layouts>
expected<packed_model> load_model_image(std::span<const std::uint8_t> image, bool verify_checksums) {
  using namespace packed_file;
  if (image.size() < header_bytes)
    return status::failure(errc::corrupt_data, "packed file: truncated: %zu bytes, the header alone needs %zu",
                           image.size(), header_bytes);
  if (!std::equal(magic.begin(), magic.end(), image.begin()))
    return status::failure(errc::corrupt_data, "packed file: wrong magic (not an mpq packed-model file)");
  const auto ver = static_cast<unsigned>(detail::read_le(image.data() + 8, 2));
  if (ver != version)
    return status::failure(errc::unsupported, "packed file: format version %u: this build reads version %u", ver,
                           static_cast<unsigned>(version));
  const auto flags = static_cast<unsigned>(detail::read_le(image.data() + 10, 2));
  const auto count = static_cast<std::size_t>(detail::read_le(image.data() + 12, 4));
  const auto header_crc = static_cast<std::uint32_t>(detail::read_le(image.data() + 16, 4));
  if (verify_checksums && header_crc != detail::crc32(image.first(header_bytes - 4)))
    return status::failure(errc::corrupt_data, "packed file: header checksum mismatch (stored 0x%08x, computed 0x%08x)",
                           static_cast<unsigned>(header_crc),
                           static_cast<unsigned>(detail::crc32(image.first(header_bytes - 4))));
  if (flags != 0)
    return status::failure(errc::unsupported, "packed file: flags = 0x%04x: version 1 defines none", flags);
  packed_model model;
  std::size_t at = header_bytes;
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t left = image.size() - at;
    if (left < 8)
      return status::failure(errc::corrupt_data, "packed file: truncated: tensor %zu of %zu starts %zu bytes before the end",
                             k, count, left);
    const std::uint64_t record_bytes = detail::read_le(image.data() + at, 8);
    if (record_bytes > left - 8)
      return status::failure(errc::corrupt_data,
                             "packed file: truncated: tensor %zu of %zu has a record of %llu bytes, %zu remain", k, count,
                             static_cast<unsigned long long>(record_bytes), left - 8);
    std::string name;
    any_packed_tensor t;
    MPQ_TRY(detail::parse_record<Layouts>(image.subspan(at + 8, static_cast<std::size_t>(record_bytes)), record_bytes, k,
                                          verify_checksums, name, t));
    if (model.find(name) != nullptr)
      return status::failure(errc::corrupt_data, "packed file: tensor %zu: the name '%s' occurs twice", k,
                             detail::printable(name).c_str());
    MPQ_TRY(model.try_add(name, std::move(t)));
    at += 8 + static_cast<std::size_t>(record_bytes);
  }
  if (at != image.size())
    return status::failure(errc::corrupt_data, "packed file: %zu bytes after the last of %zu tensors", image.size() - at,
                           count);
  return model;
}
}  // namespace detail

/// @brief Checked: parse a file image held in memory. Every field is validated (docs/packed_format.md
/// lists the rules); the first broken rule is returned with a message naming the tensor, the value
/// and the rule. Layouts are recognised by name among `Layouts` (mpq's own by default).
template <class Layouts = packed_layouts>
expected<packed_model> try_load_model(std::span<const std::uint8_t> image) {
  return detail::load_model_image<Layouts>(image, true);
}

/// @brief Checked: read a whole file into memory.
inline status try_read_file(const char* path, std::vector<std::uint8_t>& out) {
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return status::failure(errc::io_error, "load: cannot open '%s'", path);
  std::vector<std::uint8_t> data;
  std::uint8_t buf[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return status::failure(errc::io_error, "load: reading '%s' failed", path);
  out = std::move(data);
  return {};
}

/// @brief Checked: load a model file.
template <class Layouts = packed_layouts>
expected<packed_model> try_load_model(const char* path) {
  std::vector<std::uint8_t> image;
  MPQ_TRY(try_read_file(path, image));
  return try_load_model<Layouts>(std::span<const std::uint8_t>(image));
}
template <class Layouts = packed_layouts>
expected<packed_model> try_load_model(const std::string& path) {
  return try_load_model<Layouts>(path.c_str());
}

/// @brief Checked: a file image that holds exactly one tensor, of type packed_tensor<Bits, S, L>.
template <int Bits, signedness S, PackedLayout L>
expected<packed_tensor<Bits, S, L>> try_load(std::span<const std::uint8_t> image) {
  auto m = try_load_model<layout_list<L>>(image);
  if (!m) {
    // A layout other than L: say what the file holds (parsed again with every known layout).
    if (m.error().code() == errc::unsupported) {
      auto any = try_load_model<packed_layouts>(image);
      if (any && any->size() == 1) return any->begin()->tensor.template check_type<Bits, S, L>();
    }
    return m.error();
  }
  if (m->size() != 1)
    return status::failure(errc::invalid_argument, "load: the file holds %zu tensors; a single-tensor file holds 1",
                           m->size());
  return m->template try_take<Bits, S, L>(m->entries()[0].name);
}
template <int Bits, signedness S, PackedLayout L>
expected<packed_tensor<Bits, S, L>> try_load(const char* path) {
  std::vector<std::uint8_t> image;
  MPQ_TRY(try_read_file(path, image));
  return try_load<Bits, S, L>(std::span<const std::uint8_t>(image));
}
template <int Bits, signedness S, PackedLayout L>
expected<packed_tensor<Bits, S, L>> try_load(const std::string& path) {
  return try_load<Bits, S, L>(path.c_str());
}

template <class Layouts = packed_layouts>
packed_model load_model(const std::string& path) {
  return try_load_model<Layouts>(path).value();
}
template <int Bits, signedness S, PackedLayout L>
packed_tensor<Bits, S, L> load(const std::string& path) {
  return try_load<Bits, S, L>(path).value();
}

}  // namespace mpq
