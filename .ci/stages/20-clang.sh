# The test suite and the per-header checks with clang++-14, warnings as errors.
# The Cortex-M4 checks build with arm-none-eabi-g++ whatever the host compiler: stage 00 runs them.
# Time (90-minute CI on 2 cores): the examples are built (g++, -Werror) and run in stage 00 only; the
# library code they use is compiled here through the tests and the header checks.
mpq_install_packages ${MPQ_PKGS_TEST}
cmake -S . -B build/ci-clang -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 \
  -DMPQ_BUILD_BENCHMARKS=OFF -DMPQ_BUILD_EXAMPLES=OFF
cmake --build build/ci-clang -j"$(mpq_jobs)"
ci_ctest build/ci-clang -E "^consumer/|cortex_m4"
