// expect: the last layer gives float outputs and cannot pool
#include "mpq/embedded/network.hpp"

namespace emb = mpq::embedded;
using net = emb::network<emb::layer<emb::conv2d<3, 1, 1>, 4, 8, emb::chw{1, 8, 8}, 2, emb::maxpool<2>>>;
static_assert(net::layer_count == 1);
