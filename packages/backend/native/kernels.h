// Kernels of the sparse-ift native addon, free of N-API so they can be tested and timed on their own.
//
// Hand-written kernels (SIFT_ISA_KERNELS below) are compiled three times, for AVX-512, AVX2+FMA and
// baseline x86-64, each copy in its own namespace; SIFT_CALL picks the copy the running CPU supports (once
// per process), so an addon built on an AVX-512 machine still runs on an AVX2-only one. oneDNN (convolutions,
// matmul) dispatches on the ISA by itself (JIT).
#pragma once
#include <omp.h>

#include <cstdint>
#include <string>
#include <type_traits>

namespace sift {

// A 2-D convolution, NHWC activations, filter [KH, KW, C, O] (tf.js layout).
struct ConvGeometry {
  int N, H, W, C, OH, OW, O, KH, KW, SH, SW, DH, DW, PT, PL;
};

// op 0: out = conv(in1 = x, in2 = w); op 1: out = dx from (in1 = dy, in2 = w); op 2: out = dw from (in1 = x, in2 = dy).
// Returns false when oneDNN is absent or rejects the geometry (the caller falls back).
bool dnnl_conv2d(int op, const ConvGeometry& g, const float* in1, const float* in2, float* out);
// "oneDNN 2.6.3 (cpu runtime OpenMP)" or "" when built without oneDNN.
std::string dnnl_description();
// The ISA oneDNN's JIT kernels use on this CPU, e.g. "avx512_core" ("" without oneDNN).
std::string dnnl_isa();

// Batched matmul on oneDNN: out[b] = op(a[b]) · op(b[b]) + bias, row-major. a is [batchA, M, K] (or
// [batchA, K, M] when transA), b [batchB, K, N] (or [batchB, N, K] when transB), out [batch, M, N]; batchA
// and batchB are each batch or 1 (broadcast). bias, when not null, has N values (added to every row).
// Returns false when oneDNN is absent or rejects the problem.
bool dnnl_matmul(int64_t batch, int64_t batchA, int64_t batchB, int64_t M, int64_t N, int64_t K, bool transA, bool transB,
                 const float* a, const float* b, const float* bias, float* out);

// Elementwise binary ops (tf.js semantics, NaN propagating like tfjs-backend-cpu).
enum class BinaryOp : int {
  add = 0, sub, mul, div, maximum, minimum, squared_difference,
  // bool (uint8) outputs
  greater = 16, greater_equal, less, less_equal, equal, not_equal,
  // bool (uint8) inputs and outputs
  logical_and = 32, logical_or,
};
enum class UnaryOp : int {
  neg = 0, abs, exp, log, sqrt, rsqrt, square, reciprocal, relu, relu6, sigmoid, tanh, step, leaky_relu, elu, sign,
  floor, ceil, erf, softplus, log1p, expm1, clip, round,
};
enum class ReduceOp : int { sum = 0, mean, max, min, prod };
enum class DType : int { f32 = 0, i32 = 1, u8 = 2 };

// Up to this many dimensions after the caller collapsed contiguous ones.
constexpr int kMaxRank = 8;

// Work (elements touched) below which a hand-written kernel runs on one thread, and multiply-adds below which
// a oneDNN primitive does: waking another thread costs microseconds, and on a loaded machine it may not be
// scheduled for milliseconds, while the main thread waits for it at the end of the parallel region.
constexpr int64_t kParallelWork = int64_t(1) << 15;
constexpr int64_t kParallelMacs = int64_t(1) << 20;
inline int threads_for(int64_t work) { return work < kParallelWork ? 1 : omp_get_max_threads(); }

// Runs the scope on one OpenMP thread (oneDNN reads the count when a primitive executes) when `small`.
class OneThreadIf {
 public:
  explicit OneThreadIf(bool small) : saved_(small ? omp_get_max_threads() : 0) {
    if (saved_) omp_set_num_threads(1);
  }
  ~OneThreadIf() {
    if (saved_) omp_set_num_threads(saved_);
  }
  OneThreadIf(const OneThreadIf&) = delete;
  OneThreadIf& operator=(const OneThreadIf&) = delete;

 private:
  int saved_;
};

// int32 arithmetic wraps modulo 2^32 as tfjs-backend-cpu's Int32Array stores do (signed overflow is
// undefined in C++, so integers go through unsigned); floats are plain.
template <typename T>
inline T wrapping_add(T a, T b) {
  if constexpr (std::is_integral_v<T>) return T(std::make_unsigned_t<T>(a) + std::make_unsigned_t<T>(b));
  else return a + b;
}
template <typename T>
inline T wrapping_sub(T a, T b) {
  if constexpr (std::is_integral_v<T>) return T(std::make_unsigned_t<T>(a) - std::make_unsigned_t<T>(b));
  else return a - b;
}
template <typename T>
inline T wrapping_mul(T a, T b) {
  if constexpr (std::is_integral_v<T>) return T(std::make_unsigned_t<T>(a) * std::make_unsigned_t<T>(b));
  else return a * b;
}

#define SIFT_ISA_KERNELS                                                                                                       \
  /* Training batch norm over the rows of x [M, C] (channels innermost) with optional residual add and ReLU:        */        \
  /*   y = relu?((x - mean) / sqrt(var + eps) * gamma + beta + residual?); mean, var (biased) written out.           */        \
  void batch_norm_forward(int64_t M, int C, const float* x, const float* gamma, const float* beta, const float* residual,     \
                          bool relu, float eps, float* y, float* mean, float* var);                                          \
  /* Its gradient; y is read only with relu (mask y > 0); dresidual (dy through the ReLU) when not null.            */        \
  void batch_norm_backward(int64_t M, int C, const float* dy, const float* x, const float* gamma, const float* mean,        \
                           const float* var, const float* y, bool relu, float eps, float* dx, float* dgamma,               \
                           float* dbeta, float* dresidual);                                                                  \
  /* LayerNorm over the last axis of x [rows, size]; mean and rstd = 1/sqrt(var + eps) per row.                     */        \
  void layer_norm_forward(int64_t rows, int size, const float* x, const float* gamma, const float* beta, float eps,        \
                          float* y, float* mean, float* rstd);                                                               \
  void layer_norm_backward(int64_t rows, int size, const float* dy, const float* x, const float* gamma, const float* mean,  \
                           const float* rstd, float* dx, float* dgamma, float* dbeta);                                       \
  /* GELU y = x * Phi(x), exact (erf) or tanh approximation, and dx = dy * y'(x).                                   */        \
  void gelu_forward(int64_t n, bool tanh_approx, const float* x, float* y);                                                  \
  void gelu_backward(int64_t n, bool tanh_approx, const float* dy, const float* x, float* dx);                               \
  /* out = a op b over `dims` (rank <= kMaxRank), a and b read through element strides (0 = broadcast).            */        \
  void binary(BinaryOp op, DType dtype, int rank, const int64_t* dims, const void* a, const int64_t* a_strides,             \
              const void* b, const int64_t* b_strides, void* out);                                                           \
  /* out[i] = x[i] is neither NaN nor +-inf (tf.isFinite; bool as uint8).                                          */        \
  void is_finite(int64_t n, const float* x, uint8_t* out);                                                                   \
  /* out = op(x), out may be x.                                                                                     */        \
  void unary(UnaryOp op, int64_t n, const float* x, float* out, float alpha, float beta);                                    \
  /* out[a, b] = reduce over r of x[a, r, b] (x is [A, R, B]); sums accumulate in double.                           */        \
  void reduce(ReduceOp op, int64_t A, int64_t R, int64_t B, const float* x, float* out);                                     \
  /* The same sum over int32 (accumulated in int64, wrapped to int32 as an Int32Array store wraps).                 */        \
  void sum_i32(int64_t A, int64_t R, int64_t B, const int32_t* x, int32_t* out);                                            \
  /* out = x permuted: out dims are dims[perm[i]]; elements of `bytes` bytes (1, 2, 4 or 8).                        */        \
  void transpose(int bytes, int rank, const int64_t* dims, const int* perm, const void* x, void* out);                      \
  /* Softmax over the last axis of x [rows, cols].                                                                  */        \
  void softmax(int64_t rows, int64_t cols, const float* x, float* out);                                                      \
  /* 2-D pooling on NHWC: max (routing each window's gradient to its first maximum, as tfjs-backend-cpu) and        */        \
  /* average (dividing by the count of in-bounds taps).                                                             */        \
  void max_pool(const ConvGeometry& g, const float* x, float* y);                                                            \
  void max_pool_grad(const ConvGeometry& g, const float* dy, const float* x, float* dx);                                    \
  void avg_pool(const ConvGeometry& g, const float* x, float* y);                                                            \
  void avg_pool_grad(const ConvGeometry& g, const float* dy, float* dx);                                                     \
  /* out[o, i, j] = x[o, idx[i], j], x [outer, axis, inner] of `bytes`-byte elements; false on an index out of range */     \
  bool gather(int bytes, int64_t outer, int64_t axis, int64_t inner, const void* x, const int32_t* idx, int64_t n_idx,      \
              void* out);                                                                                                    \
  /* out[s, j] = sum over rows r with ids[r] == s of x[r, j] (rows with ids outside [0, segments) are skipped);   */        \
  /* float32, or int32 (wrapping) when int32.                                                                       */        \
  void segment_sum(bool int32, int64_t rows, int64_t inner, const void* x, const int32_t* ids, int64_t segments, void* out); \
  /* Tile: out dims are dims[i] * reps[i].                                                                          */        \
  void tile(int bytes, int rank, const int64_t* dims, const int64_t* reps, const void* x, void* out);                       \
  /* Casts between float32 (0), int32 (1) and bool (2, uint8) as tfjs-backend-cpu's Cast (not float32 -> int32).  */        \
  void cast(int from, int to, int64_t n, const void* x, void* out);                                                          \
  /* A dims-shaped block from x to out, each read/written through its own element offset and strides (slice, pad,   */        \
  /* concat, split: one kernel).                                                                                    */        \
  void copy_block(int bytes, int rank, const int64_t* dims, const void* x, int64_t x_offset, const int64_t* x_strides,      \
                  void* out, int64_t out_offset, const int64_t* out_strides);                                                \
  /* out = sum of n float32 arrays of len elements.                                                                 */        \
  void add_n(int n, const float* const* xs, int64_t len, float* out);                                                       \
  /* Inference batch norm over [M, C]: y = (x - mean[c]) * k[c] + offset[c].                                        */        \
  void channel_affine(int64_t M, int C, const float* x, const float* mean, const float* k, const float* offset, float* y);   \
  /* Index of the first maximum (or minimum) over r of x[a, r, b]; NaN never wins, as tfjs-backend-cpu.             */        \
  void arg_reduce(bool max, int64_t A, int64_t R, int64_t B, const float* x, int32_t* out);                                 \
  /* out[i, j] = j == idx[i] ? on : off, float32 (dtype 0) or int32 (dtype 1).                                      */        \
  void one_hot(int dtype, int64_t n, const int32_t* idx, int64_t depth, double on, double off, void* out);                  \
  /* cols[(n, oh, ow), (a, b, c)] = x[n, oh*SH - PT + a*DH, ow*SW - PL + b*DW, c] (0 outside), images n0..n1.    */        \
  void im2col(const ConvGeometry& g, const float* x, int n0, int n1, float* cols);                                          \
  /* out[i] = cond[i] ? a[i] : b[i], 4-byte elements (tf.where after broadcasting).                                 */        \
  void select_bits(int64_t n, const uint8_t* cond, const uint32_t* a, const uint32_t* b, uint32_t* out);                     \
  /* core's Philox dropout: out[i] = x[i] * scale where Philox(counter [i / 4, c1, c2, c3], key [k0, k1]) word i % 4 */     \
  /* is >= threshold, else 0.                                                                                       */        \
  void dropout(int64_t n, const float* x, float* out, float scale, uint32_t threshold, uint32_t k0, uint32_t k1,            \
               uint32_t c1, uint32_t c2, uint32_t c3);                                                                       \
  /* fp32 FLOPs of `iters` rounds of independent vector FMAs on registers (the core's FMA throughput, measured).    */        \
  double fma_flops(int64_t iters);                                                                                           \
  /* core's fused SGD update (PyTorch): g += wd*w (wd != 0); b' = first ? g : b*mu + g*keep (keep = 1 - dampening); */        \
  /* w' = w - lr*(nesterov ? g + b'*mu : b'), or w' = w - lr*g when b is null. Same float ops as the composed ones.  */        \
  void sgd_update(int64_t n, const float* w, const float* g, const float* b, float lr, float momentum, float keep,          \
                  bool nesterov, float weight_decay, bool first_step, float* w_out, float* b_out);                           \
  /* core's fused AdamW update (PyTorch): m' = m*b1 + g*(1-b1); v' = v*b2 + g*g*(1-b2); amsgrad (v_max not null):   */        \
  /* v_max' = max(v_max, v'); w' = w*decay - (m' / (sqrt(v_max' or v') / bc2_sqrt + eps)) * step_size.            */        \
  void adamw_update(int64_t n, const float* w, const float* g, const float* m, const float* v, const float* v_max,          \
                    float decay_factor, float beta1, float one_minus_beta1, float beta2, float one_minus_beta2,            \
                    float epsilon, float step_size, float bc2_sqrt, float* w_out, float* m_out, float* v_out,               \
                    float* v_max_out);

namespace isa_avx512 { SIFT_ISA_KERNELS }
namespace isa_avx2 { SIFT_ISA_KERNELS }
namespace isa_base { SIFT_ISA_KERNELS }

enum class Isa { base, avx2, avx512 };
// The best copy of the hand-written kernels this CPU runs (SIFT_ISA=base|avx2|avx512 forces one).
Isa cpu_isa();
const char* isa_name(Isa isa);

int omp_threads();
void set_omp_threads(int n);

}  // namespace sift

// Calls the copy of a SIFT_ISA_KERNELS function for this CPU.
#define SIFT_CALL(fn, ...)                                                                                 \
  (::sift::cpu_isa() == ::sift::Isa::avx512 ? ::sift::isa_avx512::fn(__VA_ARGS__)                         \
   : ::sift::cpu_isa() == ::sift::Isa::avx2 ? ::sift::isa_avx2::fn(__VA_ARGS__)                           \
                                            : ::sift::isa_base::fn(__VA_ARGS__))
