// N-API entry points of the sparse kernels (sparse_kernels.h). Tensors are Float32Arrays, read and
// written in place (no copies); a plan is an external object holding one SparseConv. Registered on
// the addon's exports by sift::register_sparse_kernels (called from the addon's init).
//
//   sparseConvCreate(n, h, w, c, o, kh, kw, strideH, strideW, padTop, padLeft, outH, outW, mask) -> plan
//   sparseConvSetMask(plan, mask)
//   sparseConvGather(plan, w)
//   sparseConvForward(plan, w, x, xLayout, y, yLayout) -> staged  (w null: the values gathered last; staged: x
//     was copied into the shared staging buffer, where sparseConvForwardStaged(plan, w, y, yLayout) reads it)
//   sparseConvBackwardData(plan, w, dy, dyLayout, dx, dxLayout)
//   sparseConvBackwardWeights(plan, x, xLayout, dy, dyLayout, dw)
//   sparseConvBackward(plan, w, x, xLayout, dy, dyLayout, dx, dxLayout, dw)
//   sparseConvRelease(plan) frees it now;  sparseConvNnz(plan) -> number;  sparseConvDescribe(plan) -> Int32Array[] (seg, off, widx per pass)
//   sparseIsa() -> 'avx512' | 'avx2' | 'scalar';  sparseSetIsa(name);  sparseAlignment(typedArray) -> bytes past 64
//   sparseTranspose(n, h, w, c, src, dst, toChwn)
//   sparseSetTuning(blockKb, partialsKb, tileVectors);  sparseTuning() -> [blockKb, partialsKb, tileVectors]
// Layouts are 'nhwc' or 'chwn'; w, mask and dw are dense [KH, KW, C, O].
#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <string>

#include "sparse_kernels.h"

namespace sift {
namespace {

using sparse::Layout;
using sparse::SparseConv;
using sparse::SparseConvGeometry;

const napi_type_tag kPlanTag = {0x73696674u, 0x7370617273656376u};  // "sift" "sparsecv"

// What a plan handle holds: the plan, or null once sparseConvRelease freed it early.
struct PlanBox {
  SparseConv* conv;
};

std::string dims(const char* layout, int a, int b, int c, int d) {
  return std::string(layout) + " [" + std::to_string(a) + ", " + std::to_string(b) + ", " + std::to_string(c) + ", " +
         std::to_string(d) + "]";
}

// The arguments of one call; the first failed check throws a JavaScript error naming the kernel and
// the argument, and every later read is a no-op.
class Args {
 public:
  Args(napi_env env, napi_callback_info info, const char* kernel, size_t want) : env_(env), kernel_(kernel) {
    napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr);
    if (argc_ != want) fail("expected " + std::to_string(want) + " arguments, got " + std::to_string(argc_));
  }
  bool ok() const { return ok_; }
  napi_env env() const { return env_; }
  const char* kernel() const { return kernel_; }

  void fail(const std::string& what, bool range = false) {
    if (!ok_) return;
    ok_ = false;
    const std::string msg = std::string("sparse-ift native ") + kernel_ + ": " + what;
    if (range) napi_throw_range_error(env_, nullptr, msg.c_str());
    else napi_throw_type_error(env_, nullptr, msg.c_str());
  }

  int integer(size_t i, const char* name) {
    if (!ok_) return 0;
    double d = 0;
    if (napi_get_value_double(env_, argv_[i], &d) != napi_ok || d != static_cast<int>(d)) {
      fail(std::string(name) + " must be an integer");
      return 0;
    }
    return static_cast<int>(d);
  }

  bool flag(size_t i, const char* name) {
    if (!ok_) return false;
    bool b = false;
    if (napi_get_value_bool(env_, argv_[i], &b) != napi_ok) fail(std::string(name) + " must be a boolean");
    return b;
  }

  std::string string(size_t i, const char* name) {
    if (!ok_) return "";
    char buf[32];
    size_t n = 0;
    if (napi_get_value_string_utf8(env_, argv_[i], buf, sizeof(buf), &n) != napi_ok) {
      fail(std::string(name) + " must be a string");
      return "";
    }
    return std::string(buf, n);
  }

  Layout layout(size_t i, const char* name) {
    const std::string s = string(i, name);
    if (ok_ && s != "nhwc" && s != "chwn") fail(std::string(name) + " must be 'nhwc' or 'chwn', got '" + s + "'");
    return s == "chwn" ? Layout::CHWN : Layout::NHWC;
  }

  // A Float32Array of exactly `floats` elements; `shape` describes what was expected. With `nullable`,
  // null or undefined give nullptr.
  float* f32(size_t i, const char* name, size_t floats, const std::string& shape, bool nullable = false) {
    if (!ok_) return nullptr;
    if (nullable) {
      napi_valuetype t;
      napi_typeof(env_, argv_[i], &t);
      if (t == napi_null || t == napi_undefined) return nullptr;
    }
    bool is_typed = false;
    napi_is_typedarray(env_, argv_[i], &is_typed);
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (!is_typed || napi_get_typedarray_info(env_, argv_[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_float32_array) {
      fail(std::string(name) + " must be a Float32Array (" + shape + ")");
      return nullptr;
    }
    if (length != floats) {
      fail(std::string(name) + " must hold " + std::to_string(floats) + " floats (" + shape + "), got " + std::to_string(length), true);
      return nullptr;
    }
    spans_[nspans_++] = {static_cast<float*>(data), length, name};
    return static_cast<float*>(data);
  }

  // An output must not share memory with any other argument.
  void distinct(const float* out) {
    if (!ok_) return;
    const Span* o = nullptr;
    for (int i = 0; i < nspans_; i++)
      if (spans_[i].p == out) o = &spans_[i];
    for (int i = 0; i < nspans_ && o; i++) {
      const Span& s = spans_[i];
      if (&s == o) continue;
      if (s.p < o->p + o->n && o->p < s.p + s.n) {
        fail(std::string(o->name) + " overlaps " + s.name + " (outputs need memory of their own)");
        return;
      }
    }
  }

  // The plan's box (see PlanBox), or null after a failure.
  PlanBox* box(size_t i) {
    if (!ok_) return nullptr;
    bool tagged = false;
    void* p = nullptr;
    if (napi_check_object_type_tag(env_, argv_[i], &kPlanTag, &tagged) != napi_ok || !tagged ||
        napi_get_value_external(env_, argv_[i], &p) != napi_ok) {
      fail("plan must come from sparseConvCreate");
      return nullptr;
    }
    return static_cast<PlanBox*>(p);
  }

  SparseConv* plan(size_t i) {
    PlanBox* b = box(i);
    if (b && !b->conv) fail("plan was released (sparseConvRelease)");
    return b ? b->conv : nullptr;
  }

  // Runs f, turning a C++ exception into a JavaScript error naming the kernel.
  template <class F>
  void run(F&& f) {
    if (!ok_) return;
    try {
      f();
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }

 private:
  struct Span {
    const float* p;
    size_t n;
    const char* name;
  };
  napi_env env_;
  const char* kernel_;
  size_t argc_ = 16;
  napi_value argv_[16];
  bool ok_ = true;
  Span spans_[8];
  int nspans_ = 0;
};

struct Shapes {
  size_t x, y, w;
  std::string xs, ys, ws;
};

Shapes shapes(const SparseConvGeometry& g, Layout xl, Layout yl) {
  const bool xn = xl == Layout::NHWC, yn = yl == Layout::NHWC;
  return {size_t(g.N) * g.H * g.W * g.C,
          size_t(g.N) * g.OH * g.OW * g.O,
          size_t(g.KH) * g.KW * g.C * g.O,
          xn ? dims("nhwc", g.N, g.H, g.W, g.C) : dims("chwn", g.C, g.H, g.W, g.N),
          yn ? dims("nhwc", g.N, g.OH, g.OW, g.O) : dims("chwn", g.O, g.OH, g.OW, g.N),
          "filter [" + std::to_string(g.KH) + ", " + std::to_string(g.KW) + ", " + std::to_string(g.C) + ", " + std::to_string(g.O) + "]"};
}

napi_value sparse_conv_create(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseConvCreate", 14);
  const char* names[] = {"n", "h", "w", "c", "o", "kh", "kw", "strideH", "strideW", "padTop", "padLeft", "outH", "outW"};
  int v[13];
  for (int i = 0; i < 13; i++) v[i] = a.integer(i, names[i]);
  const SparseConvGeometry g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]};
  a.run([&] { sparse::check_geometry(g, "sparseConvCreate"); });
  const float* mask = a.f32(13, "mask", size_t(g.KH) * g.KW * g.C * g.O, shapes(g, Layout::NHWC, Layout::NHWC).ws);
  SparseConv* plan = nullptr;
  a.run([&] { plan = new SparseConv(g, mask); });
  if (!a.ok()) return nullptr;
  napi_value out;
  napi_create_external(
      env, new PlanBox{plan},
      [](napi_env, void* data, void*) {
        PlanBox* b = static_cast<PlanBox*>(data);
        delete b->conv;
        delete b;
      },
      nullptr, &out);
  napi_type_tag_object(env, out, &kPlanTag);
  return out;
}

// Frees a plan's structures now instead of when the garbage collector finds its handle: V8 does not see
// the native memory behind a small handle, so plans dropped by the thousand (a mask per RigL update) would
// otherwise pile up. Later calls with the handle fail, naming it; releasing twice is allowed.
napi_value sparse_conv_release(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseConvRelease", 1);
  PlanBox* b = a.box(0);
  if (!b) return nullptr;
  delete b->conv;
  b->conv = nullptr;
  return nullptr;
}

napi_value sparse_conv_set_mask(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseConvSetMask", 2);
  SparseConv* p = a.plan(0);
  if (!p) return nullptr;
  const SparseConvGeometry& g = p->geometry();
  const float* mask = a.f32(1, "mask", size_t(g.KH) * g.KW * g.C * g.O, shapes(g, Layout::NHWC, Layout::NHWC).ws);
  a.run([&] { p->set_mask(mask); });
  return nullptr;
}

napi_value sparse_conv_forward(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseConvForward", 6);
  SparseConv* p = a.plan(0);
  if (!p) return nullptr;
  const Layout xl = a.layout(3, "xLayout"), yl = a.layout(5, "yLayout");
  const Shapes s = shapes(p->geometry(), xl, yl);
  const float* w = a.f32(1, "w", s.w, s.ws, true);
  const float* x = a.f32(2, "x", s.x, s.xs);
  float* y = a.f32(4, "y", s.y, s.ys);
  a.distinct(y);
  bool shared = false;
  a.run([&] { shared = p->forward(w, x, xl, y, yl); });
  if (!a.ok()) return nullptr;
  napi_value out;
  napi_get_boolean(env, shared, &out);
  return out;
}

napi_value sparse_conv_forward_staged(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseConvForwardStaged", 4);
  SparseConv* p = a.plan(0);
  if (!p) return nullptr;
  const Layout yl = a.layout(3, "yLayout");
  const Shapes s = shapes(p->geometry(), yl, yl);
  const float* w = a.f32(1, "w", s.w, s.ws, true);
  float* y = a.f32(2, "y", s.y, s.ys);
  a.run([&] { p->forward_staged(w, y, yl); });
  return nullptr;
}

napi_value sparse_conv_backward_data(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseConvBackwardData", 6);
  SparseConv* p = a.plan(0);
  if (!p) return nullptr;
  const Layout dyl = a.layout(3, "dyLayout"), dxl = a.layout(5, "dxLayout");
  const Shapes s = shapes(p->geometry(), dxl, dyl);
  const float* w = a.f32(1, "w", s.w, s.ws, true);
  const float* dy = a.f32(2, "dy", s.y, s.ys);
  float* dx = a.f32(4, "dx", s.x, s.xs);
  a.distinct(dx);
  a.run([&] { p->backward_data(w, dy, dyl, dx, dxl); });
  return nullptr;
}

napi_value sparse_conv_backward_weights(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseConvBackwardWeights", 6);
  SparseConv* p = a.plan(0);
  if (!p) return nullptr;
  const Layout xl = a.layout(2, "xLayout"), dyl = a.layout(4, "dyLayout");
  const Shapes s = shapes(p->geometry(), xl, dyl);
  const float* x = a.f32(1, "x", s.x, s.xs);
  const float* dy = a.f32(3, "dy", s.y, s.ys);
  float* dw = a.f32(5, "dw", s.w, s.ws);
  a.distinct(dw);
  a.run([&] { p->backward_weights(x, xl, dy, dyl, dw); });
  return nullptr;
}

napi_value sparse_conv_backward(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseConvBackward", 9);
  SparseConv* p = a.plan(0);
  if (!p) return nullptr;
  const Layout xl = a.layout(3, "xLayout"), dyl = a.layout(5, "dyLayout"), dxl = a.layout(7, "dxLayout");
  const Shapes s = shapes(p->geometry(), xl, dyl);
  const Shapes sdx = shapes(p->geometry(), dxl, dyl);
  const float* w = a.f32(1, "w", s.w, s.ws, true);
  const float* x = a.f32(2, "x", s.x, s.xs);
  const float* dy = a.f32(4, "dy", s.y, s.ys);
  float* dx = a.f32(6, "dx", sdx.x, sdx.xs);
  float* dw = a.f32(8, "dw", s.w, s.ws);
  a.distinct(dx);
  a.distinct(dw);
  a.run([&] { p->backward(w, x, xl, dy, dyl, dx, dxl, dw); });
  return nullptr;
}

napi_value sparse_conv_gather(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseConvGather", 2);
  SparseConv* p = a.plan(0);
  if (!p) return nullptr;
  const Shapes s = shapes(p->geometry(), Layout::NHWC, Layout::NHWC);
  const float* w = a.f32(1, "w", s.w, s.ws);
  a.run([&] { p->gather(w); });
  return nullptr;
}

// Byte offset of a typed array's data from the previous 64-byte boundary: CHWN tensors at offset 0 are
// read in place by 1×1 stride-1 convs and linears (others are copied into aligned staging buffers).
napi_value sparse_alignment(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseAlignment", 1);
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  bool is_typed = false;
  napi_is_typedarray(env, argv[0], &is_typed);
  void* data = nullptr;
  if (!is_typed || napi_get_typedarray_info(env, argv[0], nullptr, nullptr, &data, nullptr, nullptr) != napi_ok) {
    a.fail("argument must be a typed array");
    return nullptr;
  }
  napi_value out;
  napi_create_int32(env, static_cast<int32_t>(reinterpret_cast<uintptr_t>(data) % 64), &out);
  return out;
}

napi_value sparse_conv_nnz(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseConvNnz", 1);
  SparseConv* p = a.plan(0);
  if (!p) return nullptr;
  napi_value out;
  napi_create_double(env, static_cast<double>(p->nnz()), &out);
  return out;
}

napi_value sparse_conv_describe(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseConvDescribe", 1);
  SparseConv* p = a.plan(0);
  if (!p) return nullptr;
  const auto parts = p->describe();
  napi_value arr;
  napi_create_array_with_length(env, parts.size(), &arr);
  for (size_t i = 0; i < parts.size(); i++) {
    void* data = nullptr;
    napi_value buf, typed;
    napi_create_arraybuffer(env, parts[i].size() * sizeof(int32_t), &data, &buf);
    if (!parts[i].empty()) std::memcpy(data, parts[i].data(), parts[i].size() * sizeof(int32_t));
    napi_create_typedarray(env, napi_int32_array, parts[i].size(), buf, 0, &typed);
    napi_set_element(env, arr, static_cast<uint32_t>(i), typed);
  }
  return arr;
}

napi_value sparse_isa(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_string_utf8(env, sparse::isa_name(sparse::current_isa()), NAPI_AUTO_LENGTH, &out);
  return out;
}

napi_value sparse_set_isa(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseSetIsa", 1);
  const std::string name = a.string(0, "isa");
  if (!a.ok()) return nullptr;
  sparse::Isa isa = sparse::best_isa();
  if (name == "avx512") isa = sparse::Isa::Avx512;
  else if (name == "avx2") isa = sparse::Isa::Avx2;
  else if (name == "scalar") isa = sparse::Isa::Scalar;
  else if (name != "auto") a.fail("isa must be 'avx512', 'avx2', 'scalar' or 'auto', got '" + name + "'");
  a.run([&] { sparse::set_isa(isa); });
  return nullptr;
}

napi_value sparse_transpose(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseTranspose", 7);
  const int n = a.integer(0, "n"), h = a.integer(1, "h"), w = a.integer(2, "w"), c = a.integer(3, "c");
  const bool to_chwn = a.flag(6, "toChwn");
  if (a.ok() && (n < 1 || h < 1 || w < 1 || c < 1)) a.fail("n, h, w and c must be at least 1");
  const size_t count = size_t(n) * h * w * c;
  const std::string nhwc = dims("nhwc", n, h, w, c), chwn = dims("chwn", c, h, w, n);
  const float* src = a.f32(4, "src", count, to_chwn ? nhwc : chwn);
  float* dst = a.f32(5, "dst", count, to_chwn ? chwn : nhwc);
  a.distinct(dst);
  a.run([&] {
    if (to_chwn) sparse::nhwc_to_chwn(n, h, w, c, src, dst);
    else sparse::chwn_to_nhwc(n, h, w, c, src, dst);
  });
  return nullptr;
}

napi_value sparse_set_tuning(napi_env env, napi_callback_info info) {
  Args a(env, info, "sparseSetTuning", 3);
  sparse::Tuning t;
  t.block_kb = a.integer(0, "blockKb");
  t.partials_kb = a.integer(1, "partialsKb");
  t.tile_vectors = a.integer(2, "tileVectors");
  a.run([&] { sparse::set_tuning(t); });
  return nullptr;
}

napi_value sparse_tuning(napi_env env, napi_callback_info) {
  const sparse::Tuning t = sparse::tuning();
  napi_value arr, v;
  napi_create_array_with_length(env, 3, &arr);
  const int fields[] = {t.block_kb, t.partials_kb, t.tile_vectors};
  for (uint32_t i = 0; i < 3; i++) {
    napi_create_int32(env, fields[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

}  // namespace

void register_sparse_kernels(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sparseConvCreate", nullptr, sparse_conv_create, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseConvSetMask", nullptr, sparse_conv_set_mask, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseConvForward", nullptr, sparse_conv_forward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseConvForwardStaged", nullptr, sparse_conv_forward_staged, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseConvBackwardData", nullptr, sparse_conv_backward_data, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseConvBackwardWeights", nullptr, sparse_conv_backward_weights, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseConvBackward", nullptr, sparse_conv_backward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseAlignment", nullptr, sparse_alignment, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseConvGather", nullptr, sparse_conv_gather, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseConvNnz", nullptr, sparse_conv_nnz, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseConvRelease", nullptr, sparse_conv_release, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseConvDescribe", nullptr, sparse_conv_describe, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseIsa", nullptr, sparse_isa, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseSetIsa", nullptr, sparse_set_isa, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseTranspose", nullptr, sparse_transpose, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseSetTuning", nullptr, sparse_set_tuning, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sparseTuning", nullptr, sparse_tuning, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace sift
