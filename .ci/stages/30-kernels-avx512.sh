# The kernel tests on real AVX-512 hardware, when the CI machine has it: built with -march=native
# and AVX-512 allowed (-DMPQ_AVX512=ON), so the avx512vnni kernels run natively next to the avx2 and
# portable ones, bit-exactly against the reference. Every other stage keeps AVX-512 off (stage 00:
# -march=native -mno-avx512f; stage 20: -mavx2 -mfma), and on any AVX2 CPU the avx512vnni code paths
# are still tested through the exact AVX2 models of their instructions (docs/kernels.md). On a
# machine without AVX-512 VNNI this stage says so and builds nothing.
mpq_install_packages ${MPQ_PKGS_BUILD}
need="avx512f avx512bw avx512vl avx512_vnni"
missing=""
for flag in $need; do
  grep -qw "$flag" /proc/cpuinfo || missing="$missing $flag"
done
if [ -n "$missing" ]; then
  echo "ci: this CPU lacks${missing}: the avx512vnni kernels are tested only through their AVX2 models here"
  echo "ci-counts 0 0"
  exit 0
fi
cmake -S . -B build/ci-kernels-avx512 -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
  -DMPQ_AVX512=ON -DMPQ_BUILD_BENCHMARKS=OFF -DMPQ_BUILD_EXAMPLES=OFF -DMPQ_HEADER_CHECKS=OFF
cmake --build build/ci-kernels-avx512 -j"$(mpq_jobs)" --target test_kernel_reference test_kernel_pairs test_kernel_api test_kernel_isa_models
ci_ctest build/ci-kernels-avx512 -R "^test_kernel"
