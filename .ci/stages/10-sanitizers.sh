# ASan + UBSan build of the test suite (Debug, so MPQ_ASSERT is live). The consumer tests rebuild
# the package and add nothing under sanitizers, so they are left to stage 00.
mpq_install_packages ${MPQ_PKGS_TEST}
cmake -S . -B build/ci-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ -DMPQ_SANITIZE=ON \
  -DMPQ_BUILD_BENCHMARKS=OFF
cmake --build build/ci-asan -j"$(mpq_jobs)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ci_ctest build/ci-asan -E "^consumer/"
