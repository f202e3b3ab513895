// mpq::embedded::engine on fully connected networks: every backend against the golden model.
#include <doctest/doctest.h>

#include "embedded_test_util.hpp"

TEST_CASE_TEMPLATE("engine: fully connected networks equal the oracle on every backend", P,
                   std::integral_constant<int, 18>, std::integral_constant<int, 23>, std::integral_constant<int, 38>,
                   std::integral_constant<int, 44>, std::integral_constant<int, 57>, std::integral_constant<int, 62>,
                   std::integral_constant<int, 78>, std::integral_constant<int, 88>, std::integral_constant<int, 81>,
                   std::integral_constant<int, 48>) {
  constexpr int W = P::value / 10, A = P::value % 10;
  embedded_test::check_all_backends<embedded_test::mlp<W, A>>(1000 + P::value, false);
  embedded_test::check_all_backends<embedded_test::mlp<W, A>>(2000 + P::value, true);
}

