// 2-D max and average pooling on NHWC, forward and backward, with tfjs-backend-cpu's semantics: a window's
// maximum is its first strictly greatest tap (NaN never wins; a window with no tap above -inf routes no
// gradient), averages divide by the number of in-bounds taps. OpenMP over images (the backward passes
// scatter into overlapping windows of one image, so an image belongs to one thread).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels.h"

namespace sift {
namespace SIFT_ISA_NS {

namespace {

struct Window {
  int r0, r1, c0, c1;  // in-bounds tap index ranges [r0, r1) x [c0, c1)
};

inline Window window(const ConvGeometry& g, int oh, int ow) {
  // Taps a with 0 <= oh*SH - PT + a*DH < H.
  const int br = oh * g.SH - g.PT, bc = ow * g.SW - g.PL;
  auto first = [](int base, int d) { return base >= 0 ? 0 : (-base + d - 1) / d; };
  auto end = [](int base, int d, int k, int size) { return std::max(0, std::min(k, (size - base + d - 1) / d)); };
  return {first(br, g.DH), end(br, g.DH, g.KH, g.H), first(bc, g.DW), end(bc, g.DW, g.KW, g.W)};
}

inline const float* pixel(const ConvGeometry& g, const float* img, int r, int c) { return img + (int64_t(r) * g.W + c) * g.C; }

bool parallel(const ConvGeometry& g) { return int64_t(g.N) * g.OH * g.OW * g.C * g.KH * g.KW >= (1 << 16); }

}  // namespace

void max_pool(const ConvGeometry& g, const float* x, float* y) {
  #pragma omp parallel for collapse(2) schedule(static) if (parallel(g))
  for (int n = 0; n < g.N; n++) {
    for (int oh = 0; oh < g.OH; oh++) {
      const float* img = x + int64_t(n) * g.H * g.W * g.C;
      for (int ow = 0; ow < g.OW; ow++) {
        float* __restrict out = y + ((int64_t(n) * g.OH + oh) * g.OW + ow) * g.C;
        std::fill(out, out + g.C, -std::numeric_limits<float>::infinity());
        const Window w = window(g, oh, ow);
        for (int a = w.r0; a < w.r1; a++) {
          for (int b = w.c0; b < w.c1; b++) {
            const float* __restrict p = pixel(g, img, oh * g.SH - g.PT + a * g.DH, ow * g.SW - g.PL + b * g.DW);
            #pragma omp simd
            for (int c = 0; c < g.C; c++) out[c] = p[c] > out[c] ? p[c] : out[c];
          }
        }
      }
    }
  }
}

void max_pool_grad(const ConvGeometry& g, const float* dy, const float* x, float* dx) {
  std::fill(dx, dx + int64_t(g.N) * g.H * g.W * g.C, 0.0f);
  #pragma omp parallel if (parallel(g))
  {
    std::vector<float> best(g.C);
    std::vector<int64_t> at(g.C);
    #pragma omp for schedule(static)
    for (int n = 0; n < g.N; n++) {
      const float* img = x + int64_t(n) * g.H * g.W * g.C;
      float* dimg = dx + int64_t(n) * g.H * g.W * g.C;
      for (int oh = 0; oh < g.OH; oh++) {
        for (int ow = 0; ow < g.OW; ow++) {
          std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
          std::fill(at.begin(), at.end(), -1);
          const Window w = window(g, oh, ow);
          for (int a = w.r0; a < w.r1; a++) {
            for (int b = w.c0; b < w.c1; b++) {
              const int r = oh * g.SH - g.PT + a * g.DH, c = ow * g.SW - g.PL + b * g.DW;
              const float* __restrict p = pixel(g, img, r, c);
              const int64_t base = (int64_t(r) * g.W + c) * g.C;
              for (int ch = 0; ch < g.C; ch++) {
                if (p[ch] > best[ch]) {
                  best[ch] = p[ch];
                  at[ch] = base + ch;
                }
              }
            }
          }
          const float* __restrict d = dy + ((int64_t(n) * g.OH + oh) * g.OW + ow) * g.C;
          for (int ch = 0; ch < g.C; ch++)
            if (at[ch] >= 0) dimg[at[ch]] += d[ch];
        }
      }
    }
  }
}

void avg_pool(const ConvGeometry& g, const float* x, float* y) {
  #pragma omp parallel for collapse(2) schedule(static) if (parallel(g))
  for (int n = 0; n < g.N; n++) {
    for (int oh = 0; oh < g.OH; oh++) {
      const float* img = x + int64_t(n) * g.H * g.W * g.C;
      for (int ow = 0; ow < g.OW; ow++) {
        float* __restrict out = y + ((int64_t(n) * g.OH + oh) * g.OW + ow) * g.C;
        std::fill(out, out + g.C, 0.0f);
        const Window w = window(g, oh, ow);
        for (int a = w.r0; a < w.r1; a++) {
          for (int b = w.c0; b < w.c1; b++) {
            const float* __restrict p = pixel(g, img, oh * g.SH - g.PT + a * g.DH, ow * g.SW - g.PL + b * g.DW);
            #pragma omp simd
            for (int c = 0; c < g.C; c++) out[c] += p[c];
          }
        }
        const int count = std::max(0, w.r1 - w.r0) * std::max(0, w.c1 - w.c0);
        const float inv = count > 0 ? 1.0f / float(count) : 0.0f;
        #pragma omp simd
        for (int c = 0; c < g.C; c++) out[c] *= inv;
      }
    }
  }
}

void avg_pool_grad(const ConvGeometry& g, const float* dy, float* dx) {
  std::fill(dx, dx + int64_t(g.N) * g.H * g.W * g.C, 0.0f);
  #pragma omp parallel for schedule(static) if (parallel(g))
  for (int n = 0; n < g.N; n++) {
    float* dimg = dx + int64_t(n) * g.H * g.W * g.C;
    for (int oh = 0; oh < g.OH; oh++) {
      for (int ow = 0; ow < g.OW; ow++) {
        const Window w = window(g, oh, ow);
        const int count = std::max(0, w.r1 - w.r0) * std::max(0, w.c1 - w.c0);
        if (count == 0) continue;
        const float inv = 1.0f / float(count);
        const float* __restrict d = dy + ((int64_t(n) * g.OH + oh) * g.OW + ow) * g.C;
        for (int a = w.r0; a < w.r1; a++) {
          for (int b = w.c0; b < w.c1; b++) {
            float* __restrict p = dimg + (int64_t(oh * g.SH - g.PT + a * g.DH) * g.W + (ow * g.SW - g.PL + b * g.DW)) * g.C;
            #pragma omp simd
            for (int c = 0; c < g.C; c++) p[c] += d[c] * inv;
          }
        }
      }
    }
  }
}

}  // namespace SIFT_ISA_NS
}  // namespace sift
