# Compile flags shared by mpq's own tests, examples and benchmarks (never put on mpq::mpq itself).
include_guard(GLOBAL)

# ISA flags for our programs: explicit MPQ_ARCH_FLAGS win, else -march=native when MPQ_NATIVE.
# AVX-512 stays off under -march=native unless MPQ_AVX512 is ON: most development and CI machines
# this project has run on are AVX2-only, where the AVX-512 paths are verified by compile checks and
# by exact software models of their instructions (docs/kernels.md); on AVX-512 hardware CI stage 30
# runs them natively. Which kernels a run exercises should be a deliberate choice (-DMPQ_AVX512=ON),
# not an accident of which machine CI lands on.
if(MPQ_ARCH_FLAGS)
  separate_arguments(MPQ_ARCH_FLAG_LIST UNIX_COMMAND "${MPQ_ARCH_FLAGS}")
elseif(MPQ_NATIVE AND NOT CMAKE_CROSSCOMPILING)
  set(MPQ_ARCH_FLAG_LIST -march=native)
  if(NOT MPQ_AVX512 AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|i.86")
    list(APPEND MPQ_ARCH_FLAG_LIST -mno-avx512f)
  endif()
else()
  set(MPQ_ARCH_FLAG_LIST "")
endif()

if(MPQ_SANITIZE)
  set(MPQ_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
endif()

# mpq_configure_program(<target> [NO_ARCH])
#   Warnings as errors, strict C++20 (no GNU extensions), the chosen ISA flags, optional sanitizers.
#   NO_ARCH leaves the ISA flags off (for sources that pick their own, e.g. per-ISA dispatch TUs).
function(mpq_configure_program target)
  cmake_parse_arguments(ARG "NO_ARCH" "" "" ${ARGN})
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  target_compile_features(${target} PRIVATE cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  if(NOT ARG_NO_ARCH)
    target_compile_options(${target} PRIVATE ${MPQ_ARCH_FLAG_LIST})
  endif()
  # Runtime dispatch (mpq/kernel/runtime_dispatch.hpp) considers the avx512vnni kernels only when
  # the build opted in to AVX-512.
  # Compile-time networks (mpq/embedded) pack their weights in constant evaluation: clang's default
  # budget of 2^20 evaluation steps is too small for a 100k-weight layer (GCC's is 2^33 operations).
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE -fconstexpr-steps=1000000000)
  endif()
  if(MPQ_AVX512)
    target_compile_definitions(${target} PRIVATE MPQ_DISPATCH_AVX512=1)
  endif()
  if(MPQ_SANITIZE)
    target_compile_options(${target} PRIVATE ${MPQ_SANITIZE_FLAGS})
    target_link_options(${target} PRIVATE ${MPQ_SANITIZE_FLAGS})
  endif()
endfunction()
