# The whole suite with clang++-14, warnings as errors.
# The Cortex-M4 checks build with arm-none-eabi-g++ whatever the host compiler: stage 00 runs them.
mpq_install_packages ${MPQ_PKGS_TEST}
cmake -S . -B build/ci-clang -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 \
  -DMPQ_BUILD_BENCHMARKS=OFF
cmake --build build/ci-clang -j"$(mpq_jobs)"
ci_ctest build/ci-clang -E "^consumer/|cortex_m4"
