# Compile flags shared by mpq's own tests, examples and benchmarks (never put on mpq::mpq itself).
include_guard(GLOBAL)

# ISA flags for our programs: explicit MPQ_ARCH_FLAGS win, else -march=native when MPQ_NATIVE.
if(MPQ_ARCH_FLAGS)
  separate_arguments(MPQ_ARCH_FLAG_LIST UNIX_COMMAND "${MPQ_ARCH_FLAGS}")
elseif(MPQ_NATIVE AND NOT CMAKE_CROSSCOMPILING)
  set(MPQ_ARCH_FLAG_LIST -march=native)
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
  if(MPQ_SANITIZE)
    target_compile_options(${target} PRIVATE ${MPQ_SANITIZE_FLAGS})
    target_link_options(${target} PRIVATE ${MPQ_SANITIZE_FLAGS})
  endif()
endfunction()
