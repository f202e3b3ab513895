// Errors at mpq's API boundaries: error codes, a heap-free status/expected, mpq::error, the handler.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <type_traits>
#include <utility>

#include "mpq/config.hpp"

#if MPQ_HAS_EXCEPTIONS
#include <stdexcept>
#include <string>
#endif

namespace mpq {

/// @brief What kind of rule a rejected input broke.
enum class errc : std::uint8_t {
  ok = 0,
  invalid_argument,  ///< a value outside its allowed set (bits = 9, step <= 0, ...)
  not_finite,        ///< NaN or Inf where a finite value is required
  shape_mismatch,    ///< sizes of operands disagree
  out_of_range,      ///< an index or axis outside its extent
  overflow,          ///< a size or accumulation that would not fit its integer type
  misaligned,        ///< a buffer without the alignment an entry point requires
  infeasible,        ///< no allocation meets the budgets
  io_error,          ///< a file could not be opened, read or written
  corrupt_data,      ///< a file or buffer that is not what it claims to be
  unsupported,       ///< a valid request this build cannot serve (e.g. an ISA not compiled in)
};

/// @brief A short, stable name for an error code ("invalid_argument", ...).
constexpr const char* to_string(errc code) noexcept {
  switch (code) {
    case errc::ok: return "ok";
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_finite: return "not_finite";
    case errc::shape_mismatch: return "shape_mismatch";
    case errc::out_of_range: return "out_of_range";
    case errc::overflow: return "overflow";
    case errc::misaligned: return "misaligned";
    case errc::infeasible: return "infeasible";
    case errc::io_error: return "io_error";
    case errc::corrupt_data: return "corrupt_data";
    case errc::unsupported: return "unsupported";
  }
  return "unknown";
}

/// @brief The outcome of a checked call: ok, or an error code with a message naming the value and
/// the rule it broke. Fixed size (no heap), so it is usable in embedded builds.
class status {
 public:
  static constexpr std::size_t message_capacity = 256;

  constexpr status() noexcept = default;

  /// @brief An error with a printf-style message (truncated to message_capacity - 1 characters).
  [[gnu::format(printf, 2, 3)]] static status failure(errc code, const char* fmt, ...) noexcept {
    status s;
    s.code_ = code;
    std::va_list args;
    va_start(args, fmt);
    std::vsnprintf(s.message_, message_capacity, fmt, args);
    va_end(args);
    return s;
  }

  constexpr bool ok() const noexcept { return code_ == errc::ok; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  constexpr errc code() const noexcept { return code_; }
  /// @brief The message; "" when ok().
  constexpr const char* message() const noexcept { return message_; }

 private:
  errc code_ = errc::ok;
  char message_[message_capacity] = {};
};

#if MPQ_HAS_EXCEPTIONS
/// @brief What mpq throws when an input breaks a documented rule. what() names the value and rule.
class error : public std::runtime_error {
 public:
  error(errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  explicit error(const status& s) : error(s.code(), s.message()) {}
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};
#endif

/// @brief Called with a failed status when an unchecked entry point fails in a build without
/// exceptions. It must not return; if it does, mpq aborts.
using error_handler = void (*)(const status&) noexcept;

namespace detail {
inline void default_error_handler(const status& s) noexcept {
  std::fprintf(stderr, "mpq error (%s): %s\n", to_string(s.code()), s.message());
  std::fflush(stderr);
}
inline error_handler& error_handler_slot() noexcept {
  static error_handler handler = &default_error_handler;
  return handler;
}
}  // namespace detail

/// @brief Install the handler used without exceptions; returns the previous one. nullptr restores
/// the default (print to stderr, then abort).
inline error_handler set_error_handler(error_handler handler) noexcept {
  error_handler previous = detail::error_handler_slot();
  detail::error_handler_slot() = handler ? handler : &detail::default_error_handler;
  return previous;
}

/// @brief Report a failed status: throw mpq::error, or (without exceptions) call the handler and
/// abort. Never returns.
[[noreturn]] inline void raise(const status& s) {
#if MPQ_HAS_EXCEPTIONS
  throw error(s);
#else
  detail::error_handler_slot()(s);
  std::abort();
#endif
}

/// @brief raise(s) if s is a failure; otherwise nothing.
inline void throw_if_error(const status& s) {
  if (MPQ_UNLIKELY(!s.ok())) raise(s);
}

/// @brief A value or the status that explains why there is none; heap-free, exception-free.
/// The checked (`try_...`) entry points return it; value() on a failure calls raise().
template <class T>
class expected {
  static_assert(!std::is_reference_v<T>, "mpq::expected holds values, not references");

 public:
  expected(const T& v) : has_(true) { ::new (&storage_) T(v); }                   // NOLINT(implicit)
  expected(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) : has_(true) {  // NOLINT(implicit)
    ::new (&storage_) T(std::move(v));
  }
  expected(const status& s) : status_(s) { MPQ_ASSERT(!s.ok()); }  // NOLINT(implicit)

  expected(const expected& o) : has_(o.has_), status_(o.status_) {
    if (has_) ::new (&storage_) T(*o.ptr());
  }
  expected(expected&& o) noexcept(std::is_nothrow_move_constructible_v<T>)
      : has_(o.has_), status_(o.status_) {
    if (has_) ::new (&storage_) T(std::move(*o.ptr()));
  }
  expected& operator=(const expected& o) {
    if (this != &o) {
      reset();
      has_ = o.has_;
      status_ = o.status_;
      if (has_) ::new (&storage_) T(*o.ptr());
    }
    return *this;
  }
  expected& operator=(expected&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &o) {
      reset();
      has_ = o.has_;
      status_ = o.status_;
      if (has_) ::new (&storage_) T(std::move(*o.ptr()));
    }
    return *this;
  }
  ~expected() { reset(); }

  bool has_value() const noexcept { return has_; }
  explicit operator bool() const noexcept { return has_; }
  /// @brief ok() when a value is held, else the failure.
  const status& error() const noexcept { return status_; }

  T& value() & {
    if (!has_) raise(status_);
    return *ptr();
  }
  const T& value() const& {
    if (!has_) raise(status_);
    return *ptr();
  }
  T&& value() && {
    if (!has_) raise(status_);
    return std::move(*ptr());
  }
  T& operator*() noexcept { return *ptr(); }
  const T& operator*() const noexcept { return *ptr(); }
  T* operator->() noexcept { return ptr(); }
  const T* operator->() const noexcept { return ptr(); }

 private:
  T* ptr() noexcept { return std::launder(reinterpret_cast<T*>(&storage_)); }
  const T* ptr() const noexcept { return std::launder(reinterpret_cast<const T*>(&storage_)); }
  void reset() noexcept {
    if (has_) ptr()->~T();
    has_ = false;
  }

  bool has_ = false;
  status status_{};
  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace mpq

/// Return the failed status of a checked expression from the enclosing function.
#define MPQ_TRY(expr)                                   \
  do {                                                  \
    if (::mpq::status mpq_try_status_ = (expr); !mpq_try_status_.ok()) \
      return mpq_try_status_;                           \
  } while (0)
