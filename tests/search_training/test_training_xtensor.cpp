// xtensor entry points of the training strategies agree with their span functions.
#include <doctest/doctest.h>

#include <vector>

#include <xtensor/xarray.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xbuilder.hpp>

#include "mpq/search/training/edmips.hpp"
#include "mpq/search/training/qbitopt.hpp"
#include "mpq/search/training/training_xtensor.hpp"
#include "training_test_util.hpp"

TEST_CASE("training_forward / training_backward on xtensor equal the span functions") {
  const int wb[] = {1, 2, 3, 4}, ab[] = {2, 3, 4};
  const auto p = mpq_test::three_layer_problem(wb, ab);
  mpq::edmips_training a(p), b(p);
  const auto values = mpq_test::normal_values(10 * 12, 3, 0.5, 0.2);
  xt::xarray<float> w = xt::adapt(values, std::vector<std::size_t>{10, 12});
  const xt::xarray<float> y = mpq::training_forward(a, 1, mpq::operand::weights, w);
  std::vector<float> ref(values.size());
  b.forward(1, mpq::operand::weights, values, ref);
  REQUIRE(y.shape() == w.shape());
  for (std::size_t i = 0; i < ref.size(); ++i) CHECK(y.data()[i] == ref[i]);

  const auto gv = mpq_test::normal_values(values.size(), 4);
  const xt::xarray<float> g = xt::adapt(gv, std::vector<std::size_t>{10, 12});
  const xt::xarray<float> gx = mpq::training_backward(a, 1, mpq::operand::activations, w, g);
  std::vector<float> gref(values.size());
  b.backward(1, mpq::operand::activations, values, gv, gref);
  for (std::size_t i = 0; i < gref.size(); ++i) CHECK(gx.data()[i] == gref[i]);
  for (std::size_t i = 0; i < a.parameter_count(); ++i) CHECK(a.gradients()[i] == b.gradients()[i]);

  const xt::xarray<float> wrong = xt::zeros<float>({12, 10});
  CHECK_THROWS_AS((mpq::training_backward(a, 1, mpq::operand::weights, w, wrong)), mpq::error);
  CHECK_THROWS_AS((mpq::training_forward(a, 9, mpq::operand::weights, w)), mpq::error);
}
