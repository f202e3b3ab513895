// Writing a whole file so that a failure never leaves a half-written one behind.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

#include "mpq/core/error.hpp"

namespace mpq {

/// @brief Checked: write `size` bytes to `path`. They go to `<path><temp_suffix>` first, which is
/// renamed into place once complete, so on failure any existing file at `path` is untouched and the
/// partial file is removed. Errors (io_error) start with `who` and name the path.
inline status try_write_file_replacing(const char* path, const void* data, std::size_t size, const char* who,
                                       const char* temp_suffix = ".partial") {
  const std::string tmp = std::string(path) + temp_suffix;
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return status::failure(errc::io_error, "%s: cannot open '%s' for writing", who, tmp.c_str());
  const bool written = std::fwrite(data, 1, size, f) == size;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    std::remove(tmp.c_str());
    return status::failure(errc::io_error, "%s: writing %zu bytes to '%s' failed", who, size, tmp.c_str());
  }
  if (std::rename(tmp.c_str(), path) != 0) {
    std::remove(tmp.c_str());
    return status::failure(errc::io_error, "%s: cannot rename '%s' to '%s'", who, tmp.c_str(), path);
  }
  return {};
}

}  // namespace mpq
