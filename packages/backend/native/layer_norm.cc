// LayerNorm over the last axis (rows of [rows, size]), forward and backward, OpenMP over rows. Row
// statistics in float over one row (two-pass: mean, then squared deviations); the parameter gradients
// are column sums, accumulated per thread in float over blocks of rows and flushed into double.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"

namespace sift {
namespace SIFT_ISA_NS {

void layer_norm_forward(int64_t rows, int size, const float* x, const float* gamma, const float* beta, float eps,
                        float* y, float* mean, float* rstd) {
  #pragma omp parallel for schedule(static) if (rows * size >= kParallelWork)
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict xr = x + r * size;
    float* __restrict yr = y + r * size;
    float s = 0.0f;
    for (int j = 0; j < size; j++) s += xr[j];
    const float m = s / size;
    float q = 0.0f;
    for (int j = 0; j < size; j++) {
      const float d = xr[j] - m;
      q += d * d;
    }
    const float inv = 1.0f / std::sqrt(q / size + eps);
    mean[r] = m;
    rstd[r] = inv;
    for (int j = 0; j < size; j++) yr[j] = (xr[j] - m) * inv * gamma[j] + beta[j];
  }
}

void layer_norm_backward(int64_t rows, int size, const float* dy, const float* x, const float* gamma, const float* mean,
                         const float* rstd, float* dx, float* dgamma, float* dbeta) {
  const int T = threads_for(rows * size);
  std::vector<double> pg(size_t(T) * size, 0.0), pb(size_t(T) * size, 0.0);
  constexpr int64_t kBlock = 64;
  #pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num();
    const int64_t r0 = rows * t / T, r1 = rows * (t + 1) / T;
    std::vector<float> fg(size), fb(size);
    float* __restrict gg = fg.data();
    float* __restrict bb = fb.data();
    double* dg = pg.data() + size_t(t) * size;
    double* db = pb.data() + size_t(t) * size;
    for (int64_t blk = r0; blk < r1; blk += kBlock) {
      std::fill(fg.begin(), fg.end(), 0.0f);
      std::fill(fb.begin(), fb.end(), 0.0f);
      const int64_t end = std::min(r1, blk + kBlock);
      for (int64_t r = blk; r < end; r++) {
        const float* __restrict d = dy + r * size;
        const float* __restrict xr = x + r * size;
        float* __restrict out = dx + r * size;
        const float m = mean[r], inv = rstd[r];
        float sg = 0.0f, sgx = 0.0f;
        for (int j = 0; j < size; j++) {
          const float xh = (xr[j] - m) * inv;
          const float g = d[j] * gamma[j];
          sg += g;
          sgx += g * xh;
          gg[j] += d[j] * xh;
          bb[j] += d[j];
        }
        const float mg = sg / size, mgx = sgx / size;
        for (int j = 0; j < size; j++) out[j] = inv * (d[j] * gamma[j] - mg - (xr[j] - m) * inv * mgx);
      }
      for (int j = 0; j < size; j++) {
        dg[j] += gg[j];
        db[j] += bb[j];
      }
    }
  }
  for (int j = 0; j < size; j++) {
    double g = 0.0, b = 0.0;
    for (int t = 0; t < T; t++) {
      g += pg[size_t(t) * size + j];
      b += pb[size_t(t) * size + j];
    }
    dgamma[j] = float(g);
    dbeta[j] = float(b);
  }
}

}  // namespace SIFT_ISA_NS
}  // namespace sift
