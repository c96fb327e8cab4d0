// Unstructured-sparse training kernels for masked convolutions and linears (issue 15), free of N-API.
//
// A SparseConv is built from a conv's geometry and its 0/1 mask (shaped like the dense tf.js filter
// [KH, KW, C, O]); it keeps, per direction, the non-zeros' positions with precomputed offsets into a
// zero-padded (and, for stride 2, polyphase) copy of the input. The values are gathered from the dense
// weight at every call, so the dense weight and the mask stay the source of truth (optimisers,
// checkpoints, resume). A linear x[T, in]·W[in, out] is the 1×1 conv with N = T, H = W = 1.
//
// The kernels compute in the CHWN layout ([C][H][W][N]: channel-major, the batch innermost, so one
// SIMD vector holds one pixel of 8 or 16 images and strides/padding never break a vector). They take
// and return NHWC (tf.js) or CHWN tensors; NHWC costs a transpose, fused into the staging copy the
// kernels make anyway. Direct sparse convolution (per-non-zero offsets into the padded input, as
// SkimCaffe and SparseProp do), register-tiled over the output; dW only at the non-zeros (SDDMM);
// dX as the transposed problem (stride 2: one pass per output phase).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sift {
namespace sparse {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };
// The widest ISA this CPU runs (and this build has code for).
Isa best_isa();
Isa current_isa();
// Throws std::invalid_argument when the CPU lacks it.
void set_isa(Isa isa);
const char* isa_name(Isa isa);

// How the sweeps block their work (plans built afterwards use it). A tile is a run of output positions
// whose sums live in registers; a channel block is the slice of input channels whose part of the input
// one tile reads while it stays in cache; a row block is the rows whose partial sums wait in L2 between
// channel blocks.
struct Tuning {
  int block_kb = 160;    // input bytes a channel block may span per tile
  int partials_kb = 256; // bytes of partial sums per row block
  int tile_vectors = 0;  // vectors per tile (0: the kernel's most)
};
Tuning tuning();
void set_tuning(const Tuning& t);  // throws std::invalid_argument for out-of-range fields

enum class Layout { NHWC = 0, CHWN = 1 };

// A 2-D convolution without dilation, in tf.js' terms: x [N, H, W, C], filter [KH, KW, C, O],
// y [N, OH, OW, O]; PT/PL are the top/left zero padding (bottom/right follow from OH/OW).
struct SparseConvGeometry {
  int N, H, W, C, O, KH, KW, SH, SW, PT, PL, OH, OW;
};

// Throws std::invalid_argument naming the field when a geometry is inconsistent.
void check_geometry(const SparseConvGeometry& g, const char* kernel);

struct Pass;       // one gather-SpMM sweep (sparse_internal.h)
class MaskIndex;   // the mask as a ranked bitset (sparse_internal.h)

class SparseConv {
 public:
  // mask: [KH, KW, C, O] floats; non-zero = kept.
  SparseConv(const SparseConvGeometry& g, const float* mask);
  ~SparseConv();
  SparseConv(const SparseConv&) = delete;
  SparseConv& operator=(const SparseConv&) = delete;

  // Rebuilds every structure for a new mask (same geometry).
  void set_mask(const float* mask);

  const SparseConvGeometry& geometry() const { return g_; }
  int64_t nnz() const { return nnz_; }

  // Takes the non-zeros' values from the dense weight w [KH, KW, C, O] (one pass through w, in memory
  // order) for every direction. Each call below does it too when given w; given null, it reuses the
  // values gathered last (a training step gathers once in the forward: the dense weight of a 90 %
  // layer is 10× the data the kernels read).
  void gather(const float* w);

  // y = conv(x, w ⊙ mask). True when x was staged into the staging buffer that all plans share (not read
  // in place): it stays there for forward_staged until the next call that stages an input.
  bool forward(const float* w, const float* x, Layout xl, float* y, Layout yl);
  // y = conv(x, w ⊙ mask) for the x the last forward staged (Sparse Parallel: branches reading one input
  // share its staging). Throws std::invalid_argument when no staged input of this plan's geometry is there.
  void forward_staged(const float* w, float* y, Layout yl);
  // dx = conv_transpose(dy, w ⊙ mask).
  void backward_data(const float* w, const float* dy, Layout dyl, float* dx, Layout dxl);
  // dw = (dense dW) ⊙ mask, written dense [KH, KW, C, O] with zeros off the mask; only the non-zeros
  // are computed (SDDMM).
  void backward_weights(const float* x, Layout xl, const float* dy, Layout dyl, float* dw);
  // Both gradients in one sweep over dy (each dy load feeds the dX and the dW product).
  void backward(const float* w, const float* x, Layout xl, const float* dy, Layout dyl, float* dx, Layout dxl,
                float* dw);

  // The structures, for tests (a rebuilt plan must equal a fresh one): per pass, the row starts
  // (rows·blocks + 1), input offsets and mask ranks of the non-zeros.
  std::vector<std::vector<int32_t>> describe() const;

 private:
  void build();
  void require_values(const char* op) const;
  std::vector<Pass*> bwd_passes() const;
  bool gathered_ = false;
  SparseConvGeometry g_;
  std::unique_ptr<MaskIndex> mask_;
  int64_t nnz_ = 0;
  std::unique_ptr<Pass> fwd_;                 // rows = O, input = x staged (padded, polyphase)
  std::vector<std::unique_ptr<Pass>> bwd_;    // one per output phase of dx; rows = C, input = dy staged
};

// Layout helpers (also what the backend would run to materialise a layout): plain 4-D transposes.
void nhwc_to_chwn(int N, int H, int W, int C, const float* x, float* y);
void chwn_to_nhwc(int N, int H, int W, int C, const float* x, float* y);

}  // namespace sparse
}  // namespace sift
