# The test suite and the per-header checks with clang++-14, warnings as errors, built for AVX2 + FMA
# only (-mavx2 -mfma, whatever the machine has): this is also the AVX2-only build, so the
# kernel tests here run the avx2 and portable kernels against the reference. (Stage 00 builds with
# -march=native minus AVX-512, which on an AVX2 machine is the same ISA set; a separate g++ AVX2-only
# stage repeated stage 00's kernel builds and was dropped to keep CI inside its 90 minutes.)
# The Cortex-M4 checks build with arm-none-eabi-g++ whatever the host compiler: stage 00 runs them.
# Time (90-minute CI on 2 cores): the examples are built (g++, -Werror) and run in stage 00 only; the
# library code they use is compiled here through the tests and the header checks.
mpq_install_packages ${MPQ_PKGS_TEST}
cmake -S . -B build/ci-clang -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 \
  -DMPQ_ARCH_FLAGS="-mavx2 -mfma" -DMPQ_BUILD_BENCHMARKS=OFF -DMPQ_BUILD_EXAMPLES=OFF
cmake --build build/ci-clang -j"$(mpq_jobs)"
ci_ctest build/ci-clang -E "^consumer/|cortex_m4"
