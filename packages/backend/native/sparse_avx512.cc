// The sparse kernels (sparse_simd.inl) for AVX-512 (F, VL, DQ, BW): 16 lanes, 32 vector registers.
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
#pragma GCC target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")

namespace sift {
namespace sparse {
namespace avx512 {

#include "sparse_avx_transpose.inl"

struct V {
  using Reg = __m512;
  using Mask = __mmask16;
  static constexpr int L = 16;
  static inline Reg zero() { return _mm512_setzero_ps(); }
  static inline Reg set1(float f) { return _mm512_set1_ps(f); }
  static inline Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static inline Reg loadm(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static inline void store(float* p, Reg r) { _mm512_storeu_ps(p, r); }
  static inline void storem(float* p, Reg r, Mask m) { _mm512_mask_storeu_ps(p, m, r); }
  static inline Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static inline void transpose8(const float* src, int64_t ss, float* dst, int64_t ds) { transpose8x8(src, ss, dst, ds); }
  static inline Mask mask(int n) { return n ? Mask((1u << n) - 1) : Mask(0xFFFF); }
  static inline __m256 half_sum(Reg a) { return _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1)); }
  static inline void add_reduce4(float* dst, Reg a, Reg b, Reg c, Reg d) {
    const __m256 ab = _mm256_hadd_ps(half_sum(a), half_sum(b));
    const __m256 cd = _mm256_hadd_ps(half_sum(c), half_sum(d));
    const __m256 s = _mm256_hadd_ps(ab, cd);
    const __m128 r = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    _mm_storeu_ps(dst, _mm_add_ps(_mm_loadu_ps(dst), r));
  }
  static inline void add_reduce1(float* dst, Reg a) { *dst += _mm512_reduce_add_ps(a); }
};

constexpr int TMAX = 16;  // the largest of the three below
constexpr int TMAX_SPMM = 16;
constexpr int TMAX_SDDMM = 16;
constexpr int TMAX_FUSED = 12;
constexpr int TMAX_FUSED_PAIR = 16;  // two short lines: more vectors, operands partly from L1

}  // namespace avx512
}  // namespace sparse
}  // namespace sift

#define SIFT_ISA avx512
#include "sparse_simd.inl"

namespace sift {
namespace sparse {
const KernelTable& kernels_avx512() { return avx512::table(); }
}  // namespace sparse
}  // namespace sift

#else
namespace sift {
namespace sparse {
const KernelTable& kernels_avx512() { return kernels_scalar(); }
}  // namespace sparse
}  // namespace sift
#endif
