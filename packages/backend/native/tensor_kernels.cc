// N-API entry points of the native tf.js backend (exported as `tensors`): every tensor arrives as the
// TypedArray tfjs-backend-cpu stores (Node memory, no wasm heap; read and written in place, never copied).
// Each entry checks its arguments' types and lengths against the shapes it is given and throws a JS error
// naming the kernel and the argument otherwise, so a bad call never reads or writes out of bounds.
#include <node_api.h>

#include <cstdint>
#include <algorithm>
#include <ctime>
#include <exception>
#include <string>
#include <vector>

#include "kernels.h"

namespace {

const char* type_name(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    default: return "a 64-bit integer array";
  }
}

int element_bytes(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array: return 1;
    case napi_int16_array:
    case napi_uint16_array: return 2;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array: return 8;
    default: return 4;
  }
}

// The arguments of one call: numbers, booleans and TypedArrays, each checked once.
class Args {
 public:
  Args(napi_env env, napi_callback_info info, const char* kernel, size_t expected) : env_(env), kernel_(kernel) {
    argc_ = kMax;
    napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr);
    if (argc_ != expected) fail("expected " + std::to_string(expected) + " arguments, got " + std::to_string(argc_));
  }
  bool ok() const { return !failed_; }
  napi_env env() const { return env_; }

  void fail(const std::string& msg) {
    if (failed_) return;
    failed_ = true;
    const std::string text = std::string("sparse-ift native ") + kernel_ + ": " + msg;
    napi_throw_error(env_, nullptr, text.c_str());
  }

  double number(size_t i, const char* what) {
    double d = 0;
    if (ok() && napi_get_value_double(env_, argv_[i], &d) != napi_ok) fail(std::string(what) + " must be a number");
    return d;
  }
  // A non-negative integer (a size, a count).
  int64_t count(size_t i, const char* what) {
    const double d = number(i, what);
    if (ok() && !(d >= 0 && d <= 9007199254740992.0 && d == static_cast<double>(static_cast<int64_t>(d))))
      fail(std::string(what) + " must be a non-negative integer, got " + std::to_string(d));
    return ok() ? static_cast<int64_t>(d) : 0;
  }
  bool flag(size_t i, const char* what) {
    bool b = false;
    if (ok() && napi_get_value_bool(env_, argv_[i], &b) != napi_ok) fail(std::string(what) + " must be a boolean");
    return b;
  }

  struct Array {
    void* data = nullptr;
    size_t length = 0;
    napi_typedarray_type type = napi_float32_array;
  };
  // Any TypedArray; null/undefined gives an empty Array when optional.
  Array array(size_t i, const char* what, bool optional = false) {
    Array a;
    if (!ok()) return a;
    napi_valuetype vt;
    napi_typeof(env_, argv_[i], &vt);
    if (optional && (vt == napi_null || vt == napi_undefined)) return a;
    bool is_typed = false;
    napi_is_typedarray(env_, argv_[i], &is_typed);
    if (!is_typed) {
      fail(std::string(what) + " must be a TypedArray");
      return a;
    }
    napi_get_typedarray_info(env_, argv_[i], &a.type, &a.length, &a.data, nullptr, nullptr);
    return a;
  }
  // A TypedArray of one type holding at least `need` elements (null when optional and absent).
  template <typename T>
  T* typed(size_t i, napi_typedarray_type type, int64_t need, const char* what, bool optional = false) {
    const Array a = array(i, what, optional);
    if (!ok() || a.data == nullptr) return nullptr;
    if (a.type != type) {
      fail(std::string(what) + " must be a " + type_name(type) + ", got a " + type_name(a.type));
      return nullptr;
    }
    if (static_cast<int64_t>(a.length) < need) {
      fail(std::string(what) + " holds " + std::to_string(a.length) + " elements; the shapes given need " + std::to_string(need));
      return nullptr;
    }
    return static_cast<T*>(a.data);
  }
  float* f32(size_t i, int64_t need, const char* what, bool optional = false) {
    return typed<float>(i, napi_float32_array, need, what, optional);
  }
  int32_t* i32(size_t i, int64_t need, const char* what) { return typed<int32_t>(i, napi_int32_array, need, what); }
  // Small integer lists (dims, strides, geometry) passed as a Float64Array.
  std::vector<int64_t> ints(size_t i, const char* what, size_t min_len, size_t max_len) {
    std::vector<int64_t> out;
    const Array a = array(i, what);
    if (!ok()) return out;
    if (a.type != napi_float64_array || a.length < min_len || a.length > max_len) {
      fail(std::string(what) + " must be a Float64Array of " + std::to_string(min_len) + ".." + std::to_string(max_len) + " integers");
      return out;
    }
    const double* d = static_cast<const double*>(a.data);
    for (size_t k = 0; k < a.length; k++) {
      if (d[k] != static_cast<double>(static_cast<int64_t>(d[k]))) {
        fail(std::string(what) + " must hold integers");
        return {};
      }
      out.push_back(static_cast<int64_t>(d[k]));
    }
    return out;
  }

 private:
  static constexpr size_t kMax = 16;
  napi_env env_;
  const char* kernel_;
  size_t argc_;
  napi_value argv_[kMax];
  bool failed_ = false;
};

napi_value boolean(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

napi_value string(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}

// Runs a kernel body, turning C++ exceptions (allocation failures, oneDNN errors) into JS errors.
template <typename F>
napi_value guarded(Args& a, F body) {
  if (!a.ok()) return nullptr;
  try {
    return body();
  } catch (const std::exception& e) {
    a.fail(std::string("native error: ") + e.what());
  } catch (...) {
    a.fail("native error");
  }
  return nullptr;
}

int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

// [N, H, W, C, OH, OW, O, KH, KW, SH, SW, DH, DW, PT, PL], checked to describe a valid window geometry.
bool geometry(Args& a, size_t i, sift::ConvGeometry* g) {
  const std::vector<int64_t> v = a.ints(i, "geometry", 15, 15);
  if (!a.ok()) return false;
  for (int k = 0; k < 15; k++) {
    if (v[k] < (k >= 13 ? -(1 << 20) : (k >= 9 ? 1 : 0)) || v[k] > (1 << 30)) {
      a.fail("geometry entry " + std::to_string(k) + " is out of range (" + std::to_string(v[k]) + ")");
      return false;
    }
  }
  *g = {int(v[0]), int(v[1]), int(v[2]), int(v[3]), int(v[4]), int(v[5]), int(v[6]), int(v[7]),
        int(v[8]), int(v[9]), int(v[10]), int(v[11]), int(v[12]), int(v[13]), int(v[14])};
  return true;
}

int64_t image_size(const sift::ConvGeometry& g) { return int64_t(g.N) * g.H * g.W * g.C; }

// x viewed as rows of the length of a per-channel argument (batch norm, layer norm): sizes, checked.
struct Rows {
  int64_t size = 0;      // x's elements
  int64_t channels = 0;  // the per-channel argument's length
  int64_t rows() const { return channels ? size / channels : 0; }
};

Rows rows_of(Args& a, size_t x, size_t per_channel, const char* per_channel_name) {
  const Args::Array c = a.array(per_channel, per_channel_name), v = a.array(x, "x");
  Rows r{int64_t(v.length), int64_t(c.length)};
  if (a.ok() && (r.channels == 0 || r.size % r.channels != 0)) a.fail(std::string("x's size must be a multiple of ") + per_channel_name + "'s");
  return r;
}
int64_t out_size(const sift::ConvGeometry& g) { return int64_t(g.N) * g.OH * g.OW * g.O; }

napi_value description(napi_env env, napi_callback_info) {
  const std::string dnnl = sift::dnnl_description();
  const std::string own = std::string("OpenMP kernels (") + sift::isa_name(sift::cpu_isa()) + ")";
  return string(env, dnnl.empty() ? own + "; no oneDNN: convolutions and matmuls fall back"
                                  : dnnl + " (JIT " + sift::dnnl_isa() + ") + " + own);
}

napi_value isa(napi_env env, napi_callback_info) { return string(env, sift::isa_name(sift::cpu_isa())); }

// fmaPeak() -> fp32 GFLOP/s of one core running register-resident vector FMAs (timed on the thread's CPU
// clock, so waiting for a loaded machine does not count): the measured side of the peak the benchmark
// reports (the other is cores × lanes × 2 × clock, whose clock a VM may not tell).
napi_value fma_peak(napi_env env, napi_callback_info) {
  auto cpu_ms = [] {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
  };
  double best = 0.0;
  for (int rep = 0; rep < 5; rep++) {
    const double t0 = cpu_ms();
    const double flops = SIFT_CALL(fma_flops, int64_t(1) << 22);
    best = std::max(best, flops / (cpu_ms() - t0) / 1e6);
  }
  napi_value out;
  napi_create_double(env, best, &out);
  return out;
}

// conv2d(op, geometry, in1, in2, out) -> false when oneDNN is absent or rejects the geometry
napi_value conv2d(napi_env env, napi_callback_info info) {
  Args a(env, info, "conv2d", 5);
  const int64_t op = a.count(0, "op");
  sift::ConvGeometry g{};
  if (!geometry(a, 1, &g)) return nullptr;
  const int64_t w = int64_t(g.KH) * g.KW * g.C * g.O;
  const float* in1 = a.f32(2, op == 1 ? out_size(g) : image_size(g), op == 1 ? "dy" : "x");
  const float* in2 = a.f32(3, op == 2 ? out_size(g) : w, op == 2 ? "dy" : "filter");
  float* out = a.f32(4, op == 0 ? out_size(g) : op == 1 ? image_size(g) : w, "output");
  if (a.ok() && op > 2) a.fail("unknown op " + std::to_string(op));
  return guarded(a, [&] { return boolean(env, sift::dnnl_conv2d(int(op), g, in1, in2, out)); });
}

// matmul(shape [batch, batchA, batchB, M, N, K], transA, transB, a, b, bias|null, out) -> bool
napi_value matmul(napi_env env, napi_callback_info info) {
  Args a(env, info, "matmul", 7);
  const std::vector<int64_t> s = a.ints(0, "shape", 6, 6);
  const bool ta = a.flag(1, "transposeA"), tb = a.flag(2, "transposeB");
  if (!a.ok()) return nullptr;
  const int64_t batch = s[0], batchA = s[1], batchB = s[2], M = s[3], N = s[4], K = s[5];
  if (!((batchA == batch || batchA == 1) && (batchB == batch || batchB == 1))) {
    a.fail("batch sizes of a and b must equal the output's or be 1");
    return nullptr;
  }
  const float* pa = a.f32(3, batchA * M * K, "a");
  const float* pb = a.f32(4, batchB * K * N, "b");
  const float* bias = a.f32(5, N, "bias", true);
  float* out = a.f32(6, batch * M * N, "output");
  return guarded(a, [&] { return boolean(env, sift::dnnl_matmul(batch, batchA, batchB, M, N, K, ta, tb, pa, pb, bias, out)); });
}

// binary(op, dims, a, aStrides, b, bStrides, out): a and b both Float32Array or both Int32Array.
napi_value binary(napi_env env, napi_callback_info info) {
  Args a(env, info, "binary", 7);
  const int64_t op = a.count(0, "op");
  const std::vector<int64_t> dims = a.ints(1, "dims", 0, sift::kMaxRank);
  const std::vector<int64_t> as = a.ints(3, "a strides", dims.size(), dims.size());
  const std::vector<int64_t> bs = a.ints(5, "b strides", dims.size(), dims.size());
  const Args::Array x = a.array(2, "a"), y = a.array(4, "b"), out = a.array(6, "output");
  if (!a.ok()) return nullptr;
  const bool logical = op == int64_t(sift::BinaryOp::logical_and) || op == int64_t(sift::BinaryOp::logical_or);
  if (logical && (x.type != napi_uint8_array || y.type != napi_uint8_array)) {
    a.fail(std::string("a and b of a logical op must both be Uint8Array (bool), got ") + type_name(x.type) + " and " + type_name(y.type));
    return nullptr;
  }
  if (!logical && (x.type != y.type || (x.type != napi_float32_array && x.type != napi_int32_array))) {
    a.fail(std::string("a and b must both be Float32Array or both Int32Array, got ") + type_name(x.type) + " and " + type_name(y.type));
    return nullptr;
  }
  const bool compare = !logical && op >= int64_t(sift::BinaryOp::greater);
  if (!logical && (op > int64_t(sift::BinaryOp::not_equal) || (op > int64_t(sift::BinaryOp::squared_difference) && !compare))) {
    a.fail("unknown op " + std::to_string(op));
    return nullptr;
  }
  const napi_typedarray_type out_type = compare || logical ? napi_uint8_array : x.type;
  if (out.type != out_type) {
    a.fail(std::string("output must be a ") + type_name(out_type) + ", got a " + type_name(out.type));
    return nullptr;
  }
  // The furthest element each operand is read at.
  int64_t last_a = 0, last_b = 0;
  for (size_t d = 0; d < dims.size(); d++) {
    if (dims[d] == 0) return nullptr;  // nothing to do
    if (as[d] < 0 || bs[d] < 0) {
      a.fail("strides must be >= 0");
      return nullptr;
    }
    last_a += (dims[d] - 1) * as[d];
    last_b += (dims[d] - 1) * bs[d];
  }
  if (int64_t(x.length) <= last_a || int64_t(y.length) <= last_b || int64_t(out.length) < product(dims)) {
    a.fail("a tensor is shorter than its shape and strides need");
    return nullptr;
  }
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(binary, sift::BinaryOp(op), logical ? sift::DType::u8 : x.type == napi_float32_array ? sift::DType::f32 : sift::DType::i32, int(dims.size()),
              dims.data(), x.data, as.data(), y.data, bs.data(), out.data);
    return nullptr;
  });
}

// isFinite(x: Float32Array, out: Uint8Array)
napi_value is_finite(napi_env env, napi_callback_info info) {
  Args a(env, info, "isFinite", 2);
  const Args::Array x = a.array(0, "x");
  const float* px = a.f32(0, int64_t(x.length), "x");
  uint8_t* out = a.typed<uint8_t>(1, napi_uint8_array, int64_t(x.length), "output");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(is_finite, int64_t(x.length), px, out);
    return nullptr;
  });
}

// unary(op, x, out, alpha, beta)
napi_value unary(napi_env env, napi_callback_info info) {
  Args a(env, info, "unary", 5);
  const int64_t op = a.count(0, "op");
  const Args::Array x = a.array(1, "x");
  float* out = a.f32(2, int64_t(x.length), "output");
  const double alpha = a.number(3, "alpha"), beta = a.number(4, "beta");
  if (a.ok() && x.type != napi_float32_array) a.fail("x must be a Float32Array");
  if (a.ok() && op > int64_t(sift::UnaryOp::round)) a.fail("unknown op " + std::to_string(op));
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(unary, sift::UnaryOp(op), int64_t(x.length), static_cast<const float*>(x.data), out, float(alpha), float(beta));
    return nullptr;
  });
}

// reduce(op, A, R, B, x, out): Float32Arrays, or Int32Arrays for the sum (op 0)
napi_value reduce(napi_env env, napi_callback_info info) {
  Args a(env, info, "reduce", 6);
  const int64_t op = a.count(0, "op"), A = a.count(1, "A"), R = a.count(2, "R"), B = a.count(3, "B");
  if (a.ok() && op > int64_t(sift::ReduceOp::prod)) a.fail("unknown op " + std::to_string(op));
  const bool int32 = a.ok() && a.array(4, "x").type == napi_int32_array;
  if (int32) {
    if (op != int64_t(sift::ReduceOp::sum)) a.fail("int32 reduces by sum only");
    const int32_t* x = a.i32(4, A * R * B, "x");
    int32_t* out = a.i32(5, A * B, "output");
    return guarded(a, [&]() -> napi_value {
      SIFT_CALL(sum_i32, A, R, B, x, out);
      return nullptr;
    });
  }
  const float* x = a.f32(4, A * R * B, "x");
  float* out = a.f32(5, A * B, "output");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(reduce, sift::ReduceOp(op), A, R, B, x, out);
    return nullptr;
  });
}

// transpose(dims, perm, x, out): x and out TypedArrays of one element size.
napi_value transpose(napi_env env, napi_callback_info info) {
  Args a(env, info, "transpose", 4);
  const std::vector<int64_t> dims = a.ints(0, "dims", 1, sift::kMaxRank);
  const std::vector<int64_t> perm64 = a.ints(1, "perm", dims.size(), dims.size());
  const Args::Array x = a.array(2, "x"), out = a.array(3, "output");
  if (!a.ok()) return nullptr;
  std::vector<int> perm(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t d = 0; d < dims.size(); d++) {
    if (perm64[d] < 0 || perm64[d] >= int64_t(dims.size()) || seen[perm64[d]]) {
      a.fail("perm must be a permutation of 0.." + std::to_string(dims.size() - 1));
      return nullptr;
    }
    seen[perm64[d]] = true;
    perm[d] = int(perm64[d]);
  }
  const int bytes = element_bytes(x.type);
  if (element_bytes(out.type) != bytes || int64_t(x.length) < product(dims) || int64_t(out.length) < product(dims)) {
    a.fail("x and output must hold the same element type and at least the shape's size");
    return nullptr;
  }
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(transpose, bytes, int(dims.size()), dims.data(), perm.data(), x.data, out.data);
    return nullptr;
  });
}

// tile(dims, reps, x, out)
napi_value tile(napi_env env, napi_callback_info info) {
  Args a(env, info, "tile", 4);
  const std::vector<int64_t> dims = a.ints(0, "dims", 1, sift::kMaxRank);
  const std::vector<int64_t> reps = a.ints(1, "reps", dims.size(), dims.size());
  const Args::Array x = a.array(2, "x"), out = a.array(3, "output");
  if (!a.ok()) return nullptr;
  int64_t total = 1;
  for (size_t d = 0; d < dims.size(); d++) total *= dims[d] * reps[d];
  const int bytes = element_bytes(x.type);
  if (element_bytes(out.type) != bytes || int64_t(x.length) < product(dims) || int64_t(out.length) < total) {
    a.fail("x and output must hold the same element type and at least the shapes' sizes");
    return nullptr;
  }
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(tile, bytes, int(dims.size()), dims.data(), reps.data(), x.data, out.data);
    return nullptr;
  });
}

// softmax(rows, cols, x, out)
napi_value softmax(napi_env env, napi_callback_info info) {
  Args a(env, info, "softmax", 4);
  const int64_t rows = a.count(0, "rows"), cols = a.count(1, "cols");
  const float* x = a.f32(2, rows * cols, "x");
  float* out = a.f32(3, rows * cols, "output");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(softmax, rows, cols, x, out);
    return nullptr;
  });
}

// pool(op, geometry, in1, in2|null, out): op 0 max (x), 1 max gradient (dy, x), 2 average (x), 3 average gradient (dy)
napi_value pool(napi_env env, napi_callback_info info) {
  Args a(env, info, "pool", 5);
  const int64_t op = a.count(0, "op");
  sift::ConvGeometry g{};
  if (!geometry(a, 1, &g)) return nullptr;
  if (g.O != g.C) a.fail("pooling keeps the channels: O must equal C");
  const bool grad = op == 1 || op == 3;
  const float* in1 = a.f32(2, grad ? out_size(g) : image_size(g), grad ? "dy" : "x");
  const float* in2 = op == 1 ? a.f32(3, image_size(g), "x") : nullptr;
  float* out = a.f32(4, grad ? image_size(g) : out_size(g), "output");
  if (a.ok() && op > 3) a.fail("unknown op " + std::to_string(op));
  return guarded(a, [&]() -> napi_value {
    if (op == 0) SIFT_CALL(max_pool, g, in1, out);
    else if (op == 1) SIFT_CALL(max_pool_grad, g, in1, in2, out);
    else if (op == 2) SIFT_CALL(avg_pool, g, in1, out);
    else SIFT_CALL(avg_pool_grad, g, in1, out);
    return nullptr;
  });
}

// gather(outer, axis, inner, x, indices, out) -> false when an index is outside [0, axis)
napi_value gather(napi_env env, napi_callback_info info) {
  Args a(env, info, "gather", 6);
  const int64_t outer = a.count(0, "outer"), axis = a.count(1, "axis"), inner = a.count(2, "inner");
  const Args::Array x = a.array(3, "x"), idx = a.array(4, "indices"), out = a.array(5, "output");
  if (!a.ok()) return nullptr;
  const int bytes = element_bytes(x.type);
  if (idx.type != napi_int32_array) a.fail("indices must be an Int32Array");
  else if (element_bytes(out.type) != bytes || int64_t(x.length) < outer * axis * inner || int64_t(out.length) < outer * int64_t(idx.length) * inner)
    a.fail("x and output must hold the same element type and at least the shapes' sizes");
  return guarded(a, [&] {
    return boolean(env, SIFT_CALL(gather, bytes, outer, axis, inner, x.data, static_cast<const int32_t*>(idx.data), int64_t(idx.length), out.data));
  });
}

// segmentSum(rows, inner, x, ids, segments, out): x and out both Float32Array or both Int32Array
napi_value segment_sum(napi_env env, napi_callback_info info) {
  Args a(env, info, "segmentSum", 6);
  const int64_t rows = a.count(0, "rows"), inner = a.count(1, "inner");
  const Args::Array x = a.array(2, "x"), out = a.array(5, "output");
  const int32_t* ids = a.i32(3, rows, "segment ids");
  const int64_t segments = a.count(4, "segments");
  if (!a.ok()) return nullptr;
  if (x.type != out.type || (x.type != napi_float32_array && x.type != napi_int32_array))
    a.fail("x and output must both be Float32Array or both Int32Array");
  else if (int64_t(x.length) < rows * inner || int64_t(out.length) < segments * inner)
    a.fail("x or output is shorter than the shapes given need");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(segment_sum, x.type == napi_int32_array, rows, inner, x.data, ids, segments, out.data);
    return nullptr;
  });
}

// cast(x, out): Int32Array/Uint8Array -> Float32Array, Uint8Array -> Int32Array, Float32Array/Int32Array -> Uint8Array (x != 0)
napi_value cast(napi_env env, napi_callback_info info) {
  Args a(env, info, "cast", 2);
  const Args::Array x = a.array(0, "x"), out = a.array(1, "output");
  if (!a.ok()) return nullptr;
  auto code = [](napi_typedarray_type t) { return t == napi_float32_array ? 0 : t == napi_int32_array ? 1 : t == napi_uint8_array ? 2 : -1; };
  const int from = code(x.type), to = code(out.type);
  const bool supported = (to == 0 && (from == 1 || from == 2)) || (to == 1 && from == 2) || (to == 2 && (from == 0 || from == 1));
  if (!supported) a.fail(std::string("cannot cast a ") + type_name(x.type) + " to a " + type_name(out.type));
  else if (out.length < x.length) a.fail("output is shorter than x");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(cast, from, to, int64_t(x.length), x.data, out.data);
    return nullptr;
  });
}

// batchNormForward(relu, eps, x, gamma, beta, residual|null, y, mean, variance); C = gamma's length
napi_value batch_norm_forward(napi_env env, napi_callback_info info) {
  Args a(env, info, "batchNormForward", 9);
  const bool relu = a.flag(0, "relu");
  const double eps = a.number(1, "epsilon");
  const Rows r = rows_of(a, 2, 3, "gamma");
  const int64_t C = r.channels, n = r.size;
  const float* px = a.f32(2, n, "x");
  const float* gamma = a.f32(3, C, "gamma");
  const float* beta = a.f32(4, C, "beta");
  const float* residual = a.f32(5, n, "residual", true);
  float* y = a.f32(6, n, "y");
  float* mean = a.f32(7, C, "mean");
  float* var = a.f32(8, C, "variance");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(batch_norm_forward, r.rows(), int(C), px, gamma, beta, residual, relu, float(eps), y, mean, var);
    return nullptr;
  });
}

// batchNormBackward(relu, eps, dy, x, gamma, mean, variance, y|null, dx, dgamma, dbeta, dresidual|null)
napi_value batch_norm_backward(napi_env env, napi_callback_info info) {
  Args a(env, info, "batchNormBackward", 12);
  const bool relu = a.flag(0, "relu");
  const double eps = a.number(1, "epsilon");
  const Rows r = rows_of(a, 3, 4, "gamma");
  const int64_t C = r.channels, n = r.size;
  const float* dy = a.f32(2, n, "dy");
  const float* px = a.f32(3, n, "x");
  const float* gamma = a.f32(4, C, "gamma");
  const float* mean = a.f32(5, C, "mean");
  const float* var = a.f32(6, C, "variance");
  const float* y = a.f32(7, n, "y", true);
  float* dx = a.f32(8, n, "dx");
  float* dgamma = a.f32(9, C, "dgamma");
  float* dbeta = a.f32(10, C, "dbeta");
  float* dres = a.f32(11, n, "dresidual", true);
  if (a.ok() && relu && !y) a.fail("relu needs y");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(batch_norm_backward, r.rows(), int(C), dy, px, gamma, mean, var, y, relu, float(eps), dx, dgamma, dbeta, dres);
    return nullptr;
  });
}

// layerNormForward(eps, x, gamma, beta, y, mean, rstd); size = gamma's length
napi_value layer_norm_forward(napi_env env, napi_callback_info info) {
  Args a(env, info, "layerNormForward", 7);
  const double eps = a.number(0, "epsilon");
  const Rows r = rows_of(a, 1, 2, "gamma");
  const int64_t S = r.channels, n = r.size, rows = r.rows();
  const float* px = a.f32(1, n, "x");
  const float* gamma = a.f32(2, S, "gamma");
  const float* beta = a.f32(3, S, "beta");
  float* y = a.f32(4, n, "y");
  float* mean = a.f32(5, rows, "mean");
  float* rstd = a.f32(6, rows, "rstd");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(layer_norm_forward, rows, int(S), px, gamma, beta, float(eps), y, mean, rstd);
    return nullptr;
  });
}

// layerNormBackward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta)
napi_value layer_norm_backward(napi_env env, napi_callback_info info) {
  Args a(env, info, "layerNormBackward", 8);
  const Rows r = rows_of(a, 1, 2, "gamma");
  const int64_t S = r.channels, n = r.size, rows = r.rows();
  const float* dy = a.f32(0, n, "dy");
  const float* px = a.f32(1, n, "x");
  const float* gamma = a.f32(2, S, "gamma");
  const float* mean = a.f32(3, rows, "mean");
  const float* rstd = a.f32(4, rows, "rstd");
  float* dx = a.f32(5, n, "dx");
  float* dgamma = a.f32(6, S, "dgamma");
  float* dbeta = a.f32(7, S, "dbeta");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(layer_norm_backward, rows, int(S), dy, px, gamma, mean, rstd, dx, dgamma, dbeta);
    return nullptr;
  });
}

// gelu(tanh, x, y) / geluGrad(tanh, dy, x, dx)
napi_value gelu(napi_env env, napi_callback_info info) {
  Args a(env, info, "gelu", 3);
  const bool tanh_approx = a.flag(0, "tanh");
  const Args::Array x = a.array(1, "x");
  const float* px = a.f32(1, int64_t(x.length), "x");
  float* y = a.f32(2, int64_t(x.length), "y");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(gelu_forward, int64_t(x.length), tanh_approx, px, y);
    return nullptr;
  });
}

napi_value gelu_grad(napi_env env, napi_callback_info info) {
  Args a(env, info, "geluGrad", 4);
  const bool tanh_approx = a.flag(0, "tanh");
  const Args::Array x = a.array(2, "x");
  const int64_t n = int64_t(x.length);
  const float* dy = a.f32(1, n, "dy");
  const float* px = a.f32(2, n, "x");
  float* dx = a.f32(3, n, "dx");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(gelu_backward, n, tanh_approx, dy, px, dx);
    return nullptr;
  });
}

// select(cond: Uint8Array, a, b, out): a, b and out all Float32Array or all Int32Array, as long as cond
napi_value select_where(napi_env env, napi_callback_info info) {
  Args a(env, info, "select", 4);
  const Args::Array cond = a.array(0, "condition"), x = a.array(1, "a"), y = a.array(2, "b"), out = a.array(3, "output");
  const int64_t n = int64_t(cond.length);
  if (a.ok() && cond.type != napi_uint8_array) a.fail("condition must be a Uint8Array");
  if (a.ok() && !((x.type == napi_float32_array || x.type == napi_int32_array) && y.type == x.type && out.type == x.type))
    a.fail("a, b and output must all be Float32Array or all Int32Array");
  if (a.ok() && (int64_t(x.length) < n || int64_t(y.length) < n || int64_t(out.length) < n)) a.fail("a, b and output must hold as many elements as condition");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(select_bits, n, static_cast<const uint8_t*>(cond.data), static_cast<const uint32_t*>(x.data), static_cast<const uint32_t*>(y.data),
              static_cast<uint32_t*>(out.data));
    return nullptr;
  });
}

// dropout(x, out, scale, threshold, key: Float64Array [k0, k1], counter: Float64Array [c1, c2, c3]): words < 2^32
napi_value dropout(napi_env env, napi_callback_info info) {
  Args a(env, info, "dropout", 6);
  const Args::Array x = a.array(0, "x");
  const int64_t n = int64_t(x.length);
  const float* px = a.f32(0, n, "x");
  float* out = a.f32(1, n, "output");
  const double scale = a.number(2, "scale");
  const int64_t threshold = a.count(3, "threshold");
  const std::vector<int64_t> key = a.ints(4, "key", 2, 2), counter = a.ints(5, "counter", 3, 3);
  for (int64_t w : {threshold, key.empty() ? 0 : key[0], key.empty() ? 0 : key[1], counter.empty() ? 0 : counter[0],
                    counter.empty() ? 0 : counter[1], counter.empty() ? 0 : counter[2]}) {
    if (a.ok() && (w < 0 || w > 0xFFFFFFFFll)) a.fail("threshold, key and counter words must be in [0, 2^32), got " + std::to_string(w));
  }
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(dropout, n, px, out, float(scale), uint32_t(threshold), uint32_t(key[0]), uint32_t(key[1]), uint32_t(counter[0]),
              uint32_t(counter[1]), uint32_t(counter[2]));
    return nullptr;
  });
}

// copyBlock(dims, x, xOffset, xStrides, out, outOffset, outStrides): element offsets and strides (>= 0)
napi_value copy_block(napi_env env, napi_callback_info info) {
  Args a(env, info, "copyBlock", 7);
  const std::vector<int64_t> dims = a.ints(0, "dims", 0, sift::kMaxRank);
  const Args::Array x = a.array(1, "x"), out = a.array(4, "output");
  const int64_t xo = a.count(2, "x offset"), oo = a.count(5, "output offset");
  const std::vector<int64_t> xs = a.ints(3, "x strides", dims.size(), dims.size());
  const std::vector<int64_t> os = a.ints(6, "output strides", dims.size(), dims.size());
  if (!a.ok()) return nullptr;
  int64_t last_x = xo, last_o = oo;
  for (size_t d = 0; d < dims.size(); d++) {
    if (dims[d] == 0) return nullptr;
    if (xs[d] < 0 || os[d] < 0) {
      a.fail("strides must be >= 0");
      return nullptr;
    }
    last_x += (dims[d] - 1) * xs[d];
    last_o += (dims[d] - 1) * os[d];
  }
  const int bytes = element_bytes(x.type);
  if (element_bytes(out.type) != bytes) a.fail("x and output must hold the same element type");
  else if (last_x >= int64_t(x.length) || last_o >= int64_t(out.length)) a.fail("the block reaches past the end of x or of the output");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(copy_block, bytes, int(dims.size()), dims.data(), x.data, xo, xs.data(), out.data, oo, os.data());
    return nullptr;
  });
}

// addN(xs: Float32Array[], out)
napi_value add_n(napi_env env, napi_callback_info info) {
  Args a(env, info, "addN", 2);
  const Args::Array out = a.array(1, "output");
  std::vector<const float*> ptrs;
  if (a.ok()) {
    napi_value list = nullptr;
    size_t argc = 2;
    napi_value argv[2];
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
    list = argv[0];
    bool is_array = false;
    napi_is_array(env, list, &is_array);
    uint32_t n = 0;
    if (is_array) napi_get_array_length(env, list, &n);
    if (!is_array || n == 0) a.fail("xs must be a non-empty array of Float32Arrays");
    for (uint32_t i = 0; a.ok() && i < n; i++) {
      napi_value el;
      napi_get_element(env, list, i, &el);
      bool typed = false;
      napi_is_typedarray(env, el, &typed);
      napi_typedarray_type t;
      size_t len = 0;
      void* data = nullptr;
      if (typed) napi_get_typedarray_info(env, el, &t, &len, &data, nullptr, nullptr);
      if (!typed || t != napi_float32_array || len < out.length) a.fail("xs[" + std::to_string(i) + "] must be a Float32Array as long as the output");
      ptrs.push_back(static_cast<const float*>(data));
    }
    if (a.ok() && out.type != napi_float32_array) a.fail("output must be a Float32Array");
  }
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(add_n, int(ptrs.size()), ptrs.data(), int64_t(out.length), static_cast<float*>(out.data));
    return nullptr;
  });
}

// channelAffine(x, mean, k, offset, y): y = (x - mean[c]) * k[c] + offset[c], C = mean's length
napi_value channel_affine(napi_env env, napi_callback_info info) {
  Args a(env, info, "channelAffine", 5);
  const Rows r = rows_of(a, 0, 1, "mean");
  const int64_t C = r.channels, n = r.size;
  const float* px = a.f32(0, n, "x");
  const float* mean = a.f32(1, C, "mean");
  const float* k = a.f32(2, C, "k");
  const float* off = a.f32(3, C, "offset");
  float* y = a.f32(4, n, "y");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(channel_affine, r.rows(), int(C), px, mean, k, off, y);
    return nullptr;
  });
}

// sgdUpdate(w, g, b | null, wOut, bOut | null, lr, momentum, dampening, nesterov, weightDecay, firstStep):
// core's SparseIftSgdUpdate; the scalars arrive as JavaScript numbers and are rounded to float32 as tf.js
// rounds a scalar operand (1 - dampening in double first, as the composed op computes it).
napi_value sgd_update(napi_env env, napi_callback_info info) {
  Args a(env, info, "sgdUpdate", 11);
  const int64_t n = int64_t(a.array(0, "w").length);
  const float* w = a.f32(0, n, "w");
  const float* g = a.f32(1, n, "g");
  const float* b = a.f32(2, n, "momentum", true);
  float* w_out = a.f32(3, n, "w output");
  float* b_out = a.f32(4, n, "momentum output", true);
  if (a.ok() && (b == nullptr) != (b_out == nullptr)) a.fail("momentum and its output go together");
  const double lr = a.number(5, "learningRate"), momentum = a.number(6, "momentum"), dampening = a.number(7, "dampening");
  const bool nesterov = a.flag(8, "nesterov");
  const double wd = a.number(9, "weightDecay");
  const bool first = a.flag(10, "firstStep");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(sgd_update, n, w, g, b, float(lr), float(momentum), float(1.0 - dampening), nesterov, float(wd), first, w_out, b_out);
    return nullptr;
  });
}

// adamWUpdate(w, g, m, v, vMax | null, wOut, mOut, vOut, vMaxOut | null, decayFactor, beta1, beta2, epsilon,
// stepSize, biasCorrection2Sqrt): core's SparseIftAdamWUpdate (scalars rounded as sgdUpdate's).
napi_value adamw_update(napi_env env, napi_callback_info info) {
  Args a(env, info, "adamWUpdate", 15);
  const int64_t n = int64_t(a.array(0, "w").length);
  const float* w = a.f32(0, n, "w");
  const float* g = a.f32(1, n, "g");
  const float* m = a.f32(2, n, "expAvg");
  const float* v = a.f32(3, n, "expAvgSq");
  const float* v_max = a.f32(4, n, "maxExpAvgSq", true);
  float* w_out = a.f32(5, n, "w output");
  float* m_out = a.f32(6, n, "expAvg output");
  float* v_out = a.f32(7, n, "expAvgSq output");
  float* v_max_out = a.f32(8, n, "maxExpAvgSq output", true);
  if (a.ok() && (v_max == nullptr) != (v_max_out == nullptr)) a.fail("maxExpAvgSq and its output go together");
  const double decay = a.number(9, "decayFactor"), beta1 = a.number(10, "beta1"), beta2 = a.number(11, "beta2");
  const double eps = a.number(12, "epsilon"), step_size = a.number(13, "stepSize"), bc2 = a.number(14, "biasCorrection2Sqrt");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(adamw_update, n, w, g, m, v, v_max, float(decay), float(beta1), float(1.0 - beta1), float(beta2), float(1.0 - beta2),
              float(eps), float(step_size), float(bc2), w_out, m_out, v_out, v_max_out);
    return nullptr;
  });
}

// argReduce(max, A, R, B, x, out: Int32Array)
napi_value arg_reduce(napi_env env, napi_callback_info info) {
  Args a(env, info, "argReduce", 6);
  const bool max = a.flag(0, "max");
  const int64_t A = a.count(1, "A"), R = a.count(2, "R"), B = a.count(3, "B");
  if (a.ok() && R == 0) a.fail("cannot reduce an empty axis");
  const float* x = a.f32(4, A * R * B, "x");
  int32_t* out = a.i32(5, A * B, "output");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(arg_reduce, max, A, R, B, x, out);
    return nullptr;
  });
}

// oneHot(indices: Int32Array, depth, on, off, out: Float32Array | Int32Array)
napi_value one_hot(napi_env env, napi_callback_info info) {
  Args a(env, info, "oneHot", 5);
  const Args::Array idx = a.array(0, "indices"), out = a.array(4, "output");
  const int64_t depth = a.count(1, "depth");
  const double on = a.number(2, "on value"), off = a.number(3, "off value");
  if (!a.ok()) return nullptr;
  if (idx.type != napi_int32_array) a.fail("indices must be an Int32Array");
  else if (out.type != napi_float32_array && out.type != napi_int32_array) a.fail("output must be a Float32Array or an Int32Array");
  else if (int64_t(out.length) < int64_t(idx.length) * depth) a.fail("output is shorter than indices x depth");
  return guarded(a, [&]() -> napi_value {
    SIFT_CALL(one_hot, out.type == napi_float32_array ? 0 : 1, int64_t(idx.length), static_cast<const int32_t*>(idx.data), depth, on, off, out.data);
    return nullptr;
  });
}

}  // namespace

namespace sift {

void memory_pool_exports(napi_env env, napi_value obj);

napi_value tensor_kernels(napi_env env) {
  napi_value obj;
  napi_create_object(env, &obj);
  const std::pair<const char*, napi_callback> fns[] = {
      {"description", description}, {"isa", isa}, {"fmaPeak", fma_peak}, {"conv2d", conv2d}, {"matmul", matmul}, {"binary", binary},
      {"unary", unary}, {"reduce", reduce}, {"transpose", transpose}, {"tile", tile}, {"softmax", softmax},
      {"pool", pool}, {"gather", gather}, {"segmentSum", segment_sum}, {"cast", cast},
      {"batchNormForward", batch_norm_forward}, {"batchNormBackward", batch_norm_backward},
      {"layerNormForward", layer_norm_forward}, {"layerNormBackward", layer_norm_backward},
      {"gelu", gelu}, {"geluGrad", gelu_grad}, {"copyBlock", copy_block}, {"addN", add_n},
      {"channelAffine", channel_affine}, {"argReduce", arg_reduce}, {"oneHot", one_hot},
      {"dropout", dropout}, {"select", select_where}, {"isFinite", is_finite},
      {"sgdUpdate", sgd_update}, {"adamWUpdate", adamw_update},
  };
  for (const auto& [name, fn] : fns) {
    napi_value f;
    napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &f);
    napi_set_named_property(env, obj, name, f);
  }
  memory_pool_exports(env, obj);
  return obj;
}

}  // namespace sift
