// mpq's version, feature switches and the MPQ_ macros every other header relies on.
#pragma once

#define MPQ_VERSION_MAJOR 0
#define MPQ_VERSION_MINOR 1
#define MPQ_VERSION_PATCH 0
#define MPQ_VERSION (MPQ_VERSION_MAJOR * 10000 + MPQ_VERSION_MINOR * 100 + MPQ_VERSION_PATCH)

// Error policy. With exceptions (the default when the compiler has them) a failed check at an API
// boundary throws mpq::error. Define MPQ_NO_EXCEPTIONS, or compile with -fno-exceptions, and the
// checked entry points report through mpq::status / mpq::expected instead, while the unchecked
// convenience overloads call the installable error handler (see core/error.hpp), which never returns.
#if defined(MPQ_NO_EXCEPTIONS)
#define MPQ_HAS_EXCEPTIONS 0
#elif defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define MPQ_HAS_EXCEPTIONS 1
#else
#define MPQ_HAS_EXCEPTIONS 0
#endif

// MPQ_ASSERT checks internal invariants (not user input, which is validated with a clear error at
// the API boundary). It is active unless NDEBUG is defined or MPQ_DISABLE_ASSERT is.
#if defined(NDEBUG) || defined(MPQ_DISABLE_ASSERT)
#define MPQ_ASSERT(cond) ((void)0)
#else
#include <cstdio>
#include <cstdlib>
#define MPQ_ASSERT(cond)                                                                           \
  ((cond) ? (void)0                                                                                \
          : (std::fprintf(stderr, "%s:%d: mpq internal assertion failed: %s\n", __FILE__, __LINE__, \
                          #cond),                                                                  \
             std::abort()))
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MPQ_ALWAYS_INLINE inline __attribute__((always_inline))
#define MPQ_LIKELY(x) __builtin_expect(!!(x), 1)
#define MPQ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define MPQ_RESTRICT __restrict__
#else
#define MPQ_ALWAYS_INLINE inline
#define MPQ_LIKELY(x) (x)
#define MPQ_UNLIKELY(x) (x)
#define MPQ_RESTRICT
#endif

namespace mpq {

/// @brief The library version as "major.minor.patch".
inline constexpr const char* version_string = "0.1.0";

}  // namespace mpq
