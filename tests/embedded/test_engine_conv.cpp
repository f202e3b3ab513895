// mpq::embedded::engine on conv nets (im2col, padding, strides, pooling on codes, flatten into fc):
// every backend against the golden model.
#include <doctest/doctest.h>

#include "embedded_test_util.hpp"

TEST_CASE_TEMPLATE("engine: conv nets (padding, stride, pooling, flatten) equal the oracle on every backend", P,
                   std::integral_constant<int, 448>, std::integral_constant<int, 238>, std::integral_constant<int, 815>,
                   std::integral_constant<int, 573>, std::integral_constant<int, 162>) {
  constexpr int W1 = P::value / 100, W2 = P::value / 10 % 10, A = P::value % 10;
  embedded_test::check_all_backends<embedded_test::cnn<W1, W2, A>>(3000 + P::value, false);
  embedded_test::check_all_backends<embedded_test::cnn<W1, W2, A>>(4000 + P::value, true);
}

