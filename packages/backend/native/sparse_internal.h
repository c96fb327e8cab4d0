// Internals shared by the sparse plan (sparse_conv.cc) and the per-ISA kernels (sparse_simd.inl).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace sift {
namespace sparse {

// One gather-SpMM sweep:  out[r][l][j] = Σ_k val[k] · in[off[k] + l·in_line + j]  for every row r, line
// l < lines and position j < len, the non-zeros k of row r split into ncb blocks of input channels
// (seg[r·ncb + b] .. seg[r·ncb + b + 1]) so that one block's slice of the input stays in cache.
struct Pass {
  int rows = 0, ncb = 1;
  std::vector<int32_t> seg;   // rows·ncb + 1
  std::vector<int32_t> off;   // per non-zero: offset into the staged input (floats)
  std::vector<int32_t> src;   // per non-zero: its rank among the mask's non-zeros in memory order
  std::vector<float> val;     // per non-zero: value, gathered from the dense weight per call
  int rows_per_block = 1;     // rows whose partial sums share one pass over an input block
  int tile_vectors = 0;       // vectors per tile (0: the kernel's most)
  int lines = 0;
  int len = 0;                // floats per line
  int64_t in_line = 0;        // floats between lines in the input
  int64_t out_line = 0;       // ... and in the output
  int64_t out_row = 0;        // floats between rows of the output
  int64_t out_base = 0;       // offset of row 0, line 0 in the output buffer
  int64_t nnz() const { return static_cast<int64_t>(off.size()); }
};

// The 0/1 mask of a dense weight as a bitset with per-word prefix counts: the rank of a kept position
// (its index among the kept positions in memory order) in O(1), and gathers / scatters that walk the
// dense weight once, in order (the dense weight of a 90 %-sparse layer is 10× its non-zeros).
class MaskIndex {
 public:
  void assign(const float* mask, int64_t n);
  bool test(int64_t i) const { return (bits_[i >> 6] >> (i & 63)) & 1; }
  int32_t rank(int64_t i) const {
    return before_[i >> 6] + __builtin_popcountll(bits_[i >> 6] & ((uint64_t(1) << (i & 63)) - 1));
  }
  int64_t count() const { return count_; }
  int64_t size() const { return n_; }
  // values[rank(i)] = w[i] for every kept i.
  void gather(const float* w, float* values) const;
  // dw[i] = kept(i) ? values[rank(i)] : 0 for every i.
  void scatter(const float* values, float* dw) const;

 private:
  int64_t n_ = 0, count_ = 0;
  std::vector<uint64_t> bits_;
  std::vector<int32_t> before_;
};

// A CHWN buffer, optionally zero-padded and split into stride phases:
//   element (p, h, w, n) of a [P, H, W, N] tensor sits at
//   p·plane + (((h+top) % sh)·pb + (w+left) % sw)·phase + (((h+top) / sh)·wq + (w+left) / sw)·N + n
// for (h+top)/sh < hq, (w+left)/sw < wq and phases a = (h+top) % sh < pa, b < pb (else it is dropped:
// a 1×1 stride-2 conv reads one phase of four); every other slot holds zero.
struct Grid {
  int P, H, W, N;
  int sh = 1, sw = 1, pa = 1, pb = 1, top = 0, left = 0, hq = 0, wq = 0;
  int64_t plane = 0, phase = 0;
  int64_t size() const { return std::max(int64_t(P) * plane, int64_t(pa) * pb * phase); }  // floats spanned
};

// Kernels compiled once per ISA (sparse_avx512.cc, sparse_avx2.cc, sparse_scalar.cc).
struct KernelTable {
  int lanes;
  int tile_vectors;  // the most vectors a tile holds; scratch = threads · 2 · rows · lanes · tile_vectors floats
  // out = sweep(in).
  void (*spmm)(const Pass& p, const float* in, float* out, float* scratch);
  // dw[k] += Σ_{l,j} dy[r][l][j] · in[off[k] + l·in_line + j] (dy in the pass' output geometry);
  // partial: threads × nnz floats.
  void (*sddmm)(const Pass& p, const float* in, const float* dy, float* dw, float* partial, float* scratch);
  // out = sweep(in) and dw as sddmm with aux (laid out like out) in place of dy and in as the second factor.
  void (*fused)(const Pass& p, const float* in, const float* aux, float* out, float* dw, float* partial, float* scratch);
  // dst = grid(src), src NHWC (nhwc = true) or CHWN [P, H, W, N]; pads and unread slots get zeros.
  void (*stage)(const Grid& g, const float* src, bool nhwc, float* dst);
  // dst (NHWC or CHWN, dense) = the data slots of grid buffer src.
  void (*unstage)(const Grid& g, const float* src, float* dst, bool nhwc);
};

const KernelTable& kernels_avx512();
const KernelTable& kernels_avx2();
const KernelTable& kernels_scalar();

}  // namespace sparse
}  // namespace sift
