// expect: layer_scale_not_finite_in_constant_expression
// A non-finite scale in a layer's constants is a compile error naming the rule.
#include "mpq/embedded/layer.hpp"

using L = mpq::embedded::layer<mpq::embedded::fc, 4, 8, 3, 2>;
constexpr L::params p = L::make({.weights = {}, .weight_steps = {1.0f, 1.0f},
                                 .scale = {1.0f, __builtin_inff()}, .bias = {}, .has_bias = false});
