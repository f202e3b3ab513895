#!/usr/bin/env bash
# README command 1, the main job: the end-to-end Fashion-MNIST result of docs/e2e.md.
#
#   ./tools/main.sh          deploy the trained, bit-packed models that ship in
#                            examples/fashion_mnist/shipped/ on the 10000 test images with mpq's packed
#                            SIMD kernels (no LibTorch), check each against the accuracy and the
#                            predictions its fine-tuning recorded, and print the results table of
#                            the full run (docs/results.md) (a minute or two on 2 cores, packages
#                            and build included)
#   ./tools/main.sh --full   the whole pipeline: FP32 training, every search strategy at every budget,
#                            QAT with 3 seeds, deployment, docs/results.md and docs/results_pareto.svg
#                            (hours; resumable: work files in build/fmnist-work)
#
# As root on a fresh Debian 12 machine it installs what it needs from Debian's archive.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh

mode=deploy
case "${1:-}" in
  "") ;;
  --full) mode=full ;;
  *) echo "usage: ./tools/main.sh [--full]" >&2; exit 2 ;;
esac

BUILD_DIR="${MPQ_MAIN_BUILD_DIR:-build/main}"
if [ "$mode" = deploy ]; then
  mpq_install_packages ${MPQ_PKGS_MAIN}
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
    -DMPQ_BUILD_TESTS=OFF -DMPQ_BUILD_BENCHMARKS=OFF > /dev/null
  echo "mpq: building mpq_fmnist_deploy"
  cmake --build "$BUILD_DIR" -j"$(mpq_jobs)" --target mpq_fmnist_deploy
  tools/fmnist_shipped.sh "$BUILD_DIR/examples/fashion_mnist/mpq_fmnist_deploy" examples/fashion_mnist/shipped
  echo
  echo "The full run behind these models (docs/results.md: every strategy and budget, 3 seeds; the plot is"
  echo "docs/results_pareto.svg):"
  echo
  sed -n '/^| budget |/,/^$/p' docs/results.md
  exit 0
fi

mpq_install_packages ${MPQ_PKGS_MAIN} ${MPQ_PKGS_TRAINING}
cmake -S . -B "$BUILD_DIR-full" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
  -DMPQ_BUILD_TESTS=OFF -DMPQ_BUILD_BENCHMARKS=OFF -DMPQ_WITH_TORCH=ON > /dev/null
echo "mpq: building mpq_fmnist_pipeline and mpq_fmnist_deploy (LibTorch; a few minutes)"
cmake --build "$BUILD_DIR-full" -j"$(mpq_jobs)" --target mpq_fmnist_pipeline mpq_fmnist_deploy
exec tools/fmnist_full.sh "$BUILD_DIR-full/examples/fashion_mnist/mpq_fmnist_pipeline" \
  "$BUILD_DIR-full/examples/fashion_mnist/mpq_fmnist_deploy" "${MPQ_FMNIST_WORK:-build/fmnist-work}" \
  docs/results.md docs/results_pareto.svg
