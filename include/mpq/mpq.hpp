// The umbrella header: everything in mpq except the opt-in host-framework adapters (mpq/adapters/).
#pragma once

#include "mpq/config.hpp"

#include "mpq/core/bits.hpp"
#include "mpq/core/error.hpp"
#include "mpq/core/math.hpp"

#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/rounding.hpp"
#include "mpq/quant/uniform.hpp"

#include "mpq/packed/array.hpp"
#include "mpq/packed/bitplane.hpp"
#include "mpq/packed/interleaved.hpp"
#include "mpq/packed/layout_concepts.hpp"
#include "mpq/packed/pack.hpp"
#include "mpq/packed/row_codec.hpp"
#include "mpq/packed/strided_block.hpp"
#include "mpq/packed/tensor.hpp"
#include "mpq/packed/ternary.hpp"
#include "mpq/packed/view.hpp"

#include "mpq/kernel/checks.hpp"
#include "mpq/kernel/epilogue.hpp"
#include "mpq/kernel/overflow.hpp"
#include "mpq/kernel/reference.hpp"
