// expect: HasParameterCount
// uniform_quantizer is the deployment-time quantizer: it has no learnable parameters and no
// backward, so a training function constrained on DifferentiableQuantizer must reject it, and the
// diagnostic must name the clause that failed (HasParameterCount: no Q::parameter_count).
#include <mpq/quant/uniform.hpp>

template <mpq::DifferentiableQuantizer Q>
float train_step(const Q& q, float x) {
  return q.gradient(x).dx;
}

int main() {
  const mpq::uniform_quantizer<4> q(0.25f);
  return static_cast<int>(train_step(q, 0.3f));
}
