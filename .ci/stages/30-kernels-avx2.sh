# The kernel tests built for AVX2 + FMA only (no AVX-512, whatever the machine has): the avx2 and
# portable kernels against the reference. Builds only the kernel targets to save CI time.
mpq_install_packages ${MPQ_PKGS_BUILD}
cmake -S . -B build/ci-kernels-avx2 -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
  -DMPQ_ARCH_FLAGS="-mavx2 -mfma" -DMPQ_BUILD_BENCHMARKS=OFF -DMPQ_BUILD_EXAMPLES=OFF
cmake --build build/ci-kernels-avx2 -j"$(mpq_jobs)" --target test_kernel_reference test_kernel_pairs test_kernel_api test_kernel_isa_models
ci_ctest build/ci-kernels-avx2 -R "^test_kernel"
