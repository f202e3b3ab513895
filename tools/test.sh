#!/usr/bin/env bash
# README command 2: install what the tests need, build everything (Release, warnings as errors), run
# every test. Usage: ./tools/test.sh   (as root on a fresh Debian 12 machine; build tree: build/test)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh

mpq_install_packages ${MPQ_PKGS_TEST}

BUILD_DIR="${MPQ_TEST_BUILD_DIR:-build/test}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DMPQ_WITH_TORCH=ON \
  ${MPQ_TEST_CMAKE_ARGS:-}
cmake --build "$BUILD_DIR" -j"$(mpq_jobs)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(mpq_jobs)"
