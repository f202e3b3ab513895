# ctest driver: build the firmware for the Cortex-M4, run it under qemu-system-arm with semihosting,
# run the host build of the same program, and require identical output.
#   -DAPP_SOURCE=... -DHOST_EXE=... -DMPQ_INCLUDE_DIR=... -DWORK_DIR=... [-DAPP_INCLUDE_DIRS=...]
foreach(tool arm-none-eabi-g++ qemu-system-arm)
  find_program(found_${tool} ${tool})
  if(NOT found_${tool})
    message(FATAL_ERROR "${tool} not found: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi "
                        "libstdc++-arm-none-eabi-newlib qemu-system-arm")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})  # always a clean firmware build: toolchain flags are cached
get_filename_component(fw_dir ${CMAKE_CURRENT_LIST_DIR}/firmware ABSOLUTE)

execute_process(COMMAND ${CMAKE_COMMAND} -S ${fw_dir} -B ${WORK_DIR} -DCMAKE_BUILD_TYPE=Release
                  -DCMAKE_TOOLCHAIN_FILE=${fw_dir}/toolchain-cortex-m4.cmake
                  -DMPQ_INCLUDE_DIR=${MPQ_INCLUDE_DIR} -DMPQ_APP_SOURCE=${APP_SOURCE}
                  "-DMPQ_APP_INCLUDE_DIRS=${APP_INCLUDE_DIRS}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "firmware configure failed:\n${out}\n${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "firmware build failed:\n${out}\n${err}")
endif()
execute_process(COMMAND arm-none-eabi-size -A ${WORK_DIR}/mpq_m4.elf OUTPUT_VARIABLE size_out)
message("firmware sections:\n${size_out}")

execute_process(COMMAND timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none
                  -semihosting-config enable=on,target=native -kernel ${WORK_DIR}/mpq_m4.elf
                RESULT_VARIABLE m4_rc OUTPUT_VARIABLE m4_out ERROR_VARIABLE m4_err)
execute_process(COMMAND ${HOST_EXE} RESULT_VARIABLE host_rc OUTPUT_VARIABLE host_out ERROR_VARIABLE host_err)
message("--- Cortex-M4 (qemu) output, exit ${m4_rc} ---\n${m4_out}${m4_err}")
message("--- host output, exit ${host_rc} ---\n${host_out}${host_err}")
if(NOT m4_rc EQUAL 0 OR NOT host_rc EQUAL 0)
  message(FATAL_ERROR "a run failed (M4 exit ${m4_rc}, host exit ${host_rc})")
endif()
if(NOT m4_out STREQUAL host_out)
  message(FATAL_ERROR "Cortex-M4 output differs from the host's")
endif()
string(LENGTH "${m4_out}" n)
if(n LESS 10)
  message(FATAL_ERROR "suspiciously short output")
endif()
message("embedded: M4 output identical to the host's")
