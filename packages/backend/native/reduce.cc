// Reductions over the middle axis of x viewed as [A, R, B] (every tf.js reduction over one contiguous run
// of axes is one; the caller transposes others first), and softmax over rows. Sums and means accumulate in
// double, as tfjs-backend-cpu's JavaScript numbers do; max/min propagate NaN as it does.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels.h"
#include "vector_math.h"

namespace sift {
namespace SIFT_ISA_NS {

namespace {

constexpr int64_t kParallelMin = 1 << 15;

struct Sum {
  using Acc = double;
  static Acc init() { return 0.0; }
  static Acc step(Acc s, float v) { return s + v; }
  static Acc merge(Acc a, Acc b) { return a + b; }
};
struct Prod {
  using Acc = double;
  static Acc init() { return 1.0; }
  static Acc step(Acc s, float v) { return s * v; }
  static Acc merge(Acc a, Acc b) { return a * b; }
};
struct Max {
  using Acc = float;
  static Acc init() { return -std::numeric_limits<float>::infinity(); }
  static Acc step(Acc m, float v) { return (v > m || v != v) ? v : m; }
  static Acc merge(Acc a, Acc b) { return step(a, b); }
};
struct Min {
  using Acc = float;
  static Acc init() { return std::numeric_limits<float>::infinity(); }
  static Acc step(Acc m, float v) { return (v < m || v != v) ? v : m; }
  static Acc merge(Acc a, Acc b) { return step(a, b); }
};

// Max or min of a row, NaN if any element is NaN: a vectorised max/min plus a NaN flag (the NaN-aware
// step in one loop would not vectorise).
template <bool kMax>
float extremum(const float* __restrict row, int64_t n) {
  float m = kMax ? -INFINITY : INFINITY;
  int nan = 0;
  if (kMax) {
    #pragma omp simd reduction(max : m) reduction(| : nan)
    for (int64_t r = 0; r < n; r++) {
      m = row[r] > m ? row[r] : m;
      nan |= row[r] != row[r];
    }
  } else {
    #pragma omp simd reduction(min : m) reduction(| : nan)
    for (int64_t r = 0; r < n; r++) {
      m = row[r] < m ? row[r] : m;
      nan |= row[r] != row[r];
    }
  }
  return nan ? NAN : m;
}

template <typename Op>
void rows(int64_t A, int64_t R, const float* x, float* out, double scale) {
  #pragma omp parallel for schedule(static) if (A * R >= kParallelMin)
  for (int64_t a = 0; a < A; a++) {
    const float* __restrict row = x + a * R;
    typename Op::Acc s = Op::init();
    if constexpr (std::is_same_v<Op, Sum>) {
      #pragma omp simd reduction(+ : s)
      for (int64_t r = 0; r < R; r++) s += row[r];
    } else if constexpr (std::is_same_v<Op, Max>) {
      s = extremum<true>(row, R);
    } else if constexpr (std::is_same_v<Op, Min>) {
      s = extremum<false>(row, R);
    } else {
      for (int64_t r = 0; r < R; r++) s = Op::step(s, row[r]);
    }
    out[a] = float(s * scale);
  }
}

// out[a, b] over r of x[a, r, b]: B accumulators per a, the b loop innermost (vectorised).
template <typename Op>
void columns_of(int64_t R, int64_t B, const float* x, typename Op::Acc* acc) {
  for (int64_t r = 0; r < R; r++) {
    const float* __restrict row = x + r * B;
    #pragma omp simd
    for (int64_t b = 0; b < B; b++) acc[b] = Op::step(acc[b], row[b]);
  }
}

template <typename Op>
void columns(int64_t A, int64_t R, int64_t B, const float* x, float* out, double scale) {
  using Acc = typename Op::Acc;
  const int T = omp_get_max_threads();
  if (A >= T || A * R * B < kParallelMin) {
    #pragma omp parallel for schedule(static) if (A * R * B >= kParallelMin)
    for (int64_t a = 0; a < A; a++) {
      std::vector<Acc> acc(B, Op::init());
      columns_of<Op>(R, B, x + a * R * B, acc.data());
      for (int64_t b = 0; b < B; b++) out[a * B + b] = float(acc[b] * scale);
    }
    return;
  }
  // Few outputs, many rows (a bias gradient): split the rows between threads, then merge.
  for (int64_t a = 0; a < A; a++) {
    std::vector<Acc> partial(size_t(T) * B, Op::init());
    #pragma omp parallel num_threads(T)
    {
      const int t = omp_get_thread_num();
      const int64_t r0 = R * t / T, r1 = R * (t + 1) / T;
      columns_of<Op>(r1 - r0, B, x + (a * R + r0) * B, partial.data() + size_t(t) * B);
    }
    for (int64_t b = 0; b < B; b++) {
      Acc s = partial[b];
      for (int t = 1; t < T; t++) s = Op::merge(s, partial[size_t(t) * B + b]);
      out[a * B + b] = float(s * scale);
    }
  }
}

template <typename Op>
void reduce_as(int64_t A, int64_t R, int64_t B, const float* x, float* out, double scale) {
  if (B == 1) rows<Op>(A, R, x, out, scale);
  else columns<Op>(A, R, B, x, out, scale);
}

}  // namespace

void reduce(ReduceOp op, int64_t A, int64_t R, int64_t B, const float* x, float* out) {
  if (R == 0) {
    // An empty reduction: tf.js gives the identity (0 for sum, NaN for mean, -inf/inf for max/min).
    const float v = op == ReduceOp::sum ? 0.0f : op == ReduceOp::prod ? 1.0f : op == ReduceOp::mean ? NAN
                  : op == ReduceOp::max ? -INFINITY : INFINITY;
    std::fill(out, out + A * B, v);
    return;
  }
  switch (op) {
    case ReduceOp::sum: return reduce_as<Sum>(A, R, B, x, out, 1.0);
    case ReduceOp::mean: return reduce_as<Sum>(A, R, B, x, out, 1.0 / double(R));
    case ReduceOp::prod: return reduce_as<Prod>(A, R, B, x, out, 1.0);
    case ReduceOp::max: return reduce_as<Max>(A, R, B, x, out, 1.0);
    case ReduceOp::min: return reduce_as<Min>(A, R, B, x, out, 1.0);
  }
}

void sum_i32(int64_t A, int64_t R, int64_t B, const int32_t* x, int32_t* out) {
  #pragma omp parallel for collapse(2) schedule(static) if (A * R * B >= kParallelMin)
  for (int64_t a = 0; a < A; a++) {
    for (int64_t b = 0; b < B; b++) {
      int64_t s = 0;
      for (int64_t r = 0; r < R; r++) s += x[(a * R + r) * B + b];
      out[a * B + b] = int32_t(uint32_t(uint64_t(s)));
    }
  }
}

void softmax(int64_t rows, int64_t cols, const float* x, float* out) {
  #pragma omp parallel for schedule(static) if (rows * cols >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict xr = x + r * cols;
    float* __restrict o = out + r * cols;
    const float m = extremum<true>(xr, cols);
    double s = 0.0;
    #pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < cols; j++) {
      const float e = expf(xr[j] - m);
      o[j] = e;
      s += e;
    }
    const float inv = float(1.0 / s);
    #pragma omp simd
    for (int64_t j = 0; j < cols; j++) o[j] *= inv;
  }
}

void arg_reduce(bool max, int64_t A, int64_t R, int64_t B, const float* x, int32_t* out) {
  #pragma omp parallel for collapse(2) schedule(static) if (A * R * B >= kParallelMin)
  for (int64_t a = 0; a < A; a++) {
    for (int64_t b = 0; b < B; b++) {
      const float* p = x + a * R * B + b;
      float best = p[0];
      int32_t at = 0;
      for (int64_t r = 1; r < R; r++) {
        const float v = p[r * B];
        if (max ? v > best : v < best) {
          best = v;
          at = int32_t(r);
        }
      }
      out[a * B + b] = at;
    }
  }
}

}  // namespace SIFT_ISA_NS
}  // namespace sift
