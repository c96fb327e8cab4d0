// Data-movement kernels of the native backend: transpose, tile, gather, unsorted segment sum. OpenMP over
// output rows; innermost runs are block copies.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels.h"

namespace sift {
namespace SIFT_ISA_NS {

namespace {

constexpr int64_t kParallelBytes = 1 << 17;

// Row-major element strides of dims.
std::vector<int64_t> strides_of(int rank, const int64_t* dims) {
  std::vector<int64_t> s(rank, 1);
  for (int d = rank - 2; d >= 0; d--) s[d] = s[d + 1] * dims[d + 1];
  return s;
}

// Input offset (elements) of output row r, the output's leading `rank - 1` dims being odims with input
// strides istr (per output dim).
inline int64_t row_offset(int64_t r, int rank, const int64_t* odims, const int64_t* istr) {
  int64_t off = 0;
  for (int d = rank - 2; d >= 0; d--) {
    const int64_t i = r % odims[d];
    r /= odims[d];
    off += i * istr[d];
  }
  return off;
}

template <typename T>
void transpose_typed(int rank, const int64_t* dims, const int* perm, const T* x, T* out) {
  const std::vector<int64_t> in_str = strides_of(rank, dims);
  std::vector<int64_t> odims(rank), istr(rank);
  for (int d = 0; d < rank; d++) {
    odims[d] = dims[perm[d]];
    istr[d] = in_str[perm[d]];
  }
  int64_t total = 1;
  for (int d = 0; d < rank; d++) total *= odims[d];
  if (total == 0) return;
  const int64_t inner = odims[rank - 1], rows = total / inner, sj = istr[rank - 1];
  const bool parallel = total * int64_t(sizeof(T)) >= kParallelBytes;
  if (sj == 1) {
    // The last axis stays last: one block copy per output row.
    #pragma omp parallel for schedule(static) if (parallel)
    for (int64_t r = 0; r < rows; r++) std::memcpy(out + r * inner, x + row_offset(r, rank, odims.data(), istr.data()), sizeof(T) * inner);
    return;
  }
  // The input's last axis (stride 1) is output axis q: transpose [odims[q], inner] tiles so that both the
  // reads (along q) and the writes (along the last axis) stay in cache lines.
  int q = 0;
  while (istr[q] != 1) q++;
  const int64_t nq = odims[q], oq = strides_of(rank, odims.data())[q];
  constexpr int64_t kTile = 32;
  // Outer rows: every output row whose index along q is 0.
  std::vector<int64_t> odims_nq(odims);
  odims_nq[q] = 1;
  const int64_t outer = rows / nq;
  const int64_t tiles_q = (nq + kTile - 1) / kTile, tiles_j = (inner + kTile - 1) / kTile;
  #pragma omp parallel for collapse(2) schedule(static) if (parallel)
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t tq = 0; tq < tiles_q; tq++) {
      const int64_t base_in = row_offset(o, rank, odims_nq.data(), istr.data());
      // Output offset of outer row o (index along q = 0).
      int64_t rem = o, base_out = 0, step = inner;
      for (int d = rank - 2; d >= 0; d--) {
        const int64_t i = rem % odims_nq[d];
        rem /= odims_nq[d];
        base_out += i * step;
        step *= odims[d];
      }
      const int64_t q0 = tq * kTile, q1 = std::min(nq, q0 + kTile);
      for (int64_t tj = 0; tj < tiles_j; tj++) {
        const int64_t j0 = tj * kTile, j1 = std::min(inner, j0 + kTile);
        for (int64_t iq = q0; iq < q1; iq++) {
          const T* src = x + base_in + iq;  // istr[q] == 1
          T* dst = out + base_out + iq * oq;
          for (int64_t j = j0; j < j1; j++) dst[j] = src[j * sj];
        }
      }
    }
  }
}

}  // namespace

void transpose(int bytes, int rank, const int64_t* dims, const int* perm, const void* x, void* out) {
  switch (bytes) {
    case 1: return transpose_typed(rank, dims, perm, static_cast<const uint8_t*>(x), static_cast<uint8_t*>(out));
    case 2: return transpose_typed(rank, dims, perm, static_cast<const uint16_t*>(x), static_cast<uint16_t*>(out));
    case 4: return transpose_typed(rank, dims, perm, static_cast<const uint32_t*>(x), static_cast<uint32_t*>(out));
    default: return transpose_typed(rank, dims, perm, static_cast<const uint64_t*>(x), static_cast<uint64_t*>(out));
  }
}

void tile(int bytes, int rank, const int64_t* dims, const int64_t* reps, const void* x_, void* out_) {
  const uint8_t* x = static_cast<const uint8_t*>(x_);
  uint8_t* out = static_cast<uint8_t*>(out_);
  std::vector<int64_t> odims(rank);
  int64_t total = 1;
  for (int d = 0; d < rank; d++) total *= (odims[d] = dims[d] * reps[d]);
  if (total == 0) return;
  const std::vector<int64_t> in_str = strides_of(rank, dims);
  const int64_t inner = dims[rank - 1], oinner = odims[rank - 1], rows = total / oinner;
  #pragma omp parallel for schedule(static) if (total * bytes >= kParallelBytes)
  for (int64_t r = 0; r < rows; r++) {
    int64_t rem = r, off = 0;
    for (int d = rank - 2; d >= 0; d--) {
      const int64_t i = rem % odims[d];
      rem /= odims[d];
      off += (i % dims[d]) * in_str[d];
    }
    uint8_t* dst = out + r * oinner * bytes;
    for (int64_t k = 0; k < reps[rank - 1]; k++) std::memcpy(dst + k * inner * bytes, x + off * bytes, size_t(inner * bytes));
  }
}

bool gather(int bytes, int64_t outer, int64_t axis, int64_t inner, const void* x_, const int32_t* idx, int64_t n_idx, void* out_) {
  for (int64_t i = 0; i < n_idx; i++) {
    if (idx[i] < 0 || idx[i] >= axis) return false;
  }
  const uint8_t* x = static_cast<const uint8_t*>(x_);
  uint8_t* out = static_cast<uint8_t*>(out_);
  const int64_t row = inner * bytes;
  #pragma omp parallel for collapse(2) schedule(static) if (outer * n_idx * row >= kParallelBytes)
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t i = 0; i < n_idx; i++) std::memcpy(out + (o * n_idx + i) * row, x + (o * axis + idx[i]) * row, size_t(row));
  }
  return true;
}

namespace {
template <typename T>
void segment_sum_typed(int64_t rows, int64_t inner, const T* x, const int32_t* ids, int64_t segments, T* out) {
  std::fill(out, out + segments * inner, T(0));
  // Each thread owns a slice of the columns: no two threads write the same output.
  const int T_ = omp_get_max_threads();
  const int use = rows * inner >= kParallelBytes / 4 ? int(std::min<int64_t>(T_, std::max<int64_t>(1, inner / 16))) : 1;
  #pragma omp parallel num_threads(use)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    const int64_t j0 = inner * t / n, j1 = inner * (t + 1) / n;
    for (int64_t r = 0; r < rows; r++) {
      const int32_t s = ids[r];
      if (s < 0 || s >= segments) continue;
      const T* __restrict src = x + r * inner;
      T* __restrict dst = out + int64_t(s) * inner;
      #pragma omp simd
      for (int64_t j = j0; j < j1; j++) dst[j] = wrapping_add(dst[j], src[j]);
    }
  }
}
}  // namespace

void segment_sum(bool int32, int64_t rows, int64_t inner, const void* x, const int32_t* ids, int64_t segments, void* out) {
  if (int32) segment_sum_typed(rows, inner, static_cast<const int32_t*>(x), ids, segments, static_cast<int32_t*>(out));
  else segment_sum_typed(rows, inner, static_cast<const float*>(x), ids, segments, static_cast<float*>(out));
}

namespace {
template <typename T>
void copy_block_typed(int rank, const int64_t* dims, const T* x, const int64_t* xs, T* out, const int64_t* os) {
  int64_t total = 1;
  for (int d = 0; d < rank; d++) total *= dims[d];
  if (total == 0) return;
  if (rank == 0) {
    out[0] = x[0];
    return;
  }
  const int64_t inner = dims[rank - 1], rows = total / inner, sx = xs[rank - 1], so = os[rank - 1];
  #pragma omp parallel for schedule(static) if (total * int64_t(sizeof(T)) >= kParallelBytes)
  for (int64_t r = 0; r < rows; r++) {
    int64_t rem = r, ox = 0, oo = 0;
    for (int d = rank - 2; d >= 0; d--) {
      const int64_t i = rem % dims[d];
      rem /= dims[d];
      ox += i * xs[d];
      oo += i * os[d];
    }
    const T* src = x + ox;
    T* dst = out + oo;
    if (sx == 1 && so == 1) std::memcpy(dst, src, sizeof(T) * inner);
    else
      for (int64_t j = 0; j < inner; j++) dst[j * so] = src[j * sx];
  }
}
}  // namespace

void copy_block(int bytes, int rank, const int64_t* dims, const void* x, int64_t x_offset, const int64_t* x_strides, void* out,
                int64_t out_offset, const int64_t* out_strides) {
  switch (bytes) {
    case 1:
      return copy_block_typed(rank, dims, static_cast<const uint8_t*>(x) + x_offset, x_strides, static_cast<uint8_t*>(out) + out_offset, out_strides);
    case 2:
      return copy_block_typed(rank, dims, static_cast<const uint16_t*>(x) + x_offset, x_strides, static_cast<uint16_t*>(out) + out_offset, out_strides);
    case 4:
      return copy_block_typed(rank, dims, static_cast<const uint32_t*>(x) + x_offset, x_strides, static_cast<uint32_t*>(out) + out_offset, out_strides);
    default:
      return copy_block_typed(rank, dims, static_cast<const uint64_t*>(x) + x_offset, x_strides, static_cast<uint64_t*>(out) + out_offset, out_strides);
  }
}

void one_hot(int dtype, int64_t n, const int32_t* idx, int64_t depth, double on, double off, void* out) {
  auto fill = [&](auto* o) {
    using T = std::remove_pointer_t<decltype(o)>;
    const T von = T(on), voff = T(off);
    #pragma omp parallel for schedule(static) if (n * depth >= kParallelBytes / 4)
    for (int64_t i = 0; i < n; i++) {
      T* row = o + i * depth;
      for (int64_t j = 0; j < depth; j++) row[j] = voff;
      if (idx[i] >= 0 && idx[i] < depth) row[idx[i]] = von;
    }
  };
  if (dtype == 0) fill(static_cast<float*>(out));
  else fill(static_cast<int32_t*>(out));
}

void im2col(const ConvGeometry& g, const float* x, int n0, int n1, float* cols) {
  const int64_t patch = int64_t(g.KH) * g.KW * g.C;
  const int64_t rows = int64_t(n1 - n0) * g.OH * g.OW;
  #pragma omp parallel for schedule(static) if (rows * patch * 4 >= kParallelBytes)
  for (int64_t r = 0; r < rows; r++) {
    const int n = n0 + int(r / (int64_t(g.OH) * g.OW));
    const int oh = int(r / g.OW % g.OH), ow = int(r % g.OW);
    float* row = cols + r * patch;
    for (int a = 0; a < g.KH; a++) {
      const int y = oh * g.SH - g.PT + a * g.DH;
      for (int b = 0; b < g.KW; b++) {
        const int c = ow * g.SW - g.PL + b * g.DW;
        float* dst = row + (int64_t(a) * g.KW + b) * g.C;
        if (y < 0 || y >= g.H || c < 0 || c >= g.W) std::memset(dst, 0, sizeof(float) * g.C);
        else std::memcpy(dst, x + ((int64_t(n) * g.H + y) * g.W + c) * g.C, sizeof(float) * g.C);
      }
    }
  }
}

}  // namespace SIFT_ISA_NS
}  // namespace sift
