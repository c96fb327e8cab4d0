// Elementwise kernels of the native backend: binary ops with tf.js broadcasting, unary ops and casts,
// OpenMP over large tensors, vectorised inner loops. NaN and ±inf follow tfjs-backend-cpu (JavaScript's
// Math.max/min propagate NaN, so do maximum/minimum here).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels.h"
#include "vector_math.h"

namespace sift {
namespace SIFT_ISA_NS {

namespace {

// Below this many elements a kernel runs on one thread (an OpenMP fork costs a few microseconds).
constexpr int64_t kParallelMin = 1 << 15;

template <typename T, typename F>
void flat(int64_t n, const T* a, int64_t sa, const T* b, int64_t sb, void* out_, F f) {
  using R = decltype(f(T(), T()));
  R* __restrict out = static_cast<R*>(out_);
  if (sa == 1 && sb == 1) {
    #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMin)
    for (int64_t i = 0; i < n; i++) out[i] = f(a[i], b[i]);
  } else if (sa == 0 && sb == 1) {
    const T av = a[0];
    #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMin)
    for (int64_t i = 0; i < n; i++) out[i] = f(av, b[i]);
  } else if (sa == 1 && sb == 0) {
    const T bv = b[0];
    #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMin)
    for (int64_t i = 0; i < n; i++) out[i] = f(a[i], bv);
  } else {
    #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMin)
    for (int64_t i = 0; i < n; i++) out[i] = f(a[i * sa], b[i * sb]);
  }
}

// General broadcasting: rows over every dimension but the last, the last one inner.
template <typename T, typename F>
void broadcast(int rank, const int64_t* dims, const T* a, const int64_t* as, const T* b, const int64_t* bs, void* out_, F f) {
  using R = decltype(f(T(), T()));
  R* out = static_cast<R*>(out_);
  const int64_t inner = dims[rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= dims[d];
  const int64_t sa = as[rank - 1], sb = bs[rank - 1];
  #pragma omp parallel for schedule(static) if (rows * inner >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    // Offsets of row r in a and b from its multi-index.
    int64_t rem = r, oa = 0, ob = 0;
    for (int d = rank - 2; d >= 0; d--) {
      const int64_t i = rem % dims[d];
      rem /= dims[d];
      oa += i * as[d];
      ob += i * bs[d];
    }
    const T* __restrict ar = a + oa;
    const T* __restrict br = b + ob;
    R* __restrict o = out + r * inner;
    if (sa == 1 && sb == 1) {
      #pragma omp simd
      for (int64_t j = 0; j < inner; j++) o[j] = f(ar[j], br[j]);
    } else if (sa == 1 && sb == 0) {
      const T bv = br[0];
      #pragma omp simd
      for (int64_t j = 0; j < inner; j++) o[j] = f(ar[j], bv);
    } else if (sa == 0 && sb == 1) {
      const T av = ar[0];
      #pragma omp simd
      for (int64_t j = 0; j < inner; j++) o[j] = f(av, br[j]);
    } else {
      for (int64_t j = 0; j < inner; j++) o[j] = f(ar[j * sa], br[j * sb]);
    }
  }
}

template <typename T, typename F>
void run_binary(int rank, const int64_t* dims, const void* a, const int64_t* as, const void* b, const int64_t* bs, void* out, F f) {
  const T* ta = static_cast<const T*>(a);
  const T* tb = static_cast<const T*>(b);
  if (rank <= 1) {
    const int64_t n = rank == 0 ? 1 : dims[0];
    flat(n, ta, rank == 0 ? 0 : as[0], tb, rank == 0 ? 0 : bs[0], out, f);
  } else {
    broadcast(rank, dims, ta, as, tb, bs, out, f);
  }
}

template <typename T>
void binary_typed(BinaryOp op, int rank, const int64_t* dims, const void* a, const int64_t* as, const void* b, const int64_t* bs,
                  void* out) {
  switch (op) {
    case BinaryOp::add: return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return wrapping_add(x, y); });
    case BinaryOp::sub: return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return wrapping_sub(x, y); });
    case BinaryOp::mul: return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return wrapping_mul(x, y); });
    case BinaryOp::div: return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return T(x / y); });
    // x != x: NaN propagates from either side, as JavaScript's Math.max/min.
    case BinaryOp::maximum: return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return (x > y || x != x) ? x : y; });
    case BinaryOp::minimum: return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return (x < y || x != x) ? x : y; });
    case BinaryOp::squared_difference:
      return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return T((x - y) * (x - y)); });
    case BinaryOp::greater: return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return uint8_t(x > y); });
    case BinaryOp::greater_equal: return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return uint8_t(x >= y); });
    case BinaryOp::less: return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return uint8_t(x < y); });
    case BinaryOp::less_equal: return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return uint8_t(x <= y); });
    case BinaryOp::equal: return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return uint8_t(x == y); });
    case BinaryOp::not_equal: return run_binary<T>(rank, dims, a, as, b, bs, out, [](T x, T y) { return uint8_t(x != y); });
  }
}

// x may be out (in place): each element is read before it is written.
template <typename F>
void map(int64_t n, const float* x, float* out, F f) {
  #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) out[i] = f(x[i]);
}

// Round half to even, as tfjs-backend-cpu's Round.
inline float round_half_even(float v) {
  const float base = std::floor(v);
  const float frac = v - base;
  if (frac < 0.5f) return base;
  if (frac > 0.5f) return base + 1.0f;
  return std::fmod(base, 2.0f) == 0.0f ? base : base + 1.0f;
}

}  // namespace

void binary(BinaryOp op, DType dtype, int rank, const int64_t* dims, const void* a, const int64_t* a_strides, const void* b,
            const int64_t* b_strides, void* out) {
  if (dtype == DType::f32) binary_typed<float>(op, rank, dims, a, a_strides, b, b_strides, out);
  else if (dtype == DType::i32) binary_typed<int32_t>(op, rank, dims, a, a_strides, b, b_strides, out);
  else if (op == BinaryOp::logical_and) run_binary<uint8_t>(rank, dims, a, a_strides, b, b_strides, out, [](uint8_t x, uint8_t y) { return uint8_t(x && y); });
  else run_binary<uint8_t>(rank, dims, a, a_strides, b, b_strides, out, [](uint8_t x, uint8_t y) { return uint8_t(x || y); });
}

void is_finite(int64_t n, const float* x, uint8_t* out) {
  #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) out[i] = uint8_t(std::isfinite(x[i]));
}

void unary(UnaryOp op, int64_t n, const float* x, float* out, float alpha, float beta) {
  switch (op) {
    case UnaryOp::neg: return map(n, x, out, [](float v) { return -v; });
    case UnaryOp::abs: return map(n, x, out, [](float v) { return std::fabs(v); });
    case UnaryOp::exp: return map(n, x, out, [](float v) { return expf(v); });
    case UnaryOp::log: return map(n, x, out, [](float v) { return logf(v); });
    case UnaryOp::sqrt: return map(n, x, out, [](float v) { return std::sqrt(v); });
    case UnaryOp::rsqrt: return map(n, x, out, [](float v) { return 1.0f / std::sqrt(v); });
    case UnaryOp::square: return map(n, x, out, [](float v) { return v * v; });
    case UnaryOp::reciprocal: return map(n, x, out, [](float v) { return 1.0f / v; });
    case UnaryOp::relu: return map(n, x, out, [](float v) { return v < 0.0f ? 0.0f : v; });
    case UnaryOp::relu6: return map(n, x, out, [](float v) { return v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v; });
    case UnaryOp::sigmoid: return map(n, x, out, [](float v) { return 1.0f / (1.0f + expf(-v)); });
    case UnaryOp::tanh: return map(n, x, out, [](float v) { return tanhf(v); });
    // Written as unconditional operations and selects (step: alpha copied to a local first): GCC (12) does not
    // if-convert, so does not vectorise, an operation that may trap under -ftrapping-math when the source
    // evaluates it on one branch only. Checked with -fopt-info-vec; ReLU's gradient (Step) runs ~7x faster.
    case UnaryOp::step: return map(n, x, out, [alpha](float v) { const float a = alpha; float s = v > 0.0f ? 1.0f : a; s = v != v ? v : s; return s; });
    case UnaryOp::leaky_relu: return map(n, x, out, [alpha](float v) { const float a = alpha * v; return v < 0.0f ? a : v; });
    case UnaryOp::elu: return map(n, x, out, [](float v) { return v < 0.0f ? expm1f(v) : v; });
    case UnaryOp::sign: return map(n, x, out, [](float v) { return v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : 0.0f; });  // NaN: 0, as tfjs-backend-cpu
    case UnaryOp::floor: return map(n, x, out, [](float v) { return std::floor(v); });
    case UnaryOp::ceil: return map(n, x, out, [](float v) { return std::ceil(v); });
    case UnaryOp::erf: return map(n, x, out, [](float v) { return erff(v); });
    // log(1 + e^v) without overflow: max(v, 0) + log1p(e^-|v|).
    case UnaryOp::softplus: return map(n, x, out, [](float v) { return (v > 0.0f ? v : 0.0f) + log1pf(expf(-std::fabs(v))); });
    case UnaryOp::log1p: return map(n, x, out, [](float v) { return log1pf(v); });
    case UnaryOp::expm1: return map(n, x, out, [](float v) { return expm1f(v); });
    case UnaryOp::clip: return map(n, x, out, [alpha, beta](float v) { return v < alpha ? alpha : v > beta ? beta : v; });
    case UnaryOp::round: return map(n, x, out, [](float v) { return round_half_even(v); });
  }
}

namespace {
template <typename S, typename D, typename F>
void convert(int64_t n, const void* x, void* out, F f) {
  const S* __restrict s = static_cast<const S*>(x);
  D* __restrict d = static_cast<D*>(out);
  #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) d[i] = f(s[i]);
}
}  // namespace

// from/to: 0 float32, 1 int32, 2 bool (uint8). To bool is x != 0 (NaN is true), as tfjs-backend-cpu.
// float32 -> int32 is not here: JavaScript's ToInt32 wraps out-of-range values, C++'s cast does not.
void cast(int from, int to, int64_t n, const void* x, void* out) {
  if (from == 1 && to == 0) convert<int32_t, float>(n, x, out, [](int32_t v) { return float(v); });
  else if (from == 2 && to == 0) convert<uint8_t, float>(n, x, out, [](uint8_t v) { return float(v); });
  else if (from == 2 && to == 1) convert<uint8_t, int32_t>(n, x, out, [](uint8_t v) { return int32_t(v); });
  else if (from == 0 && to == 2) convert<float, uint8_t>(n, x, out, [](float v) { return uint8_t(v != 0.0f); });
  else if (from == 1 && to == 2) convert<int32_t, uint8_t>(n, x, out, [](int32_t v) { return uint8_t(v != 0); });
}

void add_n(int n, const float* const* xs, int64_t len, float* out) {
  constexpr int64_t kBlock = 4096;  // a block of every input stays in cache while it is summed
  #pragma omp parallel for schedule(static) if (int64_t(n) * len >= kParallelMin)
  for (int64_t b0 = 0; b0 < len; b0 += kBlock) {
    const int64_t b1 = std::min(len, b0 + kBlock);
    float* __restrict o = out + b0;
    const float* __restrict x0 = xs[0] + b0;
    #pragma omp simd
    for (int64_t i = 0; i < b1 - b0; i++) o[i] = x0[i];
    for (int k = 1; k < n; k++) {
      const float* __restrict xk = xs[k] + b0;
      #pragma omp simd
      for (int64_t i = 0; i < b1 - b0; i++) o[i] += xk[i];
    }
  }
}

void channel_affine(int64_t M, int C, const float* x, const float* mean, const float* k, const float* offset, float* y) {
  #pragma omp parallel for schedule(static) if (M * C >= kParallelMin)
  for (int64_t r = 0; r < M; r++) {
    const float* __restrict xr = x + r * C;
    float* __restrict yr = y + r * C;
    #pragma omp simd
    for (int c = 0; c < C; c++) yr[c] = (xr[c] - mean[c]) * k[c] + offset[c];
  }
}

void channel_affine_planes(int64_t S, int C, const float* x, const float* mean, const float* k, const float* offset, float* y) {
  #pragma omp parallel for schedule(static) if (S * C >= kParallelMin)
  for (int c = 0; c < C; c++) {
    const float* __restrict xc = x + int64_t(c) * S;
    float* __restrict yc = y + int64_t(c) * S;
    const float m = mean[c], kc = k[c], o = offset[c];
    #pragma omp simd
    for (int64_t i = 0; i < S; i++) yc[i] = (xc[i] - m) * kc + o;
  }
}

// Twelve independent accumulators of the widest vector this copy is compiled for, so the FMA units, not
// the latency of one chain, bound the loop; the result depends on every accumulator (nothing is elided).
double fma_flops(int64_t iters) {
#if defined(__AVX512F__)
  constexpr int kLanes = 16;
#elif defined(__AVX2__)
  constexpr int kLanes = 8;
#else
  constexpr int kLanes = 4;
#endif
  typedef float vec __attribute__((vector_size(kLanes * 4)));
  vec acc[12];
  for (int i = 0; i < 12; i++) acc[i] = vec{} + 1e-3f * float(i);
  const vec m = vec{} + 0.999999f, a = vec{} + 1e-7f;
  for (int64_t it = 0; it < iters; it++) {
    #pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i] = acc[i] * m + a;
  }
  float sink = 0.0f;
  for (int i = 0; i < 12; i++)
    for (int l = 0; l < kLanes; l++) sink += acc[i][l];
  volatile float keep = sink;
  (void)keep;
  return double(iters) * 12.0 * kLanes * 2.0;
}

// @sparse-ift/core's dropout (packages/core/src/ops/dropout.ts): element i is kept when word i mod 4 of
// Philox 4x32-10 (counter [i / 4, c1, c2, c3], key [k0, k1]) is >= threshold, and scaled in float32. The
// 32x32 -> 64-bit products are exact here as in core's JavaScript, so the masks are the same bits.
void dropout(int64_t n, const float* x, float* out, float scale, uint32_t threshold, uint32_t k0, uint32_t k1, uint32_t c1,
             uint32_t c2, uint32_t c3) {
  const int64_t blocks = (n + 3) / 4;
  #pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t blk = 0; blk < blocks; blk++) {
    uint32_t w0 = uint32_t(blk), w1 = c1, w2 = c2, w3 = c3, key0 = k0, key1 = k1;
    for (int round = 0; round < 10; round++) {
      const uint64_t p0 = uint64_t(0xD2511F53u) * w0, p1 = uint64_t(0xCD9E8D57u) * w2;
      w0 = uint32_t(p1 >> 32) ^ w1 ^ key0;
      w1 = uint32_t(p1);
      w2 = uint32_t(p0 >> 32) ^ w3 ^ key1;
      w3 = uint32_t(p0);
      key0 += 0x9E3779B9u;
      key1 += 0xBB67AE85u;
    }
    const uint32_t w[4] = {w0, w1, w2, w3};
    const int64_t i = blk * 4, end = std::min<int64_t>(4, n - i);
    for (int64_t j = 0; j < end; j++) out[i + j] = w[j] >= threshold ? x[i + j] * scale : 0.0f;
  }
}

// out[i] = cond[i] ? a[i] : b[i] over 4-byte elements, copied as bits (float32 or int32; NaN payloads kept).
void select_bits(int64_t n, const uint8_t* cond, const uint32_t* a, const uint32_t* b, uint32_t* out) {
  #pragma omp parallel for simd schedule(static) if (parallel: n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) out[i] = cond[i] ? a[i] : b[i];
}

}  // namespace SIFT_ISA_NS
}  // namespace sift
