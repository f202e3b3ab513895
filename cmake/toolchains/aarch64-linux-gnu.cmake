# Cross build for 64-bit Arm Linux with Debian's g++-aarch64-linux-gnu; tests run under qemu-user.
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# ctest and doctest_discover_tests run the test binaries through the emulator.
set(CMAKE_CROSSCOMPILING_EMULATOR "qemu-aarch64;-L;/usr/aarch64-linux-gnu")
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# The header-only dependencies' CMake configs live in the host's directories, which find_package does
# not search in cross mode (toolchain.md, section 3); the cross g++ finds their headers in /usr/include.
set(xtl_DIR /usr/share/cmake/xtl CACHE PATH "xtl's CMake config (host, header-only)")
set(xsimd_DIR /usr/lib/x86_64-linux-gnu/cmake/xsimd CACHE PATH "xsimd's CMake config (host, header-only)")
set(xtensor_DIR /usr/lib/x86_64-linux-gnu/cmake/xtensor CACHE PATH "xtensor's CMake config (host, header-only)")
set(doctest_DIR /usr/lib/cmake/doctest CACHE PATH "doctest's CMake config (host, header-only)")
