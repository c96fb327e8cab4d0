// Fused training batch norm (+ residual add + ReLU), forward and backward, over NHWC rows or CHWN channel
// planes, OpenMP.
// Rows are split into contiguous chunks per thread; sums run in float over blocks of kBlock rows (the
// channel loop innermost, so it vectorises) and are flushed into double, so a 32 768-row channel
// keeps float32 accuracy.
#include "kernels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace sift {
namespace SIFT_ISA_NS {

namespace {

// Rows per float partial sum before it is added into the double accumulators: short enough that a
// float sum of 64 terms loses nothing that matters, long enough to amortise the flush.
constexpr int64_t kBlock = 64;

// Rows [r0, r1) of thread t out of T.
inline void split(int64_t M, int t, int T, int64_t* r0, int64_t* r1) {
  *r0 = M * t / T;
  *r1 = M * (t + 1) / T;
}

// Sum over threads of per-thread partial vectors [T, C] into out[C].
void reduce(const std::vector<double>& partial, int T, int C, std::vector<double>& out) {
  out.assign(C, 0.0);
  for (int t = 0; t < T; t++)
    for (int c = 0; c < C; c++) out[c] += partial[size_t(t) * C + c];
}

}  // namespace

// Per-channel sums over the rows of x [M, C] of term(row, c), threads over row chunks: float sums over
// blocks of kBlock rows (the channel loop innermost, vectorised), flushed into double.
template <typename Term>
std::vector<double> column_sums(int64_t M, int C, const float* x, Term term) {
  const int T = threads_for(M * C);
  std::vector<double> partial(size_t(T) * C, 0.0), out;
  #pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num();
    int64_t r0, r1;
    split(M, t, T, &r0, &r1);
    double* s = partial.data() + size_t(t) * C;
    std::vector<float> fs(C);
    float* __restrict f = fs.data();
    for (int64_t blk = r0; blk < r1; blk += kBlock) {
      std::fill(fs.begin(), fs.end(), 0.0f);
      const int64_t end = std::min(r1, blk + kBlock);
      for (int64_t r = blk; r < end; r++) {
        const float* __restrict row = x + r * C;
        for (int c = 0; c < C; c++) f[c] += term(row[c], c);
      }
      for (int c = 0; c < C; c++) s[c] += f[c];
    }
  }
  reduce(partial, T, C, out);
  return out;
}

void batch_norm_forward(int64_t M, int C, const float* x, const float* gamma, const float* beta, const float* residual,
                        bool relu, float eps, float* y, float* mean, float* var) {
  const int T = threads_for(M * C);
  const std::vector<double> sum = column_sums(M, C, x, [](float v, int) { return v; });
  std::vector<float> mu(C), scale(C), shift(C);
  for (int c = 0; c < C; c++) mu[c] = float(sum[c] / double(M));
  // Second pass around the mean (two-pass variance: no cancellation).
  const float* m = mu.data();
  const std::vector<double> sq = column_sums(M, C, x, [m](float v, int c) {
    const float d = v - m[c];
    return d * d;
  });
  for (int c = 0; c < C; c++) {
    mean[c] = mu[c];
    var[c] = float(sq[c] / double(M));
    const float inv = 1.0f / std::sqrt(var[c] + eps);
    scale[c] = gamma[c] * inv;
    shift[c] = beta[c] - mu[c] * scale[c];
  }
  const float* sc = scale.data();
  const float* sh = shift.data();
  #pragma omp parallel for num_threads(T) schedule(static)
  for (int64_t r = 0; r < M; r++) {
    const float* row = x + r * C;
    float* out = y + r * C;
    if (residual) {
      const float* res = residual + r * C;
      if (relu)
        for (int c = 0; c < C; c++) out[c] = std::max(0.0f, row[c] * sc[c] + sh[c] + res[c]);
      else
        for (int c = 0; c < C; c++) out[c] = row[c] * sc[c] + sh[c] + res[c];
    } else if (relu) {
      for (int c = 0; c < C; c++) out[c] = std::max(0.0f, row[c] * sc[c] + sh[c]);
    } else {
      for (int c = 0; c < C; c++) out[c] = row[c] * sc[c] + sh[c];
    }
  }
}

void batch_norm_backward(int64_t M, int C, const float* dy, const float* x, const float* gamma, const float* mean,
                         const float* var, const float* y, bool relu, float eps, float* dx, float* dgamma, float* dbeta,
                         float* dresidual) {
  const int T = threads_for(M * C);
  std::vector<float> inv(C);
  for (int c = 0; c < C; c++) inv[c] = 1.0f / std::sqrt(var[c] + eps);
  const float* iv = inv.data();
  // Pass 1: g = dy through the ReLU (also the residual's gradient); dbeta = Σ g, dgamma = Σ g · (x − mean)
  // (scaled by 1/σ after the sum). Float sums over blocks of kBlock rows, flushed into double.
  std::vector<double> pb(size_t(T) * C, 0.0), pg(size_t(T) * C, 0.0), sb, sg;
  #pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num();
    int64_t r0, r1;
    split(M, t, T, &r0, &r1);
    double* b = pb.data() + size_t(t) * C;
    double* gs = pg.data() + size_t(t) * C;
    std::vector<float> fb(C), fg(C), gbuf(C);
    float* __restrict bb = fb.data();
    float* __restrict gg = fg.data();
    for (int64_t blk = r0; blk < r1; blk += kBlock) {
      std::fill(fb.begin(), fb.end(), 0.0f);
      std::fill(fg.begin(), fg.end(), 0.0f);
      const int64_t end = std::min(r1, blk + kBlock);
      for (int64_t r = blk; r < end; r++) {
        const float* __restrict d = dy + r * C;
        const float* __restrict xr = x + r * C;
        const float* __restrict g = d;
        if (relu) {
          const float* __restrict yr = y + r * C;
          float* __restrict dr = dresidual ? dresidual + r * C : gbuf.data();
          for (int c = 0; c < C; c++) dr[c] = yr[c] > 0.0f ? d[c] : 0.0f;
          g = dr;
        } else if (dresidual) {
          std::copy(d, d + C, dresidual + r * C);
        }
        for (int c = 0; c < C; c++) {
          bb[c] += g[c];
          gg[c] += g[c] * (xr[c] - mean[c]);
        }
      }
      for (int c = 0; c < C; c++) {
        b[c] += bb[c];
        gs[c] += gg[c];
      }
    }
  }
  reduce(pb, T, C, sb);
  reduce(pg, T, C, sg);
  // Pass 2: dx = γ/σ · (g − dbeta/M − x̂ · dgamma/M), with x̂ = (x − mean)/σ.
  std::vector<float> k(C), mb(C), mg(C);
  for (int c = 0; c < C; c++) {
    dbeta[c] = float(sb[c]);
    dgamma[c] = float(sg[c] * iv[c]);
    k[c] = gamma[c] * iv[c];
    mb[c] = float(sb[c] / double(M));
    mg[c] = float(sg[c] * iv[c] * iv[c] / double(M));  // folds x̂'s 1/σ in: (x − mean) · mg
  }
  const float *kk = k.data(), *mbb = mb.data(), *mgg = mg.data();
  #pragma omp parallel for num_threads(T) schedule(static)
  for (int64_t r = 0; r < M; r++) {
    const float* __restrict d = dy + r * C;
    const float* __restrict xr = x + r * C;
    float* __restrict out = dx + r * C;
    if (relu) {
      const float* __restrict yr = y + r * C;
      for (int c = 0; c < C; c++) {
        const float g = yr[c] > 0.0f ? d[c] : 0.0f;
        out[c] = kk[c] * (g - mbb[c] - (xr[c] - mean[c]) * mgg[c]);
      }
    } else {
      for (int c = 0; c < C; c++) out[c] = kk[c] * (d[c] - mbb[c] - (xr[c] - mean[c]) * mgg[c]);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The same two kernels over channel planes: x [C, S] (the sparse convolutions' CHWN activations: each
// channel's S = H·W·N values contiguous). Threads take channels; sums run in float over blocks of
// kPlaneBlock values and are flushed into double, as above.

namespace {

constexpr int64_t kPlaneBlock = 256;

// Σ_i term(i) over [0, S) (term vectorisable), float blocks flushed into double.
template <typename Term>
double plane_sum(int64_t S, Term term) {
  double s = 0.0;
  for (int64_t b = 0; b < S; b += kPlaneBlock) {
    const int64_t e = std::min(S, b + kPlaneBlock);
    float f = 0.0f;
    #pragma omp simd reduction(+ : f)
    for (int64_t i = b; i < e; i++) f += term(i);
    s += f;
  }
  return s;
}

}  // namespace

void batch_norm_forward_planes(int64_t S, int C, const float* x, const float* gamma, const float* beta, const float* residual,
                               bool relu, float eps, float* y, float* mean, float* var) {
  const int T = std::min<int>(threads_for(S * C), C);
  #pragma omp parallel for num_threads(T) schedule(static)
  for (int c = 0; c < C; c++) {
    const float* __restrict xc = x + int64_t(c) * S;
    const float mu = float(plane_sum(S, [xc](int64_t i) { return xc[i]; }) / double(S));
    const float v = float(plane_sum(S, [xc, mu](int64_t i) {
                            const float d = xc[i] - mu;
                            return d * d;
                          }) /
                          double(S));
    mean[c] = mu;
    var[c] = v;
    const float sc = gamma[c] * (1.0f / std::sqrt(v + eps));
    const float sh = beta[c] - mu * sc;
    float* __restrict out = y + int64_t(c) * S;
    if (residual) {
      const float* __restrict res = residual + int64_t(c) * S;
      if (relu) {
        #pragma omp simd
        for (int64_t i = 0; i < S; i++) out[i] = std::max(0.0f, xc[i] * sc + sh + res[i]);
      } else {
        #pragma omp simd
        for (int64_t i = 0; i < S; i++) out[i] = xc[i] * sc + sh + res[i];
      }
    } else if (relu) {
      #pragma omp simd
      for (int64_t i = 0; i < S; i++) out[i] = std::max(0.0f, xc[i] * sc + sh);
    } else {
      #pragma omp simd
      for (int64_t i = 0; i < S; i++) out[i] = xc[i] * sc + sh;
    }
  }
}

void batch_norm_backward_planes(int64_t S, int C, const float* dy, const float* x, const float* gamma, const float* mean,
                                const float* var, const float* y, bool relu, float eps, float* dx, float* dgamma, float* dbeta,
                                float* dresidual) {
  const int T = std::min<int>(threads_for(S * C), C);
  #pragma omp parallel for num_threads(T) schedule(static)
  for (int c = 0; c < C; c++) {
    const int64_t at = int64_t(c) * S;
    const float* __restrict d = dy + at;
    const float* __restrict xc = x + at;
    const float mu = mean[c];
    const float iv = 1.0f / std::sqrt(var[c] + eps);
    // g = dy through the ReLU: written to dresidual when asked (it is the residual's gradient), else
    // recomputed from y in both passes.
    const float* g = d;
    if (relu && dresidual) {
      const float* __restrict yc = y + at;
      float* __restrict r = dresidual + at;
      #pragma omp simd
      for (int64_t i = 0; i < S; i++) r[i] = yc[i] > 0.0f ? d[i] : 0.0f;
      g = r;
    } else if (dresidual) {
      std::copy(d, d + S, dresidual + at);
    }
    const float* yc = relu && g == d ? y + at : nullptr;  // relu without dresidual: mask on the fly
    double sb, sg;
    if (yc) {
      sb = plane_sum(S, [d, yc](int64_t i) { return yc[i] > 0.0f ? d[i] : 0.0f; });
      sg = plane_sum(S, [d, yc, xc, mu](int64_t i) { return (yc[i] > 0.0f ? d[i] : 0.0f) * (xc[i] - mu); });
    } else {
      sb = plane_sum(S, [g](int64_t i) { return g[i]; });
      sg = plane_sum(S, [g, xc, mu](int64_t i) { return g[i] * (xc[i] - mu); });
    }
    dbeta[c] = float(sb);
    dgamma[c] = float(sg * iv);
    const float k = gamma[c] * iv;
    const float mb = float(sb / double(S));
    const float mg = float(sg * iv * iv / double(S));
    float* __restrict out = dx + at;
    if (yc) {
      #pragma omp simd
      for (int64_t i = 0; i < S; i++) out[i] = k * ((yc[i] > 0.0f ? d[i] : 0.0f) - mb - (xc[i] - mu) * mg);
    } else {
      #pragma omp simd
      for (int64_t i = 0; i < S; i++) out[i] = k * (g[i] - mb - (xc[i] - mu) * mg);
    }
  }
}

}  // namespace SIFT_ISA_NS
}  // namespace sift
