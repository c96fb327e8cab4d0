// The sparse kernels, written once over a vector type V and compiled once per ISA: each of
// sparse_avx512.cc, sparse_avx2.cc and sparse_scalar.cc defines SIFT_ISA (a namespace name), a struct V
// and TMAX (accumulator registers per tile), then includes this file. Everything here lives in that
// namespace, so the three copies never meet at link time.
//
// V provides: Reg, Mask, L (lanes), zero(), set1(f), load(p), loadm(p, m), store(p, r), storem(p, r, m),
// fma(a, b, c) = a·b + c, mask(n) (the first n lanes), add_reduce4(dst, a, b, c, d) (dst[i] += Σ lanes of
// the i-th register), add_reduce1(dst, a).
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace sift {
namespace sparse {
namespace SIFT_ISA {
namespace {

using Reg = V::Reg;
using Mask = V::Mask;
constexpr int L = V::L;

// [b, e) of n items for thread t of nt.
inline void split(int64_t n, int t, int nt, int64_t* b, int64_t* e) {
  *b = n * t / nt;
  *e = n * (t + 1) / nt;
}

template <bool TAIL>
inline Reg ld(const float* p, int t, int last, Mask m) {
  return (TAIL && t == last) ? V::loadm(p, m) : V::load(p);
}

// ---------------------------------------------------------------------------------------------------
// Tile kernels: T vectors of one line (the last one holding only the lanes in m when TAIL).

// out[0..T·L) = acc + Σ_k val[k] · in[off[k] + ...]   (acc: a partial sum, or null for zero)
template <int T, bool TAIL>
void spmm_tile(const float* __restrict in, const int32_t* __restrict off, const float* __restrict val, int k0, int k1,
               const float* acc_in, float* out, int rem) {
  const Mask m = V::mask(rem);
  Reg acc[T];
#pragma GCC unroll 32
  for (int t = 0; t < T; t++) acc[t] = acc_in ? ld<TAIL>(acc_in + t * L, t, T - 1, m) : V::zero();
  for (int k = k0; k < k1; k++) {
    const Reg v = V::set1(val[k]);
    const float* p = in + off[k];
#pragma GCC unroll 32
    for (int t = 0; t < T; t++) acc[t] = V::fma(v, ld<TAIL>(p + t * L, t, T - 1, m), acc[t]);
  }
#pragma GCC unroll 32
  for (int t = 0; t < T; t++) {
    if (TAIL && t == T - 1) V::storem(out + t * L, acc[t], m);
    else V::store(out + t * L, acc[t]);
  }
}

// dw[k] += Σ_t g[t] · in[off[k] + t·L] for the tile's dy vectors g (masked lanes are zero in g and in the loads).
template <int T, bool TAIL>
void sddmm_tile(const float* __restrict in, const int32_t* __restrict off, int k0, int k1, const float* __restrict dy,
                float* __restrict dw, int rem) {
  const Mask m = V::mask(rem);
  Reg g[T];
#pragma GCC unroll 32
  for (int t = 0; t < T; t++) g[t] = ld<TAIL>(dy + t * L, t, T - 1, m);
  int k = k0;
  for (; k + 4 <= k1; k += 4) {
    const float* p0 = in + off[k];
    const float* p1 = in + off[k + 1];
    const float* p2 = in + off[k + 2];
    const float* p3 = in + off[k + 3];
    Reg a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
#pragma GCC unroll 32
    for (int t = 0; t < T; t++) {
      a0 = V::fma(g[t], ld<TAIL>(p0 + t * L, t, T - 1, m), a0);
      a1 = V::fma(g[t], ld<TAIL>(p1 + t * L, t, T - 1, m), a1);
      a2 = V::fma(g[t], ld<TAIL>(p2 + t * L, t, T - 1, m), a2);
      a3 = V::fma(g[t], ld<TAIL>(p3 + t * L, t, T - 1, m), a3);
    }
    V::add_reduce4(dw + k, a0, a1, a2, a3);
  }
  for (; k < k1; k++) {
    const float* p = in + off[k];
    Reg a = V::zero();
#pragma GCC unroll 32
    for (int t = 0; t < T; t++) a = V::fma(g[t], ld<TAIL>(p + t * L, t, T - 1, m), a);
    V::add_reduce1(dw + k, a);
  }
}

// out (+)= Σ_k val[k] · in[off[k] + ...] and dw[k] += Σ_t in[off[k] + t·L] · aux[t], one load of in for both.
template <int T, bool TAIL>
void fused_tile(const float* __restrict in, const int32_t* __restrict off, const float* __restrict val, int k0, int k1,
                const float* aux, const float* acc_in, float* out, float* __restrict dw, int rem) {
  const Mask m = V::mask(rem);
  Reg acc[T], xa[T];
#pragma GCC unroll 32
  for (int t = 0; t < T; t++) {
    acc[t] = acc_in ? ld<TAIL>(acc_in + t * L, t, T - 1, m) : V::zero();
    xa[t] = ld<TAIL>(aux + t * L, t, T - 1, m);
  }
  int k = k0;
  for (; k + 4 <= k1; k += 4) {
    Reg d[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
      const Reg v = V::set1(val[k + j]);
      const float* p = in + off[k + j];
      Reg dj = V::zero();
#pragma GCC unroll 32
      for (int t = 0; t < T; t++) {
        const Reg y = ld<TAIL>(p + t * L, t, T - 1, m);
        acc[t] = V::fma(v, y, acc[t]);
        dj = V::fma(y, xa[t], dj);
      }
      d[j] = dj;
    }
    V::add_reduce4(dw + k, d[0], d[1], d[2], d[3]);
  }
  for (; k < k1; k++) {
    const Reg v = V::set1(val[k]);
    const float* p = in + off[k];
    Reg dj = V::zero();
#pragma GCC unroll 32
    for (int t = 0; t < T; t++) {
      const Reg y = ld<TAIL>(p + t * L, t, T - 1, m);
      acc[t] = V::fma(v, y, acc[t]);
      dj = V::fma(y, xa[t], dj);
    }
    V::add_reduce1(dw + k, dj);
  }
#pragma GCC unroll 32
  for (int t = 0; t < T; t++) {
    if (TAIL && t == T - 1) V::storem(out + t * L, acc[t], m);
    else V::store(out + t * L, acc[t]);
  }
}

// Function tables indexed by the tile's vector count - 1, without and with a masked last vector.
using SpmmFn = void (*)(const float*, const int32_t*, const float*, int, int, const float*, float*, int);
using SddmmFn = void (*)(const float*, const int32_t*, int, int, const float*, float*, int);
using FusedFn = void (*)(const float*, const int32_t*, const float*, int, int, const float*, const float*, float*, float*, int);

template <bool TAIL, size_t... I>
constexpr std::array<SpmmFn, sizeof...(I)> spmm_fns(std::index_sequence<I...>) {
  return {&spmm_tile<int(I) + 1, TAIL>...};
}
template <bool TAIL, size_t... I>
constexpr std::array<SddmmFn, sizeof...(I)> sddmm_fns(std::index_sequence<I...>) {
  return {&sddmm_tile<int(I) + 1, TAIL>...};
}
template <bool TAIL, size_t... I>
constexpr std::array<FusedFn, sizeof...(I)> fused_fns(std::index_sequence<I...>) {
  return {&fused_tile<int(I) + 1, TAIL>...};
}

constexpr auto kSpmm = spmm_fns<false>(std::make_index_sequence<TMAX_SPMM>());
constexpr auto kSpmmTail = spmm_fns<true>(std::make_index_sequence<TMAX_SPMM>());
constexpr auto kSddmm = sddmm_fns<false>(std::make_index_sequence<TMAX_SDDMM>());
constexpr auto kSddmmTail = sddmm_fns<true>(std::make_index_sequence<TMAX_SDDMM>());
constexpr auto kFused = fused_fns<false>(std::make_index_sequence<TMAX_FUSED>());
constexpr auto kFusedTail = fused_fns<true>(std::make_index_sequence<TMAX_FUSED>());

// One tile of a line: positions [j0, j0 + n) as nv vectors, the last with `rem` lanes (0 = full).
struct Tile {
  int line;
  int j0;
  int nv;
  int rem;
};

inline Tile tile_of(const Pass& p, int tmax, int64_t i) {
  const int per_line = (p.len + tmax * L - 1) / (tmax * L);
  Tile t;
  t.line = static_cast<int>(i / per_line);
  t.j0 = static_cast<int>(i % per_line) * tmax * L;
  const int n = std::min(tmax * L, p.len - t.j0);
  t.nv = (n + L - 1) / L;
  t.rem = n % L;
  return t;
}

// Vectors per tile: the kernel's most, or fewer when the pass was built with a smaller tile.
inline int tile_vectors(const Pass& p, int tmax) {
  return p.tile_vectors > 0 && p.tile_vectors < tmax ? p.tile_vectors : tmax;
}

inline int64_t tile_count(const Pass& p, int tmax) {
  if (p.len <= 0 || p.lines <= 0) return 0;
  return int64_t(p.lines) * ((p.len + tmax * L - 1) / (tmax * L));
}

// ---------------------------------------------------------------------------------------------------
// Sweeps: threads take contiguous runs of tiles (each thread's slice of the input stays in its cache);
// per tile, input-channel blocks outermost, rows inside. With several blocks, a row's partial sums wait
// in a per-thread scratch laid out contiguously (the output rows are often 2^k floats apart and would
// all fall into the same cache sets), and so do the tile's dy / aux rows that every block rereads.

// Floats of scratch one thread needs: partial sums and one operand tile for every row of a block.
inline int64_t scratch_per_thread(const Pass& p) { return p.ncb > 1 ? 2 * int64_t(p.rows_per_block) * TMAX * L : 0; }

// Copies the tile's n floats of each row (rows `stride` apart) to consecutive slots of tf floats.
inline void gather_rows(const float* src, int64_t stride, int rows, int n, int tf, float* dst) {
  for (int r = 0; r < rows; r++) std::memcpy(dst + int64_t(r) * tf, src + r * stride, sizeof(float) * n);
}

void spmm(const Pass& p, const float* in, float* out, float* scratch) {
  const int tv = tile_vectors(p, TMAX_SPMM);
  const int64_t tiles = tile_count(p, tv);
  if (tiles == 0) return;
  const int tf = TMAX * L;
  const int ob = p.rows_per_block;
#pragma omp parallel
  {
    const int t_id = omp_get_thread_num();
    float* part = scratch + t_id * scratch_per_thread(p);
    int64_t b, e;
    split(tiles, t_id, omp_get_num_threads(), &b, &e);
    for (int64_t i = b; i < e; i++) {
      const Tile t = tile_of(p, tv, i);
      const SpmmFn fn = t.rem ? kSpmmTail[t.nv - 1] : kSpmm[t.nv - 1];
      const float* src = in + int64_t(t.line) * p.in_line + t.j0;
      float* dst = out + p.out_base + int64_t(t.line) * p.out_line + t.j0;
      for (int r0 = 0; r0 < p.rows; r0 += ob) {
        const int r1 = std::min(p.rows, r0 + ob);
        for (int cb = 0; cb < p.ncb; cb++) {
          const bool first = cb == 0, last = cb == p.ncb - 1;
          for (int r = r0; r < r1; r++) {
            const int k0 = p.seg[size_t(r) * p.ncb + cb], k1 = p.seg[size_t(r) * p.ncb + cb + 1];
            float* pr = part + int64_t(r - r0) * tf;
            if (k0 == k1 && !first && !last) continue;
            fn(src, p.off.data(), p.val.data(), k0, k1, first ? nullptr : pr, last ? dst + r * p.out_row : pr, t.rem);
          }
        }
      }
    }
  }
}

// Per-thread partial dW rows, then their sum into dw.
void reduce_partials(const Pass& p, int nt, const float* partial, float* dw) {
  const int64_t nnz = p.nnz();
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < nnz; k++) {
    float s = 0;
    for (int t = 0; t < nt; t++) s += partial[t * nnz + k];
    dw[k] += s;
  }
}

void sddmm(const Pass& p, const float* in, const float* dy, float* dw, float* partial, float* scratch) {
  const int tv = tile_vectors(p, TMAX_SDDMM);
  const int64_t tiles = tile_count(p, tv);
  const int64_t nnz = p.nnz();
  const int tf = TMAX * L;
  int nt = 1;
#pragma omp parallel
  {
    const int t_id = omp_get_thread_num();
#pragma omp single
    nt = omp_get_num_threads();
    float* part = partial + t_id * nnz;
    float* rows = scratch + t_id * scratch_per_thread(p);
    std::fill(part, part + nnz, 0.0f);
    int64_t b, e;
    split(tiles, t_id, omp_get_num_threads(), &b, &e);
    for (int64_t i = b; i < e; i++) {
      const Tile t = tile_of(p, tv, i);
      const SddmmFn fn = t.rem ? kSddmmTail[t.nv - 1] : kSddmm[t.nv - 1];
      const float* src = in + int64_t(t.line) * p.in_line + t.j0;
      const float* g = dy + p.out_base + int64_t(t.line) * p.out_line + t.j0;
      for (int r0 = 0; r0 < p.rows; r0 += p.rows_per_block) {
        const int r1 = std::min(p.rows, r0 + p.rows_per_block);
        const float* gb = g + r0 * p.out_row;
        int64_t g_stride = p.out_row;
        if (p.ncb > 1) {
          gather_rows(gb, p.out_row, r1 - r0, (t.nv - 1) * L + (t.rem ? t.rem : L), tf, rows);
          gb = rows;
          g_stride = tf;
        }
        for (int cb = 0; cb < p.ncb; cb++) {
          for (int r = r0; r < r1; r++) {
            const int k0 = p.seg[size_t(r) * p.ncb + cb], k1 = p.seg[size_t(r) * p.ncb + cb + 1];
            if (k0 == k1) continue;
            fn(src, p.off.data(), k0, k1, gb + (r - r0) * g_stride, part, t.rem);
          }
        }
      }
    }
  }
  reduce_partials(p, nt, partial, dw);
}

void fused(const Pass& p, const float* in, const float* aux, float* out, float* dw, float* partial, float* scratch) {
  const int tv = tile_vectors(p, TMAX_FUSED);
  const int64_t tiles = tile_count(p, tv);
  const int64_t nnz = p.nnz();
  const int tf = TMAX * L;
  int nt = 1;
#pragma omp parallel
  {
    const int t_id = omp_get_thread_num();
#pragma omp single
    nt = omp_get_num_threads();
    float* part = partial + t_id * nnz;
    float* sums = scratch + t_id * scratch_per_thread(p);
    float* rows = sums + int64_t(p.rows_per_block) * tf;
    std::fill(part, part + nnz, 0.0f);
    int64_t b, e;
    split(tiles, t_id, omp_get_num_threads(), &b, &e);
    for (int64_t i = b; i < e; i++) {
      const Tile t = tile_of(p, tv, i);
      const FusedFn fn = t.rem ? kFusedTail[t.nv - 1] : kFused[t.nv - 1];
      const float* src = in + int64_t(t.line) * p.in_line + t.j0;
      const int64_t at = p.out_base + int64_t(t.line) * p.out_line + t.j0;
      for (int r0 = 0; r0 < p.rows; r0 += p.rows_per_block) {
        const int r1 = std::min(p.rows, r0 + p.rows_per_block);
        const float* xa = aux + at + r0 * p.out_row;
        int64_t xa_stride = p.out_row;
        if (p.ncb > 1) {
          gather_rows(xa, p.out_row, r1 - r0, (t.nv - 1) * L + (t.rem ? t.rem : L), tf, rows);
          xa = rows;
          xa_stride = tf;
        }
        for (int cb = 0; cb < p.ncb; cb++) {
          const bool first = cb == 0, last = cb == p.ncb - 1;
          for (int r = r0; r < r1; r++) {
            const int k0 = p.seg[size_t(r) * p.ncb + cb], k1 = p.seg[size_t(r) * p.ncb + cb + 1];
            float* pr = sums + int64_t(r - r0) * tf;
            if (k0 == k1 && !first && !last) continue;
            fn(src, p.off.data(), p.val.data(), k0, k1, xa + (r - r0) * xa_stride, first ? nullptr : pr,
               last ? out + at + r * p.out_row : pr, part, t.rem);
          }
        }
      }
    }
  }
  reduce_partials(p, nt, partial, dw);
}

// ---------------------------------------------------------------------------------------------------
// Staging between dense NHWC / CHWN tensors and grid buffers (padded, stride-phase-split CHWN).

// dst[p·dstride + n] = src[n·sstride + p] for n < N, p < P: 8×8 blocks transposed in registers (V::transpose8),
// the edges element by element.
void transpose_block(int N, int P, const float* __restrict src, int64_t sstride, float* __restrict dst, int64_t dstride) {
  const int n8 = N & ~7, p8 = P & ~7;
  for (int p0 = 0; p0 < p8; p0 += 8)
    for (int n0 = 0; n0 < n8; n0 += 8) V::transpose8(src + n0 * sstride + p0, sstride, dst + p0 * dstride + n0, dstride);
  for (int p = 0; p < P; p++) {
    float* d = dst + p * dstride;
    for (int n = (p < p8 ? n8 : 0); n < N; n++) d[n] = src[n * sstride + p];
  }
}

void stage(const Grid& g, const float* src, bool nhwc, float* dst) {
  const int64_t NP = int64_t(g.pa) * g.pb * g.hq;  // destination rows per plane
  const int64_t row_floats = int64_t(g.wq) * g.N;
  // Source pixel of destination slot (ph, qh, qw), or -1 for padding.
  const auto src_row = [&](int ph, int qh) { return qh * g.sh + ph / g.pb - g.top; };
  const auto src_col = [&](int ph, int qw) { return qw * g.sw + ph % g.pb - g.left; };
  if (nhwc) {
    const int64_t pixels = NP * g.wq;
#pragma omp parallel for schedule(static)
    for (int64_t px = 0; px < pixels; px++) {
      const int64_t row = px / g.wq;
      const int ph = static_cast<int>(row / g.hq), qh = static_cast<int>(row % g.hq), qw = static_cast<int>(px % g.wq);
      const int h = src_row(ph, qh), w = src_col(ph, qw);
      float* d = dst + ph * g.phase + (int64_t(qh) * g.wq + qw) * g.N;
      if (h < 0 || h >= g.H || w < 0 || w >= g.W) {
        for (int p = 0; p < g.P; p++) std::memset(d + p * g.plane, 0, sizeof(float) * g.N);
      } else {
        transpose_block(g.N, g.P, src + (int64_t(h) * g.W + w) * g.P, int64_t(g.H) * g.W * g.P, d, g.plane);
      }
    }
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t pr = 0; pr < int64_t(g.P) * NP; pr++) {
    const int p = static_cast<int>(pr / NP);
    const int64_t row = pr % NP;
    const int ph = static_cast<int>(row / g.hq), qh = static_cast<int>(row % g.hq);
    const int h = src_row(ph, qh);
    float* d = dst + p * g.plane + ph * g.phase + int64_t(qh) * row_floats;
    if (h < 0 || h >= g.H) {
      std::memset(d, 0, sizeof(float) * row_floats);
      continue;
    }
    const float* s = src + (int64_t(p) * g.H + h) * g.W * g.N;
    if (g.sw == 1) {
      // One run: left padding, the row, right padding (columns past wq are never read).
      const int lead = std::min(g.left, g.wq);
      const int body = std::max(0, std::min(g.W, g.wq - lead));
      std::memset(d, 0, sizeof(float) * lead * g.N);
      std::memcpy(d + int64_t(lead) * g.N, s, sizeof(float) * body * g.N);
      std::memset(d + int64_t(lead + body) * g.N, 0, sizeof(float) * (g.wq - lead - body) * g.N);
      continue;
    }
    for (int qw = 0; qw < g.wq; qw++) {
      const int w = src_col(ph, qw);
      float* dq = d + int64_t(qw) * g.N;
      if (w < 0 || w >= g.W) std::fill(dq, dq + g.N, 0.0f);
      else std::copy(s + int64_t(w) * g.N, s + int64_t(w + 1) * g.N, dq);
    }
  }
}

void unstage(const Grid& g, const float* src, float* dst, bool nhwc) {
  const auto slot = [&](int h, int w) {
    const int hp = h + g.top, wp = w + g.left;
    return src + ((hp % g.sh) * g.pb + wp % g.sw) * g.phase + (int64_t(hp / g.sh) * g.wq + wp / g.sw) * g.N;
  };
  if (nhwc) {
    const int64_t pixels = int64_t(g.H) * g.W;
#pragma omp parallel for schedule(static)
    for (int64_t px = 0; px < pixels; px++) {
      const int h = static_cast<int>(px / g.W), w = static_cast<int>(px % g.W);
      transpose_block(g.P, g.N, slot(h, w), g.plane, dst + px * g.P, int64_t(g.H) * g.W * g.P);
    }
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t pr = 0; pr < int64_t(g.P) * g.H; pr++) {
    const int p = static_cast<int>(pr / g.H), h = static_cast<int>(pr % g.H);
    float* d = dst + pr * g.W * g.N;
    if (g.sw == 1) {
      std::memcpy(d, slot(h, 0) + p * g.plane, sizeof(float) * g.W * g.N);
      continue;
    }
    for (int w = 0; w < g.W; w++) std::copy(slot(h, w) + p * g.plane, slot(h, w) + p * g.plane + g.N, d + int64_t(w) * g.N);
  }
}

}  // namespace

const KernelTable& table() {
  static const KernelTable t{L, TMAX, &spmm, &sddmm, &fused, &stage, &unstage};
  return t;
}

}  // namespace SIFT_ISA
}  // namespace sparse
}  // namespace sift
