// expect: layer I's output size differs from layer I\+1's input size
// A 5-output layer feeding a layer that takes 6 inputs: the network type itself is rejected.
#include "mpq/embedded/network.hpp"

namespace emb = mpq::embedded;
using net = emb::network<emb::layer<emb::fc, 4, 8, 10, 5>, emb::layer<emb::fc, 4, 8, 6, 3>>;
static_assert(net::layer_count == 2);
