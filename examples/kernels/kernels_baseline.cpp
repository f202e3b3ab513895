// The baseline kernels of the runtime-dispatch example: this file alone is compiled with baseline's flags.
#include <mpq/kernel/runtime_dispatch.hpp>

MPQ_KERNEL_DISPATCH_INSTANTIATE(mpq::kernel::dispatch::baseline_kernels)
