# ctest driver: compile each header in HEADERS on its own for the Cortex-M4; fail on any diagnostic.
file(MAKE_DIRECTORY ${WORK_DIR})
set(failed "")
foreach(h IN LISTS HEADERS)
  string(REGEX REPLACE "[/.]" "_" stem "${h}")
  set(src ${WORK_DIR}/${stem}.cpp)
  file(WRITE ${src} "#include <${h}>\n")
  execute_process(
    COMMAND ${CXX} -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -std=c++20 -O2
            -Wall -Wextra -Werror -fno-exceptions -fno-rtti -fsyntax-only -I${INCLUDE_DIR} ${src}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(APPEND failed ${h})
    message("${h}: FAILED\n${out}${err}")
  endif()
endforeach()
list(LENGTH HEADERS n)
if(failed)
  message(FATAL_ERROR "these headers do not compile for the Cortex-M4: ${failed}")
endif()
message("all ${n} layered headers compile for the Cortex-M4")
