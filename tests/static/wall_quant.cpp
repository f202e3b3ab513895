// The static_assert wall of the quantizer concepts (quant/quantizer_concepts.hpp, quant/policies.hpp,
// quant/span.hpp, quant/per_channel.hpp): every model passes, every named non-model is rejected.
#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <span>
#include <vector>

#include "mpq/quant/edmips.hpp"
#include "mpq/quant/lsq.hpp"
#include "mpq/quant/per_channel.hpp"
#include "mpq/quant/policies.hpp"
#include "mpq/quant/pow2.hpp"
#include "mpq/quant/quantizer_concepts.hpp"
#include "mpq/quant/span.hpp"
#include "mpq/quant/step_range.hpp"
#include "mpq/quant/uniform.hpp"

namespace mpq_static {
int& wall_count();
}

namespace {
using namespace mpq;

// ---- models ---------------------------------------------------------------------------------------
using uniform4 = uniform_quantizer<4, signed_codes>;
using uniform8u = uniform_quantizer<8, unsigned_codes>;
using uniform16_away = uniform_quantizer<16, signed_codes, round_half_away>;
using u3_even_stops = step_range_quantizer<uhlich_u3, round_half_even, bound_gradient_stops>;
using p3_stops = pow2_quantizer<pow2_p3, round_half_away, bound_gradient_stops>;
using lsq_away_stops = lsq_quantizer<round_half_away, bound_gradient_stops>;

template <class... Q>
constexpr bool all_quantizers = (Quantizer<Q> && ...);
static_assert(all_quantizers<uniform4, uniform8u, uniform16_away, u1_quantizer, u2_quantizer, u3_quantizer,
                             u3_even_stops, p1_quantizer, p2_quantizer, p3_quantizer, p3_stops, lsq_quantizer<>,
                             lsq_away_stops, gaussian_quantizer<>, hwgq_quantizer<>>);

template <class... Q>
constexpr bool all_uniform = ((UniformQuantizer<Q> && AffineFormQuantizer<Q>) && ...);
static_assert(all_uniform<uniform4, uniform8u, uniform16_away, u1_quantizer, u2_quantizer, u3_quantizer, u3_even_stops,
                          lsq_quantizer<>, lsq_away_stops, gaussian_quantizer<>, hwgq_quantizer<>>);

template <class... Q>
constexpr bool all_differentiable = (DifferentiableQuantizer<Q> && ...);
static_assert(all_differentiable<u1_quantizer, u2_quantizer, u3_quantizer, u3_even_stops, p1_quantizer, p2_quantizer,
                                 p3_quantizer, p3_stops, lsq_quantizer<>, lsq_away_stops, gaussian_quantizer<>,
                                 hwgq_quantizer<>>);

template <class... Q>
constexpr bool all_learned_bits = (LearnedBitsQuantizer<Q> && ...);
static_assert(all_learned_bits<u1_quantizer, u2_quantizer, u3_quantizer, p1_quantizer, p2_quantizer, p3_quantizer>);

static_assert(u3_quantizer::parameter_count == 2 && lsq_quantizer<>::parameter_count == 1 &&
              gaussian_quantizer<>::parameter_count == 0 && hwgq_quantizer<>::parameter_count == 0);

static_assert(RoundingPolicy<round_half_even> && RoundingPolicy<round_half_away>);
static_assert(BoundGradientPolicy<bound_gradient_flows> && BoundGradientPolicy<bound_gradient_stops>);
static_assert(StepRangeParametrization<uhlich_u1> && StepRangeParametrization<uhlich_u3>);
static_assert(Pow2Parametrization<pow2_p1> && Pow2Parametrization<pow2_p3>);
static_assert(CodeType<std::int8_t> && CodeType<std::uint8_t> && CodeType<std::int16_t> && CodeType<std::int32_t>);
static_assert(QuantizerRange<std::vector<u3_quantizer>> && QuantizerRange<std::array<lsq_quantizer<>, 3>> &&
              QuantizerRange<std::span<const hwgq_quantizer<>>>);

// ---- non-models -----------------------------------------------------------------------------------
// The deployment-time quantizer: float <-> code only, no parameters and no backward.
static_assert(!DifferentiableQuantizer<uniform4> && !HasParameterCount<uniform4> && !LearnedBitsQuantizer<uniform4>);
// Power-of-two levels are not evenly spaced: no code_offset, no affine form.
static_assert(!UniformQuantizer<p3_quantizer> && !AffineFormQuantizer<p1_quantizer>);
// Fixed bit widths: nothing for a memory penalty to differentiate.
static_assert(!LearnedBitsQuantizer<lsq_quantizer<>> && !LearnedBitsQuantizer<gaussian_quantizer<>> &&
              !LearnedBitsQuantizer<hwgq_quantizer<>>);

struct float_codes_quantizer {  // quantize() returns float: not an integer code
  int bits() const;
  bool is_signed() const;
  std::int32_t code_min() const;
  std::int32_t code_max() const;
  float quantize(float) const;
  float dequantize(std::int32_t) const;
  float fake_quantize(float) const;
  float step() const;
  float min_value() const;
  float max_value() const;
};
static_assert(!Quantizer<float_codes_quantizer>);

struct no_dequantize_quantizer {  // cannot map a code back
  int bits() const;
  bool is_signed() const;
  std::int32_t code_min() const;
  std::int32_t code_max() const;
  std::int32_t quantize(float) const;
  float fake_quantize(float) const;
  float step() const;
  float min_value() const;
  float max_value() const;
};
static_assert(!Quantizer<no_dequantize_quantizer>);

// A Quantizer with a backward of the wrong arity: 2 parameters, gradients for 1.
struct wrong_gradient_arity : uniform4 {
  static constexpr std::size_t parameter_count = 2;
  static constexpr std::array<const char*, 2> parameter_names{"a", "b"};
  std::array<float, 2> parameters() const;
  status try_set_parameters(const std::array<float, 2>&);
  quant_gradient<1> gradient(float) const;
  std::array<float, 2> gradient_scale(std::size_t) const;
  status try_backward(std::span<const float>, std::span<const float>, std::span<float>, std::span<float>) const;
  void backward(std::span<const float>, std::span<const float>, std::span<float>, std::span<float>) const;
};
static_assert(Quantizer<wrong_gradient_arity> && HasLearnableParameters<wrong_gradient_arity> &&
              SpanDifferentiable<wrong_gradient_arity>);
static_assert(!ElementwiseDifferentiable<wrong_gradient_arity> && !DifferentiableQuantizer<wrong_gradient_arity>);

// Per-element gradients but no span backward.
struct no_span_backward : uniform4 {
  static constexpr std::size_t parameter_count = 1;
  static constexpr std::array<const char*, 1> parameter_names{"s"};
  std::array<float, 1> parameters() const;
  status try_set_parameters(const std::array<float, 1>&);
  quant_gradient<1> gradient(float) const;
  std::array<float, 1> gradient_scale(std::size_t) const;
};
static_assert(ElementwiseDifferentiable<no_span_backward> && !SpanDifferentiable<no_span_backward> &&
              !DifferentiableQuantizer<no_span_backward>);

// parameter_count that is not a constant expression
struct runtime_parameter_count : uniform4 {
  std::size_t parameter_count = 1;
};
static_assert(!HasParameterCount<runtime_parameter_count>);

static_assert(!Quantizer<int> && !Quantizer<float>);
struct named_rounding {  // a tag with a name is not a rounding policy round_integral implements
  static constexpr const char* name = "half_up";
};
static_assert(named_rounding::name[0] == 'h' && !RoundingPolicy<named_rounding> && !RoundingPolicy<int>);
static_assert(!BoundGradientPolicy<round_half_even>);
static_assert(!StepRangeParametrization<pow2_p3> && !Pow2Parametrization<uhlich_u3>);
static_assert(!CodeType<std::int64_t> && !CodeType<float> && !CodeType<char>);
static_assert(!QuantizerRange<std::list<u3_quantizer>> && !QuantizerRange<std::vector<int>>);

const bool registered = (++mpq_static::wall_count(), true);
}  // namespace
