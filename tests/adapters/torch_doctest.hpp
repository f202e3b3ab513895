// LibTorch first, then doctest: LibTorch's glog defines CHECK, CHECK_EQ, ... (aborting checks), which
// must not stand in for doctest's assertions. Every torch test includes this before anything else.
#pragma once

#include <torch/torch.h>

#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LE
#undef CHECK_LT
#undef CHECK_GE
#undef CHECK_GT

#include <doctest/doctest.h>
