// expect: a conv2d layer's input shape \(C, H, W\) must equal the previous layer's pooled output shape
// The pooled 8 x 14 x 14 map has the size of 8 x 7 x 28 (1568 codes) but not its shape.
#include "mpq/embedded/network.hpp"

namespace emb = mpq::embedded;
using net = emb::network<emb::layer<emb::conv2d<3, 1, 1>, 4, 8, emb::chw{1, 28, 28}, 8, emb::maxpool<2>>,
                         emb::layer<emb::conv2d<3, 1, 1>, 4, 8, emb::chw{8, 7, 28}, 4>>;
static_assert(net::layer_count == 2);
