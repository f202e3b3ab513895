# Run by ctest: compile SOURCE and pass only if compilation fails with output matching REGEX.
execute_process(
  COMMAND ${CXX} -std=c++20 -fsyntax-only -I${INCLUDE_DIR} ${SOURCE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must be rejected (expected: ${REGEX})")
endif()
if(NOT "${out}${err}" MATCHES "${REGEX}")
  message(FATAL_ERROR "${SOURCE} was rejected, but not with the expected diagnostic /${REGEX}/:\n${out}${err}")
endif()
message(STATUS "rejected as expected: /${REGEX}/")
