# ASan + UBSan build of the test suite (Debug, so MPQ_ASSERT is live). The consumer tests rebuild
# the package and add nothing under sanitizers, so they are left to stage 00.
# Time (90-minute CI on 2 cores): the examples, the Cortex-M4 runs (arm-none-eabi and qemu, no
# sanitizer involved) and the 300-image deployment sweep (4.5 min under ASan) run in stage 00 only;
# the generated per-header compile checks are not even built (MPQ_HEADER_CHECKS=OFF: they run no code
# a sanitizer could look at).
mpq_install_packages ${MPQ_PKGS_TEST}
cmake -S . -B build/ci-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ -DMPQ_SANITIZE=ON \
  -DMPQ_BUILD_BENCHMARKS=OFF -DMPQ_BUILD_EXAMPLES=OFF -DMPQ_HEADER_CHECKS=OFF
cmake --build build/ci-asan -j"$(mpq_jobs)"
# MPQ_KERNEL_TEST_EDGES=0: the kernel pair tests skip their long extreme-code shapes (sums, not
# memory; every other stage runs them), 2/3 of their time under ASan.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 MPQ_KERNEL_TEST_EDGES=0 \
  ci_ctest build/ci-asan -E "^consumer/|cortex_m4|^test_e2e_deploy/deployed"
