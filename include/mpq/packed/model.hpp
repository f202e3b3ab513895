// any_packed_tensor (width, signedness and layout known at run time) and packed_model, a named set
// of them: what a packed-model file holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/packed/tensor.hpp"
#include "mpq/packed/view.hpp"

namespace mpq {

/// @brief A packed tensor whose width, signedness and layout are values, not types: the element of
/// a packed_model. Converts from any packed_tensor (moving its memory, no copy) and back to the
/// typed tensor or view it holds; asking for another type is a clear error.
class any_packed_tensor {
 public:
  any_packed_tensor() noexcept = default;

  template <int Bits, signedness S, PackedLayout L>
  any_packed_tensor(packed_tensor<Bits, S, L> t) noexcept  // NOLINT(implicit): a tensor is one
      : st_(std::move(t).release()), bits_(Bits), sign_(S), layout_(L::name) {}

  /// @brief Adopt storage already validated against layout L (the loader's way in).
  template <PackedLayout L>
  static any_packed_tensor adopt(int bits, signedness s, detail::packed_storage&& st) noexcept {
    any_packed_tensor a;
    a.st_ = std::move(st);
    a.bits_ = bits;
    a.sign_ = s;
    a.layout_ = L::name;
    return a;
  }

  any_packed_tensor(any_packed_tensor&&) noexcept = default;
  any_packed_tensor& operator=(any_packed_tensor&&) noexcept = default;
  any_packed_tensor(const any_packed_tensor& o) : bits_(o.bits_), sign_(o.sign_), layout_(o.layout_) {
    throw_if_error(o.st_.try_copy(st_));
  }
  any_packed_tensor& operator=(const any_packed_tensor& o) {
    if (this != &o) *this = any_packed_tensor(o);
    return *this;
  }
  ~any_packed_tensor() = default;

  int bits() const noexcept { return bits_; }
  signedness sign() const noexcept { return sign_; }
  /// @brief The layout's name (L::name); "" for an empty any_packed_tensor.
  const char* layout_name() const noexcept { return layout_; }
  packed_shape shape() const noexcept { return st_.shape(); }
  std::size_t rows() const noexcept { return st_.rows(); }
  std::size_t cols() const noexcept { return st_.cols(); }
  std::size_t padded_cols() const noexcept { return st_.padded_cols(); }
  std::size_t row_stride() const noexcept { return st_.row_stride(); }
  std::span<const std::uint8_t> payload() const noexcept { return {st_.data(), st_.payload_bytes()}; }
  std::span<const float> scales() const noexcept { return st_.scales(); }
  std::span<const float> zero_points() const noexcept { return st_.zero_points(); }

  /// @brief True if it holds a packed_tensor<Bits, S, L>.
  template <int Bits, signedness S, PackedLayout L>
  bool holds() const noexcept {
    return bits_ == Bits && sign_ == S && std::strcmp(layout_, L::name) == 0;
  }

  /// @brief Checked: ok if it holds a packed_tensor<Bits, S, L>, else errc::invalid_argument naming both.
  template <int Bits, signedness S, PackedLayout L>
  status check_type() const noexcept {
    if (holds<Bits, S, L>()) return {};
    return status::failure(errc::invalid_argument, "packed tensor holds %d-bit %s codes in layout %s; %d-bit %s codes "
                           "in layout %s were asked for", bits_, to_string(sign_), layout_, Bits, to_string(S), L::name);
  }

  /// @brief Checked: a view of the codes (no copy), valid while this object lives.
  template <int Bits, signedness S, PackedLayout L>
  expected<packed_view<Bits, S, L>> try_view() const noexcept {
    MPQ_TRY((check_type<Bits, S, L>()));
    return packed_view<Bits, S, L>{st_.data(), st_.rows(), st_.cols(), st_.padded_cols(), st_.row_stride()};
  }
  /// @brief Checked: a copy as a typed tensor.
  template <int Bits, signedness S, PackedLayout L>
  expected<packed_tensor<Bits, S, L>> try_get() const& noexcept {
    MPQ_TRY((check_type<Bits, S, L>()));
    detail::packed_storage copy;
    MPQ_TRY(st_.try_copy(copy));
    return packed_tensor<Bits, S, L>::adopt(std::move(copy));
  }
  /// @brief Checked: the typed tensor, moving the memory out (this becomes empty on success).
  template <int Bits, signedness S, PackedLayout L>
  expected<packed_tensor<Bits, S, L>> try_get() && noexcept {
    MPQ_TRY((check_type<Bits, S, L>()));
    bits_ = 0;
    layout_ = "";
    return packed_tensor<Bits, S, L>::adopt(std::move(st_));
  }

  friend bool operator==(const any_packed_tensor& a, const any_packed_tensor& b) noexcept {
    return a.bits_ == b.bits_ && a.sign_ == b.sign_ && std::strcmp(a.layout_, b.layout_) == 0 && a.st_ == b.st_;
  }

 private:
  detail::packed_storage st_;
  int bits_ = 0;
  signedness sign_ = signed_codes;
  const char* layout_ = "";
};

/// @brief Named packed tensors in insertion order (a packed model: one entry per layer's weights).
/// Names are unique.
class packed_model {
 public:
  struct entry {
    std::string name;
    any_packed_tensor tensor;
    friend bool operator==(const entry&, const entry&) = default;
  };

  /// @brief Checked: add a tensor under a new name; a name already present is errc::invalid_argument
  /// and changes nothing.
  status try_add(std::string_view name, any_packed_tensor tensor) {
    if (find(name) != nullptr)
      return status::failure(errc::invalid_argument, "packed_model: a tensor named '%.*s' is already present",
                             static_cast<int>(name.size() > 200 ? 200 : name.size()), name.data());
    entries_.push_back(entry{std::string(name), std::move(tensor)});
    return {};
  }
  void add(std::string_view name, any_packed_tensor tensor) { throw_if_error(try_add(name, std::move(tensor))); }

  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  std::span<const entry> entries() const noexcept { return entries_; }
  auto begin() const noexcept { return entries_.begin(); }
  auto end() const noexcept { return entries_.end(); }

  /// @brief The tensor named `name`, or nullptr.
  const any_packed_tensor* find(std::string_view name) const noexcept {
    for (const entry& e : entries_)
      if (e.name == name) return &e.tensor;
    return nullptr;
  }

  /// @brief Checked: a view of the tensor named `name` (errc::out_of_range if absent, a type
  /// mismatch is errc::invalid_argument).
  template <int Bits, signedness S, PackedLayout L>
  expected<packed_view<Bits, S, L>> try_view(std::string_view name) const noexcept {
    const any_packed_tensor* t = find(name);
    if (t == nullptr) return missing(name);
    return t->template try_view<Bits, S, L>();
  }
  /// @brief Checked: a copy of the tensor named `name`.
  template <int Bits, signedness S, PackedLayout L>
  expected<packed_tensor<Bits, S, L>> try_get(std::string_view name) const noexcept {
    const any_packed_tensor* t = find(name);
    if (t == nullptr) return missing(name);
    return t->template try_get<Bits, S, L>();
  }
  /// @brief Checked: move the tensor named `name` out of the model (removing its entry).
  template <int Bits, signedness S, PackedLayout L>
  expected<packed_tensor<Bits, S, L>> try_take(std::string_view name) noexcept {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->name != name) continue;
      auto t = std::move(it->tensor).template try_get<Bits, S, L>();
      if (t) entries_.erase(it);
      return t;
    }
    return missing(name);
  }
  template <int Bits, signedness S, PackedLayout L>
  packed_tensor<Bits, S, L> get(std::string_view name) const {
    return try_get<Bits, S, L>(name).value();
  }

  friend bool operator==(const packed_model&, const packed_model&) = default;

 private:
  static status missing(std::string_view name) noexcept {
    return status::failure(errc::out_of_range, "packed_model: no tensor named '%.*s'",
                           static_cast<int>(name.size() > 200 ? 200 : name.size()), name.data());
  }
  std::vector<entry> entries_;
};

}  // namespace mpq
