// Kernels of the sparse-ift native addon, free of N-API so they can be tested and timed on their own.
#pragma once
#include <cstdint>
#include <string>

namespace sift {

// A 2-D convolution, NHWC activations, filter [KH, KW, C, O] (tf.js layout).
struct ConvGeometry {
  int N, H, W, C, OH, OW, O, KH, KW, SH, SW, DH, DW, PT, PL;
};

// op 0: out = conv(in1 = x, in2 = w); op 1: out = dx from (in1 = dy, in2 = w); op 2: out = dw from (in1 = x, in2 = dy).
// Returns false when oneDNN is absent or rejects the geometry (the caller falls back on im2col + BLAS).
bool dnnl_conv2d(int op, const ConvGeometry& g, const float* in1, const float* in2, float* out);
// "oneDNN 2.6.3 (cpu runtime OMP, ISA ...)" or "" when built without oneDNN.
std::string dnnl_description();

// Training-mode batch normalisation over the rows of x [M, C] (NHWC flattened: channel innermost),
// fused with an optional residual add and ReLU:
//   y = relu?((x - mean) / sqrt(var + eps) * gamma + beta + residual?)
// mean and var (biased) are per channel and written out. residual may be null.
void batch_norm_forward(int64_t M, int C, const float* x, const float* gamma, const float* beta, const float* residual,
                        bool relu, float eps, float* y, float* mean, float* var);
// Its gradient. y is needed only with relu (the ReLU mask is y > 0). Writes dx, dgamma, dbeta and, when
// dresidual is not null, the residual's gradient (dy through the ReLU).
void batch_norm_backward(int64_t M, int C, const float* dy, const float* x, const float* gamma, const float* mean,
                         const float* var, const float* y, bool relu, float eps, float* dx, float* dgamma, float* dbeta,
                         float* dresidual);

// LayerNorm over the last axis of x [rows, size]: y = (x − mean)·rstd·γ + β, rstd = 1/sqrt(var + eps)
// (biased var); mean and rstd (one per row) are written for the backward pass.
void layer_norm_forward(int64_t rows, int size, const float* x, const float* gamma, const float* beta, float eps,
                        float* y, float* mean, float* rstd);
void layer_norm_backward(int64_t rows, int size, const float* dy, const float* x, const float* gamma, const float* mean,
                         const float* rstd, float* dx, float* dgamma, float* dbeta);

// GELU, y = x·Φ(x): exact (erf) or GPT-2's tanh approximation, and its gradient dx = dy · y'(x).
void gelu_forward(int64_t n, bool tanh_approx, const float* x, float* y);
void gelu_backward(int64_t n, bool tanh_approx, const float* dy, const float* x, float* dx);

int omp_threads();
void set_omp_threads(int n);

}  // namespace sift
