# Sourced by tools/*.sh and .ci/run: installs what mpq needs from Debian 12's archive (as root).
# One list per purpose, so each command installs only what it uses.

MPQ_PKGS_BUILD="g++ cmake make ninja-build clang-14 libclang-rt-14-dev xtensor-dev libxsimd-dev xtl-dev doctest-dev libbenchmark-dev zlib1g-dev libopenblas-dev libglpk-dev"
# Cortex-M4 cross build and its emulator (about 2.5 GB installed, most of it newlib's libstdc++).
MPQ_PKGS_EMBEDDED="gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm"
# aarch64 cross build of the kernel tests and the emulator that runs them.
MPQ_PKGS_CROSS_AARCH64="g++-aarch64-linux-gnu qemu-user"
# LibTorch for the adapter's tests and examples (-DMPQ_WITH_TORCH=ON, g++ only; about 500 MB) and the
# Fashion-MNIST data the training examples and torch_training tests train on; gnuplot draws the
# end-to-end results plot (tools/fmnist_report.sh).
MPQ_PKGS_TRAINING="libtorch-dev dataset-fashion-mnist gnuplot-nox"
MPQ_PKGS_TEST="${MPQ_PKGS_BUILD} ${MPQ_PKGS_EMBEDDED} ${MPQ_PKGS_TRAINING}"
MPQ_PKGS_MAIN="${MPQ_PKGS_BUILD} dataset-fashion-mnist"

# mpq_install_packages <pkg...>: apt-get install whatever is missing (no-op when all are present).
mpq_install_packages() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  echo "mpq: installing from Debian's archive: ${missing[*]}"
  local SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "mpq: these packages are missing and I am not root (no sudo): ${missing[*]}" >&2
      return 1
    fi
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Number of parallel build jobs: all cores.
mpq_jobs() { nproc 2>/dev/null || echo 2; }
