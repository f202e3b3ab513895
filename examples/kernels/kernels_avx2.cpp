// The avx2 kernels of the runtime-dispatch example: this file alone is compiled with avx2's flags.
#include <mpq/kernel/runtime_dispatch.hpp>

MPQ_KERNEL_DISPATCH_INSTANTIATE(mpq::kernel::dispatch::avx2_kernels)
