// The sparse kernels, written once over a vector type V and compiled once per ISA: each of
// sparse_avx512.cc, sparse_avx2.cc and sparse_scalar.cc defines SIFT_ISA (a namespace name), a struct V
// and the vectors per tile of each kernel (TMAX_SPMM, TMAX_SDDMM, TMAX_FUSED; TMAX_FUSED_PAIR for a fused
// tile of two short lines; TMAX, the largest), then includes this file. Everything here lives in that
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

// A tile: R lines of T / R vectors each (R = 2 blocks two short lines, e.g. the 4×4 stage's 8-vector
// lines on AVX-512, so that every non-zero feeds T FMAs and one dW reduction covers both lines). Vector t
// lies at line t / (T / R), position t % (T / R); with TAIL, each line's last vector holds the lanes in m.
// Operands: `in` and the output / dy / aux rows are `ils`, `ols`, `xls` floats between lines; partial sums
// (acc_in) are contiguous.
template <int T, int R>
inline int64_t at(int t, int64_t ls) {
  return (t / (T / R)) * ls + (t % (T / R)) * L;
}

template <int T, int R, bool TAIL>
inline Reg ld(const float* p, int t, int64_t ls, Mask m) {
  return (TAIL && t % (T / R) == T / R - 1) ? V::loadm(p + at<T, R>(t, ls), m) : V::load(p + at<T, R>(t, ls));
}

template <int T, int R, bool TAIL>
inline void st(float* p, int t, int64_t ls, Reg r, Mask m) {
  if (TAIL && t % (T / R) == T / R - 1) V::storem(p + at<T, R>(t, ls), r, m);
  else V::store(p + at<T, R>(t, ls), r);
}

// Floats between the lines of a tile's contiguous partial sums.
template <int T, int R>
constexpr int64_t kPartLine = (T / R) * L;

// ---------------------------------------------------------------------------------------------------
// Tile kernels.

// out[0..T) = acc + Σ_k val[k] · in[off[k] + ...]   (acc: contiguous partial sums, or null for zero)
template <int T, int R, bool TAIL>
void spmm_tile(const float* __restrict in, const int32_t* __restrict off, const float* __restrict val, int k0, int k1,
               const float* acc_in, float* out, int rem, int64_t ils, int64_t ols, int64_t) {
  const Mask m = V::mask(rem);
  Reg acc[T];
#pragma GCC unroll 32
  for (int t = 0; t < T; t++) acc[t] = acc_in ? ld<T, R, TAIL>(acc_in, t, kPartLine<T, R>, m) : V::zero();
  for (int k = k0; k < k1; k++) {
    const Reg v = V::set1(val[k]);
    const float* p = in + off[k];
#pragma GCC unroll 32
    for (int t = 0; t < T; t++) acc[t] = V::fma(v, ld<T, R, TAIL>(p, t, ils, m), acc[t]);
  }
#pragma GCC unroll 32
  for (int t = 0; t < T; t++) st<T, R, TAIL>(out, t, ols, acc[t], m);
}

// dw[k] += Σ_t g[t] · in[off[k] + ...] for the tile's dy vectors g (masked lanes are zero in g and in the loads).
template <int T, int R, bool TAIL>
void sddmm_tile(const float* __restrict in, const int32_t* __restrict off, int k0, int k1, const float* __restrict dy,
                float* __restrict dw, int rem, int64_t ils, int64_t xls) {
  const Mask m = V::mask(rem);
  Reg g[T];
#pragma GCC unroll 32
  for (int t = 0; t < T; t++) g[t] = ld<T, R, TAIL>(dy, t, xls, m);
  int k = k0;
  for (; k + 4 <= k1; k += 4) {
    const float* p0 = in + off[k];
    const float* p1 = in + off[k + 1];
    const float* p2 = in + off[k + 2];
    const float* p3 = in + off[k + 3];
    Reg a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
#pragma GCC unroll 32
    for (int t = 0; t < T; t++) {
      a0 = V::fma(g[t], ld<T, R, TAIL>(p0, t, ils, m), a0);
      a1 = V::fma(g[t], ld<T, R, TAIL>(p1, t, ils, m), a1);
      a2 = V::fma(g[t], ld<T, R, TAIL>(p2, t, ils, m), a2);
      a3 = V::fma(g[t], ld<T, R, TAIL>(p3, t, ils, m), a3);
    }
    V::add_reduce4(dw + k, a0, a1, a2, a3);
  }
  for (; k < k1; k++) {
    const float* p = in + off[k];
    Reg a = V::zero();
#pragma GCC unroll 32
    for (int t = 0; t < T; t++) a = V::fma(g[t], ld<T, R, TAIL>(p, t, ils, m), a);
    V::add_reduce1(dw + k, a);
  }
}

// out (+)= Σ_k val[k] · in[off[k] + ...] and dw[k] += Σ_t in[off[k] + ...] · aux[t], one load of in for both.
template <int T, int R, bool TAIL>
void fused_tile(const float* __restrict in, const int32_t* __restrict off, const float* __restrict val, int k0, int k1,
                const float* aux, const float* acc_in, float* out, float* __restrict dw, int rem, int64_t ils, int64_t ols,
                int64_t xls) {
  const Mask m = V::mask(rem);
  Reg acc[T], xa[T];
#pragma GCC unroll 32
  for (int t = 0; t < T; t++) {
    acc[t] = acc_in ? ld<T, R, TAIL>(acc_in, t, kPartLine<T, R>, m) : V::zero();
    xa[t] = ld<T, R, TAIL>(aux, t, xls, m);
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
        const Reg y = ld<T, R, TAIL>(p, t, ils, m);
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
      const Reg y = ld<T, R, TAIL>(p, t, ils, m);
      acc[t] = V::fma(v, y, acc[t]);
      dj = V::fma(y, xa[t], dj);
    }
    V::add_reduce1(dw + k, dj);
  }
#pragma GCC unroll 32
  for (int t = 0; t < T; t++) st<T, R, TAIL>(out, t, ols, acc[t], m);
}

// Function tables indexed by the tile's vectors per line - 1: one line of 1..TMAX vectors (R = 1) or two
// lines of 1..TMAX / 2 (R = 2); without and with a masked last vector per line.
using SpmmFn = void (*)(const float*, const int32_t*, const float*, int, int, const float*, float*, int, int64_t, int64_t, int64_t);
using SddmmFn = void (*)(const float*, const int32_t*, int, int, const float*, float*, int, int64_t, int64_t);
using FusedFn = void (*)(const float*, const int32_t*, const float*, int, int, const float*, const float*, float*, float*, int,
                         int64_t, int64_t, int64_t);

template <int R, bool TAIL, size_t... I>
constexpr std::array<SpmmFn, sizeof...(I)> spmm_fns(std::index_sequence<I...>) {
  return {&spmm_tile<R * (int(I) + 1), R, TAIL>...};
}
template <int R, bool TAIL, size_t... I>
constexpr std::array<SddmmFn, sizeof...(I)> sddmm_fns(std::index_sequence<I...>) {
  return {&sddmm_tile<R * (int(I) + 1), R, TAIL>...};
}
template <int R, bool TAIL, size_t... I>
constexpr std::array<FusedFn, sizeof...(I)> fused_fns(std::index_sequence<I...>) {
  return {&fused_tile<R * (int(I) + 1), R, TAIL>...};
}

// [R - 1][TAIL] tables; entry v - 1 takes v vectors per line.
template <typename Fn>
struct Table {
  std::array<Fn, TMAX> fn[2][2];
  Fn get(int lines, int nv, int rem) const { return fn[lines - 1][rem ? 1 : 0][nv - 1]; }
};

template <typename Fn, size_t N1, size_t N2>
constexpr Table<Fn> table_of(std::array<Fn, N1> a, std::array<Fn, N1> at, std::array<Fn, N2> b, std::array<Fn, N2> bt) {
  Table<Fn> t{};
  for (size_t i = 0; i < N1; i++) {
    t.fn[0][0][i] = a[i];
    t.fn[0][1][i] = at[i];
  }
  for (size_t i = 0; i < N2; i++) {
    t.fn[1][0][i] = b[i];
    t.fn[1][1][i] = bt[i];
  }
  return t;
}

constexpr auto kSpmm = table_of<SpmmFn>(spmm_fns<1, false>(std::make_index_sequence<TMAX_SPMM>()),
                                        spmm_fns<1, true>(std::make_index_sequence<TMAX_SPMM>()),
                                        spmm_fns<2, false>(std::make_index_sequence<TMAX_SPMM / 2>()),
                                        spmm_fns<2, true>(std::make_index_sequence<TMAX_SPMM / 2>()));
constexpr auto kSddmm = table_of<SddmmFn>(sddmm_fns<1, false>(std::make_index_sequence<TMAX_SDDMM>()),
                                          sddmm_fns<1, true>(std::make_index_sequence<TMAX_SDDMM>()),
                                          sddmm_fns<2, false>(std::make_index_sequence<TMAX_SDDMM / 2>()),
                                          sddmm_fns<2, true>(std::make_index_sequence<TMAX_SDDMM / 2>()));
constexpr auto kFused = table_of<FusedFn>(fused_fns<1, false>(std::make_index_sequence<TMAX_FUSED>()),
                                          fused_fns<1, true>(std::make_index_sequence<TMAX_FUSED>()),
                                          fused_fns<2, false>(std::make_index_sequence<TMAX_FUSED_PAIR / 2>()),
                                          fused_fns<2, true>(std::make_index_sequence<TMAX_FUSED_PAIR / 2>()));

// One tile: `lines` lines from `line`, positions [j0, j0 + n) of each as nv vectors, the last with `rem`
// lanes (0 = full).
struct Tile {
  int line;
  int lines;
  int j0;
  int nv;
  int rem;
};

// Tiles of a pass for a kernel of at most tmax vectors: lines short enough that two fit in one tile
// (and at least two of them) go two to a tile; longer ones split into tiles of tmax vectors.
struct Tiling {
  int tmax = 1, pair = 1, per_line = 0;
  int64_t count = 0;
};

inline Tiling tiling_of(const Pass& p, int tmax, int tmax_pair) {
  Tiling t;
  t.tmax = tmax;
  if (p.len <= 0 || p.lines <= 0) return t;
  const int vectors = (p.len + L - 1) / L;
  t.pair = p.lines >= 2 && 2 * vectors <= tmax_pair ? 2 : 1;
  t.per_line = (vectors + tmax - 1) / tmax;
  t.count = t.pair == 2 ? (p.lines + 1) / 2 : int64_t(p.lines) * t.per_line;
  return t;
}

inline Tile tile_of(const Pass& p, const Tiling& tg, int64_t i) {
  Tile t;
  if (tg.pair == 2) {
    t.line = static_cast<int>(2 * i);
    t.lines = std::min(2, p.lines - t.line);
    t.j0 = 0;
  } else {
    t.line = static_cast<int>(i / tg.per_line);
    t.lines = 1;
    t.j0 = static_cast<int>(i % tg.per_line) * tg.tmax * L;
  }
  const int n = std::min(tg.tmax * L, p.len - t.j0);
  t.nv = (n + L - 1) / L;
  t.rem = n % L;
  return t;
}

// Vectors per tile: the kernel's most, or fewer when the pass was built with a smaller tile.
inline int tile_vectors(const Pass& p, int tmax) {
  return p.tile_vectors > 0 && p.tile_vectors < tmax ? p.tile_vectors : tmax;
}

// ---------------------------------------------------------------------------------------------------
// Sweeps: threads take contiguous runs of tiles (each thread's slice of the input stays in its cache);
// per tile, input-channel blocks outermost, rows inside. With several blocks, a row's partial sums wait
// in a per-thread scratch laid out contiguously (the output rows are often 2^k floats apart and would
// all fall into the same cache sets), and so do the tile's dy / aux rows that every block rereads.

// Floats of scratch one thread needs: partial sums and one operand tile for every row of a block.
inline int64_t scratch_per_thread(const Pass& p) { return p.ncb > 1 ? 2 * int64_t(p.rows_per_block) * TMAX * L : 0; }

// Copies the tile's lines (`ls` apart) of each of `rows` rows (`stride` apart) to a contiguous scratch:
// row r at r·tf, line l at l·pl, as the kernels read partial sums.
inline void gather_rows(const float* src, int64_t stride, int64_t ls, int rows, const Tile& t, int64_t pl, int tf, float* dst) {
  const int n = (t.nv - 1) * L + (t.rem ? t.rem : L);
  for (int r = 0; r < rows; r++)
    for (int l = 0; l < t.lines; l++) std::memcpy(dst + int64_t(r) * tf + l * pl, src + r * stride + l * ls, sizeof(float) * n);
}

void spmm(const Pass& p, const float* in, float* out, float* scratch) {
  const Tiling tg = tiling_of(p, tile_vectors(p, TMAX_SPMM), tile_vectors(p, TMAX_SPMM));
  if (tg.count == 0) return;
  const int tf = TMAX * L;
  const int ob = p.rows_per_block;
#pragma omp parallel
  {
    const int t_id = omp_get_thread_num();
    float* part = scratch + t_id * scratch_per_thread(p);
    int64_t b, e;
    split(tg.count, t_id, omp_get_num_threads(), &b, &e);
    for (int64_t i = b; i < e; i++) {
      const Tile t = tile_of(p, tg, i);
      const SpmmFn fn = kSpmm.get(t.lines, t.nv, t.rem);
      const int64_t pl = int64_t(t.nv) * L;
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
            fn(src, p.off.data(), p.val.data(), k0, k1, first ? nullptr : pr, last ? dst + r * p.out_row : pr, t.rem, p.in_line,
               last ? p.out_line : pl, 0);
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
  const Tiling tg = tiling_of(p, tile_vectors(p, TMAX_SDDMM), tile_vectors(p, TMAX_SDDMM));
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
    split(tg.count, t_id, omp_get_num_threads(), &b, &e);
    for (int64_t i = b; i < e; i++) {
      const Tile t = tile_of(p, tg, i);
      const SddmmFn fn = kSddmm.get(t.lines, t.nv, t.rem);
      const int64_t pl = int64_t(t.nv) * L;
      const float* src = in + int64_t(t.line) * p.in_line + t.j0;
      const float* g = dy + p.out_base + int64_t(t.line) * p.out_line + t.j0;
      for (int r0 = 0; r0 < p.rows; r0 += p.rows_per_block) {
        const int r1 = std::min(p.rows, r0 + p.rows_per_block);
        const float* gb = g + r0 * p.out_row;
        int64_t g_stride = p.out_row, g_line = p.out_line;
        if (p.ncb > 1) {
          gather_rows(gb, p.out_row, p.out_line, r1 - r0, t, pl, tf, rows);
          gb = rows;
          g_stride = tf;
          g_line = pl;
        }
        for (int cb = 0; cb < p.ncb; cb++) {
          for (int r = r0; r < r1; r++) {
            const int k0 = p.seg[size_t(r) * p.ncb + cb], k1 = p.seg[size_t(r) * p.ncb + cb + 1];
            if (k0 == k1) continue;
            fn(src, p.off.data(), k0, k1, gb + (r - r0) * g_stride, part, t.rem, p.in_line, g_line);
          }
        }
      }
    }
  }
  reduce_partials(p, nt, partial, dw);
}

void fused(const Pass& p, const float* in, const float* aux, float* out, float* dw, float* partial, float* scratch) {
  const Tiling tg = tiling_of(p, tile_vectors(p, TMAX_FUSED), tile_vectors(p, TMAX_FUSED_PAIR));
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
    split(tg.count, t_id, omp_get_num_threads(), &b, &e);
    for (int64_t i = b; i < e; i++) {
      const Tile t = tile_of(p, tg, i);
      const FusedFn fn = kFused.get(t.lines, t.nv, t.rem);
      const int64_t pl = int64_t(t.nv) * L;
      const float* src = in + int64_t(t.line) * p.in_line + t.j0;
      const int64_t at = p.out_base + int64_t(t.line) * p.out_line + t.j0;
      for (int r0 = 0; r0 < p.rows; r0 += p.rows_per_block) {
        const int r1 = std::min(p.rows, r0 + p.rows_per_block);
        const float* xa = aux + at + r0 * p.out_row;
        int64_t xa_stride = p.out_row, xa_line = p.out_line;
        if (p.ncb > 1) {
          gather_rows(xa, p.out_row, p.out_line, r1 - r0, t, pl, tf, rows);
          xa = rows;
          xa_stride = tf;
          xa_line = pl;
        }
        for (int cb = 0; cb < p.ncb; cb++) {
          const bool first = cb == 0, last = cb == p.ncb - 1;
          for (int r = r0; r < r1; r++) {
            const int k0 = p.seg[size_t(r) * p.ncb + cb], k1 = p.seg[size_t(r) * p.ncb + cb + 1];
            float* pr = sums + int64_t(r - r0) * tf;
            if (k0 == k1 && !first && !last) continue;
            fn(src, p.off.data(), p.val.data(), k0, k1, xa + (r - r0) * xa_stride, first ? nullptr : pr,
               last ? out + at + r * p.out_row : pr, part, t.rem, p.in_line, last ? p.out_line : pl, xa_line);
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
