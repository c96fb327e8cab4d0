// Convolutions on oneDNN (Debian's libdnnl-dev), when the addon is built with it: forward, backward
// data and backward weights as direct convolutions on NHWC activations in place, the filter reordered
// between tf.js' [KH, KW, C, O] (oneDNN "hwio") and whatever blocked layout oneDNN prefers. Primitives
// are created once per geometry and cached: creating one costs milliseconds, running one microseconds.
#include "kernels.h"

#ifdef SIFT_HAVE_DNNL
#include "dnnl_common.h"

#include <map>
#include <memory>
#include <set>
#include <utility>
#include <tuple>

namespace sift {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct ConvPlan {
  memory::desc x_md, y_md, w_user_md;
  dnnl::convolution_forward::primitive_desc fwd_pd;
  // Built on first use of each direction.
  std::unique_ptr<dnnl::convolution_forward> fwd;
  std::unique_ptr<dnnl::convolution_backward_data> bwd_data;
  memory::desc bwd_data_w_md;
  std::unique_ptr<dnnl::convolution_backward_weights> bwd_weights;
  memory::desc bwd_weights_dw_md;
  memory fwd_w, bwd_w, dw;  // oneDNN-owned buffers for the filter in oneDNN's layout (when not hwio)
  memory::dims strides, dilations, pad_l, pad_r;
};

using Key = std::tuple<int, int, int, int, int, int, int, int, int, int, int, int, int, int, int>;

Key key_of(const ConvGeometry& g) {
  return {g.N, g.H, g.W, g.C, g.OH, g.OW, g.O, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL};
}

// The right/bottom padding that makes oneDNN's output size equal tf.js'. tf.js may leave the last
// rows unread ('valid' with stride): oneDNN then wants a smaller, possibly zero, right padding.
int right_pad(int in, int out, int k, int stride, int dilation, int pad_l) {
  return (out - 1) * stride + (k - 1) * dilation + 1 - in - pad_l;
}

ConvPlan* plan_for(const ConvGeometry& g) {
  static std::map<Key, std::unique_ptr<ConvPlan>> cache;
  const Key key = key_of(g);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second.get();
  auto p = std::make_unique<ConvPlan>();
  p->x_md = memory::desc({g.N, g.C, g.H, g.W}, dt::f32, tag::nhwc);
  p->y_md = memory::desc({g.N, g.O, g.OH, g.OW}, dt::f32, tag::nhwc);
  p->w_user_md = memory::desc({g.O, g.C, g.KH, g.KW}, dt::f32, tag::hwio);
  const memory::desc w_any({g.O, g.C, g.KH, g.KW}, dt::f32, tag::any);
  p->strides = {g.SH, g.SW};
  p->dilations = {g.DH - 1, g.DW - 1};  // oneDNN counts dilation from 0
  p->pad_l = {g.PT, g.PL};
  p->pad_r = {right_pad(g.H, g.OH, g.KH, g.SH, g.DH, g.PT), right_pad(g.W, g.OW, g.KW, g.SW, g.DW, g.PL)};
  dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, p->x_md,
                                     w_any, p->y_md, p->strides, p->dilations, p->pad_l, p->pad_r);
  p->fwd_pd = dnnl::convolution_forward::primitive_desc(fd, cpu_engine());
  ConvPlan* raw = p.get();
  cache.emplace(key, std::move(p));
  return raw;
}

void run_forward(ConvPlan& p, const float* x, const float* w, float* y) {
  auto& s = cpu_stream();
  if (!p.fwd) {
    p.fwd = std::make_unique<dnnl::convolution_forward>(p.fwd_pd);
    if (p.fwd_pd.weights_desc() != p.w_user_md) p.fwd_w = memory(p.fwd_pd.weights_desc(), cpu_engine());
  }
  memory w_user = wrap(p.w_user_md, w);
  memory w_mem = w_user;
  if (p.fwd_w) {
    dnnl::reorder(w_user, p.fwd_w).execute(s, w_user, p.fwd_w);
    w_mem = p.fwd_w;
  }
  p.fwd->execute(s, {{DNNL_ARG_SRC, wrap(p.x_md, x)}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_DST, wrap(p.y_md, y)}});
  s.wait();
}

void run_backward_data(ConvPlan& p, const float* dy, const float* w, float* dx) {
  auto& s = cpu_stream();
  if (!p.bwd_data) {
    const memory::desc w_any(p.w_user_md.dims(), dt::f32, tag::any);
    dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, p.x_md, w_any, p.y_md, p.strides,
                                             p.dilations, p.pad_l, p.pad_r);
    dnnl::convolution_backward_data::primitive_desc pd(bd, cpu_engine(), p.fwd_pd);
    p.bwd_data = std::make_unique<dnnl::convolution_backward_data>(pd);
    p.bwd_data_w_md = pd.weights_desc();
    if (p.bwd_data_w_md != p.w_user_md) p.bwd_w = memory(p.bwd_data_w_md, cpu_engine());
  }
  memory w_user = wrap(p.w_user_md, w);
  memory w_mem = w_user;
  if (p.bwd_w) {
    dnnl::reorder(w_user, p.bwd_w).execute(s, w_user, p.bwd_w);
    w_mem = p.bwd_w;
  }
  p.bwd_data->execute(s, {{DNNL_ARG_DIFF_DST, wrap(p.y_md, dy)}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_DIFF_SRC, wrap(p.x_md, dx)}});
  s.wait();
}

void run_backward_weights(ConvPlan& p, const float* x, const float* dy, float* dw) {
  auto& s = cpu_stream();
  if (!p.bwd_weights) {
    const memory::desc w_any(p.w_user_md.dims(), dt::f32, tag::any);
    dnnl::convolution_backward_weights::desc bd(dnnl::algorithm::convolution_direct, p.x_md, w_any, p.y_md, p.strides,
                                                p.dilations, p.pad_l, p.pad_r);
    dnnl::convolution_backward_weights::primitive_desc pd(bd, cpu_engine(), p.fwd_pd);
    p.bwd_weights = std::make_unique<dnnl::convolution_backward_weights>(pd);
    p.bwd_weights_dw_md = pd.diff_weights_desc();
    if (p.bwd_weights_dw_md != p.w_user_md) p.dw = memory(p.bwd_weights_dw_md, cpu_engine());
  }
  memory dw_user = wrap(p.w_user_md, dw);
  memory dw_mem = p.dw ? p.dw : dw_user;
  p.bwd_weights->execute(s, {{DNNL_ARG_SRC, wrap(p.x_md, x)}, {DNNL_ARG_DIFF_DST, wrap(p.y_md, dy)}, {DNNL_ARG_DIFF_WEIGHTS, dw_mem}});
  if (p.dw) dnnl::reorder(p.dw, dw_user).execute(s, p.dw, dw_user);
  s.wait();
}

}  // namespace

bool dnnl_conv2d(int op, const ConvGeometry& g, const float* in1, const float* in2, float* out) {
  // Geometries oneDNN rejected once are not retried (each try would cost a primitive creation).
  static std::set<std::pair<int, Key>> rejected;
  const auto id = std::make_pair(op, key_of(g));
  if (rejected.count(id)) return false;
  const OneThreadIf small(int64_t(g.N) * g.OH * g.OW * g.O * g.KH * g.KW * g.C < kParallelMacs);
  try {
    ConvPlan* p = plan_for(g);
    if (op == 0) run_forward(*p, in1, in2, out);
    else if (op == 1) run_backward_data(*p, in1, in2, out);
    else run_backward_weights(*p, in1, in2, out);
    return true;
  } catch (const dnnl::error&) {
    rejected.insert(id);
    return false;  // an unsupported geometry: the caller's im2col path handles it
  }
}

std::string dnnl_description() {
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
         " (cpu runtime " + (v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other") + ")";
}

std::string dnnl_isa() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

}  // namespace sift

#else

namespace sift {
bool dnnl_conv2d(int, const ConvGeometry&, const float*, const float*, float*) { return false; }
std::string dnnl_description() { return ""; }
std::string dnnl_isa() { return ""; }
}  // namespace sift

#endif
