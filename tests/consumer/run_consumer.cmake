# Configure, build and run a consumer project. MODE=find_package installs mpq to a scratch prefix first.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message("${out}")
endfunction()

set(extra "")
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} --install ${MPQ_BINARY_DIR} --prefix ${WORK_DIR}/prefix)
  if(NOT EXISTS ${WORK_DIR}/prefix/include/mpq/mpq.hpp)
    message(FATAL_ERROR "install did not put mpq/mpq.hpp under include/")
  endif()
  set(extra -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  set(extra -DMPQ_SOURCE_DIR=${MPQ_SOURCE_DIR})
endif()

run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/build -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_BUILD_TYPE=Release ${extra})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
