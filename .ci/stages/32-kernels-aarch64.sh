# The kernel tests cross-built for aarch64 (NEON + dot product) and run under qemu-user.
mpq_install_packages ${MPQ_PKGS_BUILD} ${MPQ_PKGS_CROSS_AARCH64}
cmake -S . -B build/ci-kernels-aarch64 -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DMPQ_ARCH_FLAGS="-march=armv8.2-a+dotprod" \
  -DMPQ_BUILD_BENCHMARKS=OFF -DMPQ_BUILD_EXAMPLES=OFF -DMPQ_INSTALL=OFF
cmake --build build/ci-kernels-aarch64 -j"$(mpq_jobs)" --target test_kernel_reference test_kernel_pairs test_kernel_api test_kernel_isa_models
ci_ctest build/ci-kernels-aarch64 -R "^test_kernel"
