#!/usr/bin/env bash
# README command 1: install what the main job needs, build it, run it.
# For now the main job is the quickstart example; the end-to-end Fashion-MNIST pipeline replaces it.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh

mpq_install_packages ${MPQ_PKGS_MAIN}

BUILD_DIR="${MPQ_MAIN_BUILD_DIR:-build/main}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
  -DMPQ_BUILD_TESTS=OFF -DMPQ_BUILD_BENCHMARKS=OFF
cmake --build "$BUILD_DIR" -j"$(mpq_jobs)" --target mpq_quickstart
"$BUILD_DIR/examples/quickstart/mpq_quickstart"
