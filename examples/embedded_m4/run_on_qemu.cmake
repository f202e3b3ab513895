# ctest driver: build the firmware for the Cortex-M4, run it under qemu-system-arm with semihosting,
# run the host build of the same program, and require identical output.
#   -DAPP_SOURCE=... -DHOST_EXE=... -DMPQ_INCLUDE_DIR=... -DWORK_DIR=... [-DAPP_INCLUDE_DIRS=...]
#   [-DQEMU_ICOUNT=ON]      run with -icount shift=0 (1 ns of virtual time per instruction)
#   [-DFLASH_BUDGET=bytes] [-DRAM_BUDGET=bytes]   fail when the firmware needs more
# Lines the firmware prints that start with "m4: " (instruction counts, stack use) are reported and
# left out of the comparison.
foreach(tool arm-none-eabi-g++ qemu-system-arm arm-none-eabi-size arm-none-eabi-nm)
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

set(icount "")
if(QEMU_ICOUNT)
  set(icount -icount shift=0)
endif()
execute_process(COMMAND timeout 600 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none
                  -semihosting-config enable=on,target=native ${icount} -kernel ${WORK_DIR}/mpq_m4.elf
                RESULT_VARIABLE m4_rc OUTPUT_VARIABLE m4_out ERROR_VARIABLE m4_err)
execute_process(COMMAND ${HOST_EXE} RESULT_VARIABLE host_rc OUTPUT_VARIABLE host_out ERROR_VARIABLE host_err)
message("--- Cortex-M4 (qemu) output, exit ${m4_rc} ---\n${m4_out}${m4_err}")
message("--- host output, exit ${host_rc} ---\n${host_out}${host_err}")
if(NOT m4_rc EQUAL 0 OR NOT host_rc EQUAL 0)
  message(FATAL_ERROR "a run failed (M4 exit ${m4_rc}, host exit ${host_rc})")
endif()

# Flash: code, constants and the .data image; RAM: .data, .bss and the stack's high-water mark (when
# the firmware reports one in an "m4: stack high-water mark N bytes" line).
set(flash 0)
set(ram 0)
string(REPLACE "\n" ";" size_lines "${size_out}")
foreach(l IN LISTS size_lines)
  if(l MATCHES "^(\\.[A-Za-z_.]+) +([0-9]+) +[0-9]+")
    set(sec ${CMAKE_MATCH_1})
    set(bytes ${CMAKE_MATCH_2})
    if(sec MATCHES "^\\.(isr_vector|text|rodata|ARM\\.extab|ARM\\.exidx|preinit_array|init_array|fini_array)$")
      math(EXPR flash "${flash} + ${bytes}")
    elseif(sec STREQUAL ".data")
      math(EXPR flash "${flash} + ${bytes}")
      math(EXPR ram "${ram} + ${bytes}")
    elseif(sec STREQUAL ".bss")
      math(EXPR ram "${ram} + ${bytes}")
    endif()
  endif()
endforeach()
set(stack 0)
if(m4_out MATCHES "m4: stack high-water mark ([0-9]+) bytes")
  set(stack ${CMAKE_MATCH_1})
endif()
math(EXPR ram_total "${ram} + ${stack}")
execute_process(COMMAND arm-none-eabi-nm -C -S --size-sort ${WORK_DIR}/mpq_m4.elf OUTPUT_VARIABLE nm_out)
string(REGEX MATCHALL "[0-9a-f]+ [0-9a-f]+ [rRdDbB] [^\n]*(_params|engine<)[^\n]*" big "${nm_out}")
set(symbols "")
foreach(sym IN LISTS big)
  if(sym MATCHES "^[0-9a-f]+ ([0-9a-f]+) ([rRdDbB]) (.*)$")
    math(EXPR dec "0x${CMAKE_MATCH_1}" OUTPUT_FORMAT DECIMAL)
    string(SUBSTRING "${CMAKE_MATCH_3}" 0 110 name)
    string(APPEND symbols "  ${dec} bytes (${CMAKE_MATCH_2}) ${name}\n")
  endif()
endforeach()
message("model constants and engines in the image:\n${symbols}")
set(report "memory: flash ${flash} bytes (text, rodata, .data image)")
if(FLASH_BUDGET)
  string(APPEND report " of a ${FLASH_BUDGET}-byte budget")
endif()
string(APPEND report "; RAM ${ram_total} bytes (.data + .bss ${ram}, stack high-water ${stack})")
if(RAM_BUDGET)
  string(APPEND report " of a ${RAM_BUDGET}-byte budget")
endif()
message("${report}")
if(FLASH_BUDGET AND flash GREATER FLASH_BUDGET)
  message(FATAL_ERROR "the firmware needs ${flash} bytes of flash; the budget is ${FLASH_BUDGET}")
endif()
if(RAM_BUDGET AND ram_total GREATER RAM_BUDGET)
  message(FATAL_ERROR "the firmware needs ${ram_total} bytes of RAM; the budget is ${RAM_BUDGET}")
endif()

# The comparison leaves out the firmware's own "m4: " lines.
string(REGEX REPLACE "(^|\n)m4: [^\n]*" "" m4_compared "${m4_out}")
if(NOT m4_compared STREQUAL host_out)
  file(WRITE ${WORK_DIR}/m4_output.txt "${m4_compared}")
  file(WRITE ${WORK_DIR}/host_output.txt "${host_out}")
  message(FATAL_ERROR "Cortex-M4 output differs from the host's (diff ${WORK_DIR}/m4_output.txt ${WORK_DIR}/host_output.txt)")
endif()
string(LENGTH "${m4_out}" n)
if(n LESS 10)
  message(FATAL_ERROR "suspiciously short output")
endif()
message("embedded: M4 output identical to the host's")
