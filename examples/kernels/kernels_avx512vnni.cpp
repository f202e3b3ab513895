// The avx512vnni kernels of the runtime-dispatch example: this file alone is compiled with avx512vnni's flags.
#include <mpq/kernel/runtime_dispatch.hpp>

MPQ_KERNEL_DISPATCH_INSTANTIATE(mpq::kernel::dispatch::avx512vnni_kernels)
