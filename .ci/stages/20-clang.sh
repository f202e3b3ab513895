# The whole suite with clang++-14, warnings as errors.
mpq_install_packages ${MPQ_PKGS_TEST}
cmake -S . -B build/ci-clang -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14
cmake --build build/ci-clang -j"$(mpq_jobs)"
ci_ctest build/ci-clang -E "^consumer/"
