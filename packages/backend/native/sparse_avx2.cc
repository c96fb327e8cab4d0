// The sparse kernels (sparse_simd.inl) for AVX2 + FMA: 8 lanes, 16 vector registers.
// The standard headers come first, so only this file's own functions take the target below.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "sparse_internal.h"

#if defined(__x86_64__)
#pragma GCC target("avx2,fma")

namespace sift {
namespace sparse {
namespace avx2 {

#include "sparse_avx_transpose.inl"

struct V {
  using Reg = __m256;
  using Mask = __m256i;
  static constexpr int L = 8;
  static inline Reg zero() { return _mm256_setzero_ps(); }
  static inline Reg set1(float f) { return _mm256_set1_ps(f); }
  static inline Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static inline Reg loadm(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static inline void store(float* p, Reg r) { _mm256_storeu_ps(p, r); }
  static inline void storem(float* p, Reg r, Mask m) { _mm256_maskstore_ps(p, m, r); }
  static inline Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static inline void transpose8(const float* src, int64_t ss, float* dst, int64_t ds) { transpose8x8(src, ss, dst, ds); }
  static inline Mask mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n ? n : 8), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static inline void add_reduce4(float* dst, Reg a, Reg b, Reg c, Reg d) {
    const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    const __m128 r = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    _mm_storeu_ps(dst, _mm_add_ps(_mm_loadu_ps(dst), r));
  }
  static inline void add_reduce1(float* dst, Reg a) {
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    *dst += _mm_cvtss_f32(r);
  }
};

constexpr int TMAX = 12;  // the largest of the three below
constexpr int TMAX_SPMM = 12;
constexpr int TMAX_SDDMM = 8;
constexpr int TMAX_FUSED = 8;
constexpr int TMAX_FUSED_PAIR = 8;  // two short lines: no more registers to spare

}  // namespace avx2
}  // namespace sparse
}  // namespace sift

#define SIFT_ISA avx2
#include "sparse_simd.inl"

namespace sift {
namespace sparse {
const KernelTable& kernels_avx2() { return avx2::table(); }
}  // namespace sparse
}  // namespace sift

#else
namespace sift {
namespace sparse {
const KernelTable& kernels_avx2() { return kernels_scalar(); }
}  // namespace sparse
}  // namespace sift
#endif
