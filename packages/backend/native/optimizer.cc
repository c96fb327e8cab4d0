// Fused optimizer updates (core's SparseIftSgdUpdate / SparseIftAdamWUpdate): each element's new weight
// and slots from its weight, gradient and slots in one pass, instead of one tf.js kernel (one pass over
// every parameter) per term. The float32 operations and their order are those of core's composed ops
// (packages/core/src/ops/optimizer-update.ts), and contraction into fused multiply-adds is off for this
// file, so the results are the composed ops' bits; IEEE division and sqrt vectorise exactly.
#pragma GCC optimize("fp-contract=off")
#include <cmath>
#include <cstdint>

#include "kernels.h"

namespace sift {
namespace SIFT_ISA_NS {

void sgd_update(int64_t n, const float* __restrict w, const float* __restrict g, const float* __restrict b, float lr,
                float momentum, float keep, bool nesterov, float weight_decay, bool first_step, float* __restrict w_out,
                float* __restrict b_out) {
  const bool decay = weight_decay != 0.0f;
  if (b == nullptr) {
    #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelWork)
    for (int64_t i = 0; i < n; i++) {
      const float gi = decay ? g[i] + w[i] * weight_decay : g[i];
      w_out[i] = w[i] - gi * lr;
    }
    return;
  }
  #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelWork)
  for (int64_t i = 0; i < n; i++) {
    const float gi = decay ? g[i] + w[i] * weight_decay : g[i];
    const float next = first_step ? gi : b[i] * momentum + gi * keep;
    const float step = nesterov ? gi + next * momentum : next;
    b_out[i] = next;
    w_out[i] = w[i] - step * lr;
  }
}

void adamw_update(int64_t n, const float* __restrict w, const float* __restrict g, const float* __restrict m,
                  const float* __restrict v, const float* __restrict v_max, float decay_factor, float beta1, float one_minus_beta1,
                  float beta2, float one_minus_beta2, float epsilon, float step_size, float bc2_sqrt, float* __restrict w_out, float* __restrict m_out,
                  float* __restrict v_out, float* __restrict v_max_out) {
  const bool decay = decay_factor != 1.0f;
  #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelWork)
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = m[i] * beta1 + gi * one_minus_beta1;
    const float vi = v[i] * beta2 + (gi * gi) * one_minus_beta2;
    float second = vi;
    if (v_max != nullptr) {
      // tf.maximum: NaN if either is NaN, else the larger (+0 over −0).
      const float a = v_max[i];
      second = (a != a || vi != vi) ? NAN : (a > vi || (a == vi && !std::signbit(a))) ? a : vi;
      v_max_out[i] = second;
    }
    const float denom = std::sqrt(second) / bc2_sqrt + epsilon;
    const float wi = decay ? w[i] * decay_factor : w[i];
    w_out[i] = wi - (mi / denom) * step_size;
    m_out[i] = mi;
    v_out[i] = vi;
  }
}

}  // namespace SIFT_ISA_NS
}  // namespace sift
