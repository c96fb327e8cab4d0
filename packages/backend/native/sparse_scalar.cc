// The sparse kernels (sparse_simd.inl) in portable C++ (any CPU): 4-lane arrays the compiler may
// vectorise with the baseline ISA. The fallback when neither AVX2 nor AVX-512 is present.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "sparse_internal.h"

namespace sift {
namespace sparse {
namespace scalar {

struct V {
  struct Reg {
    float v[4];
  };
  using Mask = int;  // lanes in use
  static constexpr int L = 4;
  static inline Reg zero() { return Reg{{0, 0, 0, 0}}; }
  static inline Reg set1(float f) { return Reg{{f, f, f, f}}; }
  static inline Reg load(const float* p) { return Reg{{p[0], p[1], p[2], p[3]}}; }
  static inline Reg loadm(const float* p, Mask m) {
    Reg r = zero();
    for (int i = 0; i < m; i++) r.v[i] = p[i];
    return r;
  }
  static inline void store(float* p, Reg r) { std::memcpy(p, r.v, sizeof(r.v)); }
  static inline void storem(float* p, Reg r, Mask m) {
    for (int i = 0; i < m; i++) p[i] = r.v[i];
  }
  static inline Reg fma(Reg a, Reg b, Reg c) {
    for (int i = 0; i < 4; i++) c.v[i] += a.v[i] * b.v[i];
    return c;
  }
  static inline void transpose8(const float* src, int64_t ss, float* dst, int64_t ds) {
    for (int i = 0; i < 8; i++)
      for (int j = 0; j < 8; j++) dst[j * ds + i] = src[i * ss + j];
  }
  static inline Mask mask(int n) { return n ? n : 4; }
  static inline void add_reduce1(float* dst, Reg a) { *dst += (a.v[0] + a.v[1]) + (a.v[2] + a.v[3]); }
  static inline void add_reduce4(float* dst, Reg a, Reg b, Reg c, Reg d) {
    add_reduce1(dst, a);
    add_reduce1(dst + 1, b);
    add_reduce1(dst + 2, c);
    add_reduce1(dst + 3, d);
  }
};

constexpr int TMAX = 8;  // the largest of the three below
constexpr int TMAX_SPMM = 8;
constexpr int TMAX_SDDMM = 8;
constexpr int TMAX_FUSED = 8;
constexpr int TMAX_FUSED_PAIR = 8;

}  // namespace scalar
}  // namespace sparse
}  // namespace sift

#define SIFT_ISA scalar
#include "sparse_simd.inl"

namespace sift {
namespace sparse {
const KernelTable& kernels_scalar() { return scalar::table(); }
}  // namespace sparse
}  // namespace sift
