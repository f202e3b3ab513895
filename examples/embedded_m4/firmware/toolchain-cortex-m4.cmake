# CMake toolchain for bare-metal Cortex-M4 (hard float) with Debian's gcc-arm-none-eabi + newlib.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)  # no startup code for try_compile links
set(MPQ_M4_CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
set(CMAKE_C_FLAGS_INIT "${MPQ_M4_CPU_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${MPQ_M4_CPU_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${MPQ_M4_CPU_FLAGS} --specs=nano.specs --specs=rdimon.specs -u _printf_float")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
