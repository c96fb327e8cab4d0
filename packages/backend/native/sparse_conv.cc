// SparseConv: the structures of a masked convolution (built from its 0/1 mask) and the calls that stage
// tensors into the kernels' layout, run the per-ISA sweeps (sparse_simd.inl) and scatter dW back.
#include <omp.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "sparse_internal.h"
#include "sparse_kernels.h"

namespace sift {
namespace sparse {

// ---------------------------------------------------------------------------------------------------
// ISA choice: the widest the CPU runs, unless SIFT_SPARSE_ISA (avx512 | avx2 | scalar) or set_isa says
// otherwise (the benchmark compares paths on one machine).

namespace {

bool cpu_has(Isa isa) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (isa == Isa::Avx512)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw");
  if (isa == Isa::Avx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return isa == Isa::Scalar;
}

Isa parse_isa(const std::string& s, bool* ok) {
  *ok = true;
  if (s == "avx512") return Isa::Avx512;
  if (s == "avx2") return Isa::Avx2;
  if (s == "scalar") return Isa::Scalar;
  *ok = false;
  return Isa::Scalar;
}

Isa initial_isa() {
  Isa isa = best_isa();
  if (const char* env = std::getenv("SIFT_SPARSE_ISA")) {
    bool ok = false;
    const Isa want = parse_isa(env, &ok);
    if (ok && cpu_has(want)) isa = want;
  }
  return isa;
}

Tuning& tuning_ref() {
  static Tuning t;
  return t;
}

Isa& isa_ref() {
  static Isa isa = initial_isa();
  return isa;
}

const KernelTable& K() {
  switch (isa_ref()) {
    case Isa::Avx512: return kernels_avx512();
    case Isa::Avx2: return kernels_avx2();
    default: return kernels_scalar();
  }
}

}  // namespace

Tuning tuning() { return tuning_ref(); }
void set_tuning(const Tuning& t) {
  if (t.block_kb < 1 || t.partials_kb < 1 || t.tile_vectors < 0)
    throw std::invalid_argument("sparse tuning: blockKb and partialsKb must be at least 1, tileVectors at least 0");
  tuning_ref() = t;
}

Isa best_isa() {
  if (cpu_has(Isa::Avx512)) return Isa::Avx512;
  if (cpu_has(Isa::Avx2)) return Isa::Avx2;
  return Isa::Scalar;
}
Isa current_isa() { return isa_ref(); }
void set_isa(Isa isa) {
  if (!cpu_has(isa)) throw std::invalid_argument(std::string("this CPU cannot run the ") + isa_name(isa) + " kernels");
  isa_ref() = isa;
}
const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "scalar";
  }
}

// ---------------------------------------------------------------------------------------------------
// Scratch: staging buffers shared by every SparseConv (calls are serialised: one JavaScript thread),
// grown on demand, 64-byte aligned.

namespace {

constexpr size_t kHuge = size_t(2) << 20;

class Buffer {
 public:
  ~Buffer() { std::free(p_); }
  float* get(size_t n) {
    if (n > n_) {
      std::free(p_);
      // 2 MB alignment and huge pages: the sweeps hop between channel planes megabytes apart, and with
      // 4 KB pages every hop would miss the first-level TLB.
      const size_t bytes = ((n * sizeof(float) + kHuge - 1) / kHuge) * kHuge;
      p_ = static_cast<float*>(std::aligned_alloc(bytes >= kHuge ? kHuge : 64, bytes));
      if (!p_) {
        n_ = 0;
        throw std::bad_alloc();
      }
#ifdef MADV_HUGEPAGE
      madvise(p_, bytes, MADV_HUGEPAGE);
#endif
      n_ = n;
    }
    return p_;
  }

 private:
  float* p_ = nullptr;
  size_t n_ = 0;
};

struct Pool {
  Buffer staged_in, staged_dy, out, aux, dy_chwn, dw_nz, partial, tiles, canon;
};

Pool& pool() {
  static Pool p;
  return p;
}

// A plain CHWN tensor [P, H, W, N] as a grid (no padding, no phases).
Grid plain_grid(int P, int H, int W, int N) {
  Grid g{P, H, W, N};
  g.hq = H;
  g.wq = W;
  g.phase = int64_t(H) * W * N;
  g.plane = g.phase;
  return g;
}

// Channels per block, given the floats of one channel's input slice that one tile reads.
int channels_per_block(int channels, int64_t floats_per_channel) {
  const int64_t per = std::max<int64_t>(1, 4 * floats_per_channel);
  return static_cast<int>(std::clamp<int64_t>(int64_t(tuning_ref().block_kb) * 1024 / per, 1, channels));
}

constexpr int64_t kTileFloats = 256;  // a typical tile (16 AVX-512 vectors) for the block estimates

// Rows whose partial sums (one tile each) stay in L2 while a pass runs over the input blocks.
int rows_per_block(int rows) {
  return static_cast<int>(std::clamp<int64_t>(int64_t(tuning_ref().partials_kb) * 1024 / (4 * kTileFloats), 1, rows));
}

int32_t checked_offset(int64_t v, const char* kernel) {
  if (v > std::numeric_limits<int32_t>::max())
    throw std::invalid_argument(std::string(kernel) + ": tensor too large for the sparse kernels' 32-bit offsets (split the batch)");
  return static_cast<int32_t>(v);
}

}  // namespace

void MaskIndex::assign(const float* mask, int64_t n) {
  n_ = n;
  const int64_t words = (n + 63) / 64;
  bits_.assign(words, 0);
  before_.assign(words, 0);
#pragma omp parallel for schedule(static)
  for (int64_t wd = 0; wd < words; wd++) {
    uint64_t b = 0;
    const int64_t end = std::min<int64_t>(64, n - wd * 64);
    for (int64_t j = 0; j < end; j++) b |= uint64_t(mask[wd * 64 + j] != 0.0f) << j;
    bits_[wd] = b;
  }
  int64_t c = 0;
  for (int64_t wd = 0; wd < words; wd++) {
    before_[wd] = static_cast<int32_t>(c);
    c += __builtin_popcountll(bits_[wd]);
  }
  count_ = c;
}

void MaskIndex::gather(const float* w, float* values) const {
  const int64_t words = static_cast<int64_t>(bits_.size());
#pragma omp parallel for schedule(static)
  for (int64_t wd = 0; wd < words; wd++) {
    float* v = values + before_[wd];
    for (uint64_t b = bits_[wd]; b; b &= b - 1) *v++ = w[wd * 64 + __builtin_ctzll(b)];
  }
}

void MaskIndex::scatter(const float* values, float* dw) const {
  const int64_t words = static_cast<int64_t>(bits_.size());
#pragma omp parallel for schedule(static)
  for (int64_t wd = 0; wd < words; wd++) {
    const int64_t end = std::min<int64_t>(64, n_ - wd * 64);
    float* d = dw + wd * 64;
    std::memset(d, 0, sizeof(float) * end);
    const float* v = values + before_[wd];
    for (uint64_t b = bits_[wd]; b; b &= b - 1) d[__builtin_ctzll(b)] = *v++;
  }
}

void check_geometry(const SparseConvGeometry& g, const char* kernel) {
  const auto bad = [&](const std::string& what) {
    throw std::invalid_argument(std::string(kernel) + ": " + what + " (geometry N=" + std::to_string(g.N) + " H=" + std::to_string(g.H) +
                                " W=" + std::to_string(g.W) + " C=" + std::to_string(g.C) + " O=" + std::to_string(g.O) +
                                " KH=" + std::to_string(g.KH) + " KW=" + std::to_string(g.KW) + " SH=" + std::to_string(g.SH) +
                                " SW=" + std::to_string(g.SW) + " PT=" + std::to_string(g.PT) + " PL=" + std::to_string(g.PL) +
                                " OH=" + std::to_string(g.OH) + " OW=" + std::to_string(g.OW) + ")");
  };
  const int dims[] = {g.N, g.H, g.W, g.C, g.O, g.KH, g.KW, g.SH, g.SW, g.OH, g.OW};
  for (int d : dims)
    if (d < 1) bad("every size and stride must be at least 1");
  if (g.PT < 0 || g.PL < 0 || g.PT >= g.KH || g.PL >= g.KW) bad("padding must lie in [0, kernel size)");
  if ((g.OH - 1) * g.SH - g.PT >= g.H || (g.OW - 1) * g.SW - g.PL >= g.W)
    bad("the output is larger than the padded input allows");
  if ((g.OH - 1) * g.SH + g.KH - g.PT > g.H + g.KH - 1 || (g.OW - 1) * g.SW + g.KW - g.PL > g.W + g.KW - 1)
    bad("the last window reaches past a full kernel of bottom/right padding");
}

// ---------------------------------------------------------------------------------------------------
// Structures.

namespace {

struct Layouts {
  Grid x_staged;   // forward input: padded, polyphase
  Grid dy_staged;  // backward input: dy padded so every tap of every dx phase reads inside
  Grid y;          // forward output, plain CHWN
  Grid dx;         // backward output (and x for the fused dW): CHWN split into stride phases
};

struct BwdPad {
  int top, left, hd, wd;
};

// (a + pad − k) / s for taps k whose stride phase matches output phase a, else a sentinel.
inline bool tap_in_phase(int a, int pad, int k, int s, int* d) {
  const int v = a + pad - k;
  if (((v % s) + s) % s != 0) return false;
  *d = v / s;
  return true;
}

BwdPad bwd_pad(const SparseConvGeometry& g) {
  int top = 0, left = 0, bottom = g.OH, right = g.OW;
  for (int a = 0; a < std::min(g.SH, g.H); a++) {
    const int rows = (g.H - a + g.SH - 1) / g.SH;
    for (int kh = 0; kh < g.KH; kh++) {
      int d;
      if (!tap_in_phase(a, g.PT, kh, g.SH, &d)) continue;
      top = std::max(top, -d);
      bottom = std::max(bottom, rows + d);
    }
  }
  for (int b = 0; b < std::min(g.SW, g.W); b++) {
    const int cols = (g.W - b + g.SW - 1) / g.SW;
    for (int kw = 0; kw < g.KW; kw++) {
      int d;
      if (!tap_in_phase(b, g.PL, kw, g.SW, &d)) continue;
      left = std::max(left, -d);
      right = std::max(right, cols + d);
    }
  }
  return {top, left, top + bottom, left + right};
}

Layouts layouts_of(const SparseConvGeometry& g) {
  Layouts l;
  l.x_staged = Grid{g.C, g.H, g.W, g.N};
  l.x_staged.sh = g.SH;
  l.x_staged.sw = g.SW;
  l.x_staged.pa = std::min(g.SH, g.KH);  // phases some tap reads
  l.x_staged.pb = std::min(g.SW, g.KW);
  l.x_staged.top = g.PT;
  l.x_staged.left = g.PL;
  l.x_staged.hq = g.OH + (g.KH - 1) / g.SH;
  l.x_staged.wq = g.OW + (g.KW - 1) / g.SW;
  l.x_staged.phase = int64_t(l.x_staged.hq) * l.x_staged.wq * g.N;
  l.x_staged.plane = int64_t(l.x_staged.pa) * l.x_staged.pb * l.x_staged.phase;

  const BwdPad bp = bwd_pad(g);
  l.dy_staged = Grid{g.O, g.OH, g.OW, g.N};
  l.dy_staged.top = bp.top;
  l.dy_staged.left = bp.left;
  l.dy_staged.hq = bp.hd;
  l.dy_staged.wq = bp.wd;
  l.dy_staged.phase = int64_t(bp.hd) * bp.wd * g.N;
  l.dy_staged.plane = l.dy_staged.phase;

  l.y = plain_grid(g.O, g.OH, g.OW, g.N);

  l.dx = Grid{g.C, g.H, g.W, g.N};
  l.dx.sh = g.SH;
  l.dx.sw = g.SW;
  l.dx.pa = g.SH;
  l.dx.pb = g.SW;
  l.dx.hq = (g.H + g.SH - 1) / g.SH;
  l.dx.wq = (g.W + g.SW - 1) / g.SW;
  l.dx.plane = int64_t(l.dx.hq) * l.dx.wq * g.N;
  l.dx.phase = int64_t(g.C) * l.dx.plane;
  return l;
}

// Lines that continue each other in both input and output merge into one (1×1 convs, linears).
void merge_lines(Pass& p) {
  if (p.lines > 1 && p.in_line == p.len && p.out_line == p.len) {
    p.len *= p.lines;
    p.lines = 1;
  }
}

}  // namespace

SparseConv::SparseConv(const SparseConvGeometry& g, const float* mask) : g_(g), mask_(std::make_unique<MaskIndex>()) {
  check_geometry(g, "SparseConv");
  const Layouts l = layouts_of(g);
  checked_offset(std::max({l.x_staged.size(), l.dy_staged.size(), l.dx.size(), l.y.size(), int64_t(g.KH) * g.KW * g.C * g.O}),
                 "SparseConv");
  set_mask(mask);
}

SparseConv::~SparseConv() = default;

void SparseConv::set_mask(const float* mask) {
  mask_->assign(mask, int64_t(g_.KH) * g_.KW * g_.C * g_.O);
  build();
}

void SparseConv::build() {
  const SparseConvGeometry& g = g_;
  const Layouts l = layouts_of(g);
  const auto widx = [&](int kh, int kw, int c, int o) { return ((int64_t(kh) * g.KW + kw) * g.C + c) * g.O + o; };
  const MaskIndex& mask = *mask_;
  nnz_ = mask.count();
  gathered_ = false;  // the values follow the structures

  // Forward: rows are output channels; a non-zero (o, c, kh, kw) reads the stride phase of (kh, kw).
  fwd_ = std::make_unique<Pass>();
  Pass& f = *fwd_;
  const Grid& xs = l.x_staged;
  const int cbs = channels_per_block(g.C, int64_t(g.KH) * (kTileFloats + int64_t(g.KW - 1) / g.SW * g.N));
  f.rows = g.O;
  f.ncb = (g.C + cbs - 1) / cbs;
  f.seg.assign(size_t(f.rows) * f.ncb + 1, 0);
  f.off.reserve(nnz_);
  f.src.reserve(nnz_);
  for (int o = 0; o < g.O; o++) {
    for (int cb = 0; cb < f.ncb; cb++) {
      for (int c = cb * cbs; c < std::min(g.C, (cb + 1) * cbs); c++)
        for (int kh = 0; kh < g.KH; kh++)
          for (int kw = 0; kw < g.KW; kw++) {
            const int64_t wi = widx(kh, kw, c, o);
            if (!mask.test(wi)) continue;
            const int ph = (kh % g.SH) * xs.pb + kw % g.SW;
            f.off.push_back(int32_t(c * xs.plane + ph * xs.phase + (int64_t(kh / g.SH) * xs.wq + kw / g.SW) * g.N));
            f.src.push_back(mask.rank(wi));
          }
      f.seg[size_t(o) * f.ncb + cb + 1] = static_cast<int32_t>(f.off.size());
    }
  }
  f.val.assign(f.off.size(), 0.0f);
  f.rows_per_block = rows_per_block(f.rows);
  f.tile_vectors = tuning_ref().tile_vectors;
  f.lines = g.OH;
  f.len = g.OW * g.N;
  f.in_line = int64_t(xs.wq) * g.N;
  f.out_line = int64_t(g.OW) * g.N;
  f.out_row = l.y.plane;
  merge_lines(f);

  // Backward data: one pass per stride phase (a, b) of dx; rows are input channels; a non-zero
  // (o, c, kh, kw) whose tap lands on that phase reads dy at the phase's shift.
  bwd_.clear();
  const Grid& ds = l.dy_staged;
  const int obs = channels_per_block(g.O, int64_t(g.KH) * (kTileFloats + int64_t(g.KW - 1) / g.SW * g.N) / std::max(1, g.SH * g.SW));
  for (int a = 0; a < g.SH; a++) {
    for (int b = 0; b < g.SW; b++) {
      auto p = std::make_unique<Pass>();
      p->rows = g.C;
      p->ncb = (g.O + obs - 1) / obs;
      p->seg.assign(size_t(p->rows) * p->ncb + 1, 0);
      for (int c = 0; c < g.C; c++) {
        for (int ob = 0; ob < p->ncb; ob++) {
          for (int o = ob * obs; o < std::min(g.O, (ob + 1) * obs); o++)
            for (int kh = 0; kh < g.KH; kh++) {
              int dh;
              if (!tap_in_phase(a, g.PT, kh, g.SH, &dh)) continue;
              for (int kw = 0; kw < g.KW; kw++) {
                int dw;
                if (!tap_in_phase(b, g.PL, kw, g.SW, &dw)) continue;
                const int64_t wi = widx(kh, kw, c, o);
                if (!mask.test(wi)) continue;
                p->off.push_back(int32_t(o * ds.plane + (int64_t(dh + ds.top) * ds.wq + dw + ds.left) * g.N));
                p->src.push_back(mask.rank(wi));
              }
            }
          p->seg[size_t(c) * p->ncb + ob + 1] = static_cast<int32_t>(p->off.size());
        }
      }
      p->val.assign(p->off.size(), 0.0f);
      p->rows_per_block = rows_per_block(p->rows);
      p->tile_vectors = tuning_ref().tile_vectors;
      p->lines = a < g.H ? (g.H - a + g.SH - 1) / g.SH : 0;
      const int cols = b < g.W ? (g.W - b + g.SW - 1) / g.SW : 0;
      p->len = cols * g.N;
      p->in_line = int64_t(ds.wq) * g.N;
      p->out_line = int64_t(l.dx.wq) * g.N;
      p->out_row = l.dx.plane;
      p->out_base = (a * l.dx.pb + b) * l.dx.phase;
      merge_lines(*p);
      bwd_.push_back(std::move(p));
    }
  }
}

std::vector<Pass*> SparseConv::bwd_passes() const {
  std::vector<Pass*> out;
  for (const auto& p : bwd_) out.push_back(p.get());
  return out;
}

std::vector<std::vector<int32_t>> SparseConv::describe() const {
  std::vector<std::vector<int32_t>> out;
  const auto add = [&](const Pass& p) {
    out.push_back(p.seg);
    out.push_back(p.off);
    out.push_back(p.src);
  };
  add(*fwd_);
  for (const auto& p : bwd_) add(*p);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Calls.

namespace {

// The passes' values from the dense weight: once through w in memory order, then into each pass' order.
void gather_values(const MaskIndex& mask, const std::vector<Pass*>& passes, const float* w) {
  float* canon = pool().canon.get(std::max<int64_t>(1, mask.count()));
  mask.gather(w, canon);
  for (Pass* p : passes) {
    const int64_t n = p->nnz();
    float* val = p->val.data();
    const int32_t* src = p->src.data();
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < n; k++) val[k] = canon[src[k]];
  }
}

// Dense dW [KH, KW, C, O]: the passes' non-zeros (nz, pass after pass) at their positions, 0 elsewhere.
void scatter(const MaskIndex& mask, const std::vector<const Pass*>& passes, const float* nz, float* dw) {
  float* canon = pool().canon.get(std::max<int64_t>(1, mask.count()));
  for (const Pass* p : passes) {
    const int64_t n = p->nnz();
    const int32_t* src = p->src.data();
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < n; k++) canon[src[k]] = nz[k];
    nz += n;
  }
  mask.scatter(canon, dw);
}

// A grid that is just the CHWN tensor (no padding, no phases: 1×1 stride-1 convs, linears) needs no
// copy when the tensor is CHWN already and 64-byte aligned (the sweeps stream it in whole cache lines).
bool reads_in_place(const Grid& g, const float* t, Layout l) {
  return l == Layout::CHWN && g.pa == 1 && g.pb == 1 && g.top == 0 && g.left == 0 && g.hq == g.H && g.wq == g.W &&
         reinterpret_cast<uintptr_t>(t) % 64 == 0;
}

// t as grid g (in place when it already is one), in the pool buffer `into` otherwise.
const float* staged(const Grid& g, const float* t, Layout l, Buffer& into) {
  if (reads_in_place(g, t, l)) return t;
  float* out = into.get(g.size());
  K().stage(g, t, l == Layout::NHWC, out);
  return out;
}

const float* stage_x(const Layouts& l, const float* x, Layout xl) { return staged(l.x_staged, x, xl, pool().staged_in); }

// Which grid the shared staged-input buffer holds an input in, as the last forward left it.
struct StagedX {
  bool valid = false;
  Grid grid{};
};
StagedX& staged_x() {
  static StagedX s;
  return s;
}
bool same_grid(const Grid& a, const Grid& b) {
  return a.P == b.P && a.H == b.H && a.W == b.W && a.N == b.N && a.sh == b.sh && a.sw == b.sw && a.pa == b.pa && a.pb == b.pb &&
         a.top == b.top && a.left == b.left && a.hq == b.hq && a.wq == b.wq && a.plane == b.plane && a.phase == b.phase;
}
const float* stage_dy(const Layouts& l, const float* dy, Layout dyl) { return staged(l.dy_staged, dy, dyl, pool().staged_dy); }

bool unit_stride(const SparseConvGeometry& g) { return g.SH == 1 && g.SW == 1; }

// Per-thread tile scratch for sweeps over passes of up to `rows` rows.
float* tile_scratch(int rows) {
  const KernelTable& k = K();
  return pool().tiles.get(size_t(omp_get_max_threads()) * 2 * std::max(1, rows) * k.lanes * k.tile_vectors);
}

// The forward sweep over the staged input xs, y written in layout yl.
void sweep_forward(const Pass& fwd, const Layouts& l, const float* xs, float* y, Layout yl) {
  float* out = yl == Layout::CHWN ? y : pool().out.get(l.y.size());
  K().spmm(fwd, xs, out, tile_scratch(fwd.rows_per_block));
  if (out != y) K().unstage(l.y, out, y, true);
}

}  // namespace

void SparseConv::gather(const float* w) {
  std::vector<Pass*> passes = bwd_passes();
  passes.push_back(fwd_.get());
  gather_values(*mask_, passes, w);
  gathered_ = true;
}

void SparseConv::require_values(const char* op) const {
  if (!gathered_) throw std::invalid_argument(std::string(op) + ": no weight values yet (pass the dense weight, or gather it first)");
}

bool SparseConv::forward(const float* w, const float* x, Layout xl, float* y, Layout yl) {
  const Layouts l = layouts_of(g_);
  if (w) gather(w);
  require_values("forward");
  const float* xs = stage_x(l, x, xl);
  const bool shared = xs != x;
  if (shared) staged_x() = {true, l.x_staged};
  sweep_forward(*fwd_, l, xs, y, yl);
  return shared;
}

void SparseConv::forward_staged(const float* w, float* y, Layout yl) {
  const Layouts l = layouts_of(g_);
  if (w) gather(w);
  require_values("forward_staged");
  if (!staged_x().valid || !same_grid(staged_x().grid, l.x_staged))
    throw std::invalid_argument("forward_staged: no input of this plan's geometry is staged (run forward on it first)");
  sweep_forward(*fwd_, l, pool().staged_in.get(l.x_staged.size()), y, yl);
}

void SparseConv::backward_data(const float* w, const float* dy, Layout dyl, float* dx, Layout dxl) {
  const Layouts l = layouts_of(g_);
  if (w) gather(w);
  require_values("backward_data");
  const float* ds = stage_dy(l, dy, dyl);
  const bool direct = unit_stride(g_) && dxl == Layout::CHWN;
  float* out = direct ? dx : pool().out.get(l.dx.size());
  float* scratch = tile_scratch(bwd_.front()->rows_per_block);
  for (auto& p : bwd_) K().spmm(*p, ds, out, scratch);
  if (!direct) K().unstage(l.dx, out, dx, dxl == Layout::NHWC);
}

void SparseConv::backward_weights(const float* x, Layout xl, const float* dy, Layout dyl, float* dw) {
  const Layouts l = layouts_of(g_);
  const float* xs = stage_x(l, x, xl);
  staged_x().valid = false;  // not an input a forward_staged may reuse
  const float* g = dy;
  if (dyl == Layout::NHWC) {
    float* t = pool().dy_chwn.get(l.y.size());
    K().stage(l.y, dy, true, t);
    g = t;
  }
  float* nz = pool().dw_nz.get(std::max<int64_t>(1, fwd_->nnz()));
  std::fill(nz, nz + fwd_->nnz(), 0.0f);
  float* partial = pool().partial.get(std::max<int64_t>(1, fwd_->nnz() * omp_get_max_threads()));
  K().sddmm(*fwd_, xs, g, nz, partial, tile_scratch(fwd_->rows_per_block));
  scatter(*mask_, {fwd_.get()}, nz, dw);
}

void SparseConv::backward(const float* w, const float* x, Layout xl, const float* dy, Layout dyl, float* dx, Layout dxl,
                          float* dw) {
  if (w) gather(w);
  require_values("backward");
  if (g_.KH < g_.SH || g_.KW < g_.SW) {
    // A kernel smaller than its stride (the 1×1 stride-2 shortcut) reads one stride phase of x. The fused
    // sweep would stage all of x, every phase, as its dW operand; the separate sweeps stage only the phase
    // read (measured 7.6 against 11.6 ms on the Sparse Wide 90 % shortcut, 202→404 at 32², batch 32).
    backward_data(nullptr, dy, dyl, dx, dxl);
    backward_weights(x, xl, dy, dyl, dw);
    return;
  }
  const Layouts l = layouts_of(g_);
  const float* ds = stage_dy(l, dy, dyl);
  const float* aux = x;
  if (!(unit_stride(g_) && xl == Layout::CHWN)) {
    float* t = pool().aux.get(l.dx.size());
    K().stage(l.dx, x, xl == Layout::NHWC, t);
    aux = t;
  }
  const bool direct = unit_stride(g_) && dxl == Layout::CHWN;
  float* out = direct ? dx : pool().out.get(l.dx.size());
  int64_t total = 0, most = 1;
  std::vector<const Pass*> passes;
  for (auto& p : bwd_) {
    total += p->nnz();
    most = std::max(most, p->nnz());
    passes.push_back(p.get());
  }
  float* nz = pool().dw_nz.get(std::max<int64_t>(1, total));
  std::fill(nz, nz + total, 0.0f);
  float* partial = pool().partial.get(most * omp_get_max_threads());
  float* scratch = tile_scratch(bwd_.front()->rows_per_block);
  int64_t at = 0;
  for (auto& p : bwd_) {
    K().fused(*p, ds, aux, out, nz + at, partial, scratch);
    at += p->nnz();
  }
  if (!direct) K().unstage(l.dx, out, dx, dxl == Layout::NHWC);
  scatter(*mask_, passes, nz, dw);
}

void nhwc_to_chwn(int N, int H, int W, int C, const float* x, float* y) { K().stage(plain_grid(C, H, W, N), x, true, y); }
void chwn_to_nhwc(int N, int H, int W, int C, const float* x, float* y) { K().unstage(plain_grid(C, H, W, N), x, y, true); }

}  // namespace sparse
}  // namespace sift
