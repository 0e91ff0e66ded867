// Optimizer steps, in place. Per-element math is in double, like the JS
// reference, and rounded once on store; the loops vectorise and split across
// the pool for large tensors.
#include <cmath>

#include "kernels.h"

namespace eb {
namespace {
constexpr int64_t kGrain = 1 << 15;
}

void sgd_step(int64_t len, float* param, const float* grad, float* momentum_buf, double lr,
              double momentum, double dampening, double weight_decay, bool nesterov,
              bool first_step) {
  parallel_for(len, kGrain, [&](int64_t i0, int64_t i1) {
    if (momentum == 0.0) {
      for (int64_t i = i0; i < i1; i++) {
        const double d = grad[i] + weight_decay * param[i];
        param[i] = static_cast<float>(param[i] - lr * d);
      }
      return;
    }
    const double keep = 1.0 - dampening;
    for (int64_t i = i0; i < i1; i++) {
      double d = grad[i] + weight_decay * param[i];
      const double buf = first_step ? d : momentum * momentum_buf[i] + keep * d;
      momentum_buf[i] = static_cast<float>(buf);
      d = nesterov ? d + momentum * buf : buf;
      param[i] = static_cast<float>(param[i] - lr * d);
    }
  });
}

void adam_step(int64_t len, float* param, const float* grad, float* m, float* v, double lr,
               double beta1, double beta2, double eps, double weight_decay, bool decoupled,
               int step) {
  const double bc1 = 1.0 - std::pow(beta1, step);
  const double bc2 = 1.0 - std::pow(beta2, step);
  const double decay = decoupled ? 1.0 - lr * weight_decay : 1.0;
  const double l2 = decoupled ? 0.0 : weight_decay;
  parallel_for(len, kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      const double p = param[i] * decay;
      const double g = grad[i] + l2 * param[i];
      const double mi = beta1 * m[i] + (1.0 - beta1) * g;
      const double vi = beta2 * v[i] + (1.0 - beta2) * g * g;
      m[i] = static_cast<float>(mi);
      v[i] = static_cast<float>(vi);
      param[i] = static_cast<float>(p - lr * (mi / bc1) / (std::sqrt(vi / bc2) + eps));
    }
  });
}

}  // namespace eb
