// Progress lines with elapsed time and an estimate of the time left, for the pipeline's long steps.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace fmnist_e2e {

/// "[what] i/n  elapsed 1m02s, about 3m10s left" on stderr, at most once every `every` seconds
/// (and always at the end).
class progress {
 public:
  progress(std::string what, long total, double every_seconds = 10.0)
      : what_(std::move(what)), total_(total), every_(every_seconds), start_(clock::now()), last_(start_) {}

  void update(long done, const std::string& note = {}) {
    const auto now = clock::now();
    if (done < total_ && std::chrono::duration<double>(now - last_).count() < every_) return;
    last_ = now;
    const double elapsed = seconds();
    const double left = done > 0 ? elapsed * static_cast<double>(total_ - done) / static_cast<double>(done) : 0.0;
    std::fprintf(stderr, "[%s] %ld/%ld  %s elapsed, about %s left%s%s\n", what_.c_str(), done, total_,
                 format(elapsed).c_str(), format(left).c_str(), note.empty() ? "" : "  ", note.c_str());
    std::fflush(stderr);
  }
  double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

  static std::string format(double s) {
    char b[32];
    const long t = static_cast<long>(s + 0.5);
    if (t >= 3600)
      std::snprintf(b, sizeof b, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else
      std::snprintf(b, sizeof b, "%ldm%02lds", t / 60, t % 60);
    return b;
  }

 private:
  using clock = std::chrono::steady_clock;
  std::string what_;
  long total_;
  double every_;
  clock::time_point start_, last_;
};

}  // namespace fmnist_e2e
