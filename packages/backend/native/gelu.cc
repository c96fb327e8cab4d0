// GELU forward and backward (tanh approximation and exact erf form), OpenMP + SIMD: vector_math.h lets
// GCC call glibc's vector tanhf/erff/expf (libmvec), ~30x the scalar loop. NaN and ±inf propagate: every
// output is a product with x.
#include <cmath>
#include <cstdint>

#include "kernels.h"
#include "vector_math.h"

namespace sift {
namespace SIFT_ISA_NS {

namespace {
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;
}  // namespace

void gelu_forward(int64_t n, bool tanh_approx, const float* __restrict x, float* __restrict y) {
  if (tanh_approx) {
    #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelWork)
    for (int64_t i = 0; i < n; i++) {
      const float v = x[i];
      y[i] = 0.5f * v * (1.0f + tanhf(kSqrt2OverPi * (v + kCubic * v * v * v)));
    }
  } else {
    #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelWork)
    for (int64_t i = 0; i < n; i++) {
      const float v = x[i];
      y[i] = 0.5f * v * (1.0f + erff(v * kInvSqrt2));
    }
  }
}

void gelu_backward(int64_t n, bool tanh_approx, const float* __restrict dy, const float* __restrict x, float* __restrict dx) {
  if (tanh_approx) {
    // d/dx 0.5x(1+t), t = tanh(u), u = k0(x + k1x³): 0.5(1+t) + 0.5x(1−t²)·k0(1 + 3k1x²)
    #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelWork)
    for (int64_t i = 0; i < n; i++) {
      const float v = x[i];
      const float t = tanhf(kSqrt2OverPi * (v + kCubic * v * v * v));
      const float du = kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
      dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du);
    }
  } else {
    // d/dx 0.5x(1+erf(x/√2)) = Φ(x) + x·φ(x)
    #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelWork)
    for (int64_t i = 0; i < n; i++) {
      const float v = x[i];
      dx[i] = dy[i] * (0.5f * (1.0f + erff(v * kInvSqrt2)) + v * kInvSqrt2Pi * expf(-0.5f * v * v));
    }
  }
}

}  // namespace SIFT_ISA_NS
}  // namespace sift
