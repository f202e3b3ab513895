# The kernel tests with no SIMD flags at all (x86-64 baseline: xsimd's sse2), so the portable kernels
# are what runs. Builds only the kernel targets to save CI time.
mpq_install_packages ${MPQ_PKGS_BUILD}
cmake -S . -B build/ci-kernels-nosimd -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
  -DMPQ_NATIVE=OFF -DMPQ_BUILD_BENCHMARKS=OFF -DMPQ_BUILD_EXAMPLES=OFF
cmake --build build/ci-kernels-nosimd -j"$(mpq_jobs)" --target test_kernel_reference test_kernel_pairs test_kernel_api test_kernel_isa_models
ci_ctest build/ci-kernels-nosimd -R "^test_kernel"
