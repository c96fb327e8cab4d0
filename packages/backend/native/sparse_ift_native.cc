// sparse-ift native kernels: single-precision GEMM, 2-D convolution (forward, backprop input, backprop
// filter: oneDNN direct convolutions when built with it, else im2col/col2im + OpenBLAS sgemm) and fused
// training batch norm, multi-threaded, on tensors that live in the wasm backend's heap. JavaScript passes the heap's ArrayBuffer and byte offsets; nothing is copied in
// or out. Plain N-API (node_api.h), so one build works across Node versions.
#include <node_api.h>
#include <cblas.h>

#include "kernels.h"

namespace sift {
napi_value tensor_kernels(napi_env env);
}

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
// OpenBLAS extensions (declared in openblas_config.h / cblas.h on Debian, repeated for portability).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
}

namespace {

bool check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) {
    napi_throw_error(env, nullptr, what);
    return false;
  }
  return true;
}

double num(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

bool boolean(napi_env env, napi_value v) {
  bool b = false;
  napi_get_value_bool(env, v, &b);
  return b;
}

// Returns the base pointer of an ArrayBuffer (the wasm heap) and its length.
uint8_t* heap(napi_env env, napi_value v, size_t* length) {
  void* data = nullptr;
  bool is_ab = false;
  napi_is_arraybuffer(env, v, &is_ab);
  if (!is_ab) {
    napi_throw_type_error(env, nullptr, "sparse-ift native: first argument must be the wasm heap ArrayBuffer");
    return nullptr;
  }
  if (!check(env, napi_get_arraybuffer_info(env, v, &data, length), "sparse-ift native: cannot read the heap ArrayBuffer")) return nullptr;
  return static_cast<uint8_t*>(data);
}

bool in_bounds(napi_env env, size_t heap_len, double offset, double bytes, const char* what) {
  if (offset < 0 || offset + bytes > static_cast<double>(heap_len)) {
    std::string msg = std::string("sparse-ift native: ") + what + " lies outside the wasm heap (stale buffer after memory growth?)";
    napi_throw_range_error(env, nullptr, msg.c_str());
    return false;
  }
  return true;
}

napi_value library(napi_env env, napi_callback_info) {
  const std::string dnnl = sift::dnnl_description();
  std::string s = (dnnl.empty() ? std::string("im2col convolutions + ") : dnnl + " convolutions + ") + openblas_get_config() +
                  " GEMMs + OpenMP batch/layer norm and GELU";
  napi_value out;
  napi_create_string_utf8(env, s.c_str(), s.size(), &out);
  return out;
}

napi_value threads(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_int32(env, sift::omp_threads(), &out);
  return out;
}

// Convolutions on oneDNN when built with it (default), or on im2col + OpenBLAS (tests run both).
bool use_dnnl = true;

napi_value set_conv_library(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  char name[16] = {0};
  size_t len = 0;
  napi_get_value_string_utf8(env, argv[0], name, sizeof(name), &len);
  const std::string lib(name, len);
  if (lib == "onednn") {
    if (sift::dnnl_description().empty()) {
      napi_throw_error(env, nullptr, "sparse-ift native: built without oneDNN (install libdnnl-dev and rebuild)");
      return nullptr;
    }
    use_dnnl = true;
  } else if (lib == "openblas") {
    use_dnnl = false;
  } else {
    napi_throw_type_error(env, nullptr, "sparse-ift native setConvLibrary: expected 'onednn' or 'openblas'");
  }
  return nullptr;
}

napi_value conv_library(napi_env env, napi_callback_info) {
  const char* lib = use_dnnl && !sift::dnnl_description().empty() ? "onednn" : "openblas";
  napi_value out;
  napi_create_string_utf8(env, lib, NAPI_AUTO_LENGTH, &out);
  return out;
}

napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int n = static_cast<int>(num(env, argv[0]));
  if (n < 1) n = 1;
  openblas_set_num_threads(n);
  sift::set_omp_threads(n);
  return nullptr;
}

// One call of an entry point: argv[0] is the wasm heap, then numbers (sizes, flags, byte offsets). Reads
// and checks them once, so each entry point below is its argument list and one kernel call.
class Call {
 public:
  Call(napi_env env, napi_callback_info info, const char* name, size_t argc_a, size_t argc_b = 0) : env_(env) {
    napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr);
    if (argc_ != argc_a && argc_ != argc_b) {
      const std::string msg = std::string("sparse-ift native ") + name + ": expected " + std::to_string(argc_a) +
                              (argc_b ? " or " + std::to_string(argc_b) : std::string()) + " arguments, got " + std::to_string(argc_);
      napi_throw_type_error(env, nullptr, msg.c_str());
      return;
    }
    base_ = heap(env, argv_[0], &len_);
  }
  bool ok() const { return base_ != nullptr && !failed_; }
  size_t argc() const { return argc_; }
  double number(size_t i) const { return num(env_, argv_[i]); }
  bool flag(size_t i) const { return boolean(env_, argv_[i]); }
  // The float tensor whose byte offset is argument i, checked to lie in the heap; null for a negative
  // offset when `optional` (an absent tensor).
  float* tensor(size_t i, double bytes, const char* what, bool optional = false) {
    if (!ok()) return nullptr;
    const double off = number(i);
    if (optional && off < 0) return nullptr;
    if (!in_bounds(env_, len_, off, bytes, what)) {
      failed_ = true;
      return nullptr;
    }
    return reinterpret_cast<float*>(base_ + static_cast<size_t>(off));
  }

 private:
  napi_env env_;
  size_t argc_ = 20;
  napi_value argv_[20];
  uint8_t* base_ = nullptr;
  size_t len_ = 0;
  bool failed_ = false;
};

// sgemm(heap, transA, transB, m, n, k, aOff, bOff, cOff, batch, aStride, bStride, cStride, accumulate)
// Row-major C[m,n] (+)= op(A)[m,k] op(B)[k,n] for each batch entry; offsets and strides in bytes.
napi_value sgemm(napi_env env, napi_callback_info info) {
  Call c(env, info, "sgemm", 14);
  if (!c.ok()) return nullptr;
  const bool ta = c.flag(1), tb = c.flag(2), acc = c.flag(13);
  const int m = static_cast<int>(c.number(3)), n = static_cast<int>(c.number(4)), k = static_cast<int>(c.number(5));
  const int batch = static_cast<int>(c.number(9));
  const double a_stride = c.number(10), b_stride = c.number(11), c_stride = c.number(12);
  const uint8_t* a0 = reinterpret_cast<const uint8_t*>(c.tensor(6, a_stride * (batch - 1) + 4.0 * m * k, "A"));
  const uint8_t* b0 = reinterpret_cast<const uint8_t*>(c.tensor(7, b_stride * (batch - 1) + 4.0 * k * n, "B"));
  uint8_t* c0 = reinterpret_cast<uint8_t*>(c.tensor(8, c_stride * (batch - 1) + 4.0 * m * n, "C"));
  if (!c.ok()) return nullptr;
  for (int i = 0; i < batch; i++) {
    const float* a = reinterpret_cast<const float*>(a0 + static_cast<size_t>(a_stride * i));
    const float* b = reinterpret_cast<const float*>(b0 + static_cast<size_t>(b_stride * i));
    float* out = reinterpret_cast<float*>(c0 + static_cast<size_t>(c_stride * i));
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a,
                ta ? m : k, b, tb ? k : n, acc ? 1.0f : 0.0f, out, n);
  }
  return nullptr;
}

struct Geometry {
  int N, H, W, C, OH, OW, O, KH, KW, SH, SW, DH, DW, PT, PL;
  int64_t patch() const { return int64_t(KH) * KW * C; }
  bool pointwise() const { return KH == 1 && KW == 1 && SH == 1 && SW == 1 && PT == 0 && PL == 0; }
};

// dx[n, r, c, ch] += cols[(n, oh, ow), (a, b, ch)] for every tap that reads (r, c).
// im2col/col2im are memory-bound and single-threaded; OpenBLAS threads the GEMMs.
void col2im(const Geometry& g, const float* cols, int n0, int n1, float* dx) {
  const int64_t patch = g.patch();
  for (int n = n0; n < n1; n++) {
    for (int oh = 0; oh < g.OH; oh++) {
      for (int ow = 0; ow < g.OW; ow++) {
        const float* row = cols + ((int64_t(n - n0) * g.OH + oh) * g.OW + ow) * patch;
        for (int a = 0; a < g.KH; a++) {
          const int r = oh * g.SH - g.PT + a * g.DH;
          if (r < 0 || r >= g.H) continue;
          for (int b = 0; b < g.KW; b++) {
            const int c = ow * g.SW - g.PL + b * g.DW;
            if (c < 0 || c >= g.W) continue;
            const float* src = row + (int64_t(a) * g.KW + b) * g.C;
            float* dst = dx + ((int64_t(n) * g.H + r) * g.W + c) * g.C;
            for (int ch = 0; ch < g.C; ch++) dst[ch] += src[ch];
          }
        }
      }
    }
  }
}

// Images per chunk, so the column buffer stays around 16 MB (cache- and memory-friendly).
int chunk_images(const Geometry& g) {
  const int64_t per_image = int64_t(g.OH) * g.OW * g.patch();
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(g.N, (4LL << 20) / std::max<int64_t>(1, per_image))));
}

// conv2d(heap, op, N,H,W,C, OH,OW,O, KH,KW, SH,SW, DH,DW, PT,PL, in1Off, in2Off, outOff)
//   op 0 forward:         in1 = x [N,H,W,C],     in2 = w [KH,KW,C,O],  out = y [N,OH,OW,O]
//   op 1 backprop input:  in1 = dy [N,OH,OW,O],  in2 = w,              out = dx [N,H,W,C]
//   op 2 backprop filter: in1 = x,               in2 = dy,             out = dw [KH,KW,C,O]
napi_value conv2d(napi_env env, napi_callback_info info) {
  Call c(env, info, "conv2d", 20);
  if (!c.ok()) return nullptr;
  const int op = static_cast<int>(c.number(1));
  Geometry g;
  int* fields[] = {&g.N, &g.H, &g.W, &g.C, &g.OH, &g.OW, &g.O, &g.KH, &g.KW, &g.SH, &g.SW, &g.DH, &g.DW, &g.PT, &g.PL};
  for (int i = 0; i < 15; i++) *fields[i] = static_cast<int>(c.number(2 + i));
  const double x_bytes = 4.0 * g.N * g.H * g.W * g.C, y_bytes = 4.0 * g.N * g.OH * g.OW * g.O, w_bytes = 4.0 * g.patch() * g.O;
  const double out_bytes = op == 0 ? y_bytes : op == 1 ? x_bytes : w_bytes;
  const float* in1 = c.tensor(17, op == 1 ? y_bytes : x_bytes, "conv input 1");
  const float* in2 = c.tensor(18, op == 2 ? y_bytes : w_bytes, "conv input 2");
  float* out = c.tensor(19, out_bytes, "conv output");
  if (!c.ok()) return nullptr;
  const sift::ConvGeometry cg{g.N, g.H, g.W, g.C, g.OH, g.OW, g.O, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL};
  if (use_dnnl && sift::dnnl_conv2d(op, cg, in1, in2, out)) return nullptr;
  const int64_t patch = g.patch();
  const int64_t pix = int64_t(g.OH) * g.OW;
  const int chunk = chunk_images(g);
  std::vector<float> cols;
  if (!g.pointwise()) cols.resize(static_cast<size_t>(chunk * pix * patch));
  if (op == 1) std::memset(out, 0, static_cast<size_t>(out_bytes));
  for (int n0 = 0; n0 < g.N; n0 += chunk) {
    const int n1 = std::min(g.N, n0 + chunk);
    const int rows = static_cast<int>((n1 - n0) * pix);
    if (op == 0) {
      const float* a = in1 + int64_t(n0) * g.H * g.W * g.C;
      if (!g.pointwise()) {
        SIFT_CALL(im2col, cg, in1, n0, n1, cols.data());
        a = cols.data();
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, g.O, static_cast<int>(patch), 1.0f, a,
                  static_cast<int>(patch), in2, g.O, 0.0f, out + int64_t(n0) * pix * g.O, g.O);
    } else if (op == 1) {
      const float* dy = in1 + int64_t(n0) * pix * g.O;
      if (g.pointwise()) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, static_cast<int>(patch), g.O, 1.0f, dy, g.O, in2, g.O,
                    0.0f, out + int64_t(n0) * g.H * g.W * g.C, static_cast<int>(patch));
      } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, static_cast<int>(patch), g.O, 1.0f, dy, g.O, in2, g.O,
                    0.0f, cols.data(), static_cast<int>(patch));
        col2im(g, cols.data(), n0, n1, out);
      }
    } else {
      const float* a = in1 + int64_t(n0) * g.H * g.W * g.C;
      if (!g.pointwise()) {
        SIFT_CALL(im2col, cg, in1, n0, n1, cols.data());
        a = cols.data();
      }
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(patch), g.O, rows, 1.0f, a,
                  static_cast<int>(patch), in2 + int64_t(n0) * pix * g.O, g.O, n0 == 0 ? 0.0f : 1.0f, out, g.O);
    }
  }
  return nullptr;
}


// batchNormForward(heap, M, C, relu, eps, x, gamma, beta, residual|-1, y, mean, var)   (byte offsets)
napi_value batch_norm_forward(napi_env env, napi_callback_info info) {
  Call c(env, info, "batchNormForward", 12);
  if (!c.ok()) return nullptr;
  const double M = c.number(1), C = c.number(2), act = 4.0 * M * C, ch = 4.0 * C;
  float* x = c.tensor(5, act, "x");
  float* gamma = c.tensor(6, ch, "gamma");
  float* beta = c.tensor(7, ch, "beta");
  float* residual = c.tensor(8, act, "residual", true);
  float* y = c.tensor(9, act, "y");
  float* mean = c.tensor(10, ch, "mean");
  float* var = c.tensor(11, ch, "variance");
  if (!c.ok()) return nullptr;
  SIFT_CALL(batch_norm_forward, static_cast<int64_t>(M), static_cast<int>(C), x, gamma, beta, residual, c.flag(3),
                           static_cast<float>(c.number(4)), y, mean, var);
  return nullptr;
}

// batchNormBackward(heap, M, C, relu, eps, dy, x, gamma, mean, var, y|-1, dx, dgamma, dbeta, dresidual|-1)
napi_value batch_norm_backward(napi_env env, napi_callback_info info) {
  Call c(env, info, "batchNormBackward", 15);
  if (!c.ok()) return nullptr;
  const double M = c.number(1), C = c.number(2), act = 4.0 * M * C, ch = 4.0 * C;
  const bool relu = c.flag(3);
  float* dy = c.tensor(5, act, "dy");
  float* x = c.tensor(6, act, "x");
  float* gamma = c.tensor(7, ch, "gamma");
  float* mean = c.tensor(8, ch, "mean");
  float* var = c.tensor(9, ch, "variance");
  float* y = c.tensor(10, act, "y", true);
  float* dx = c.tensor(11, act, "dx");
  float* dgamma = c.tensor(12, ch, "dgamma");
  float* dbeta = c.tensor(13, ch, "dbeta");
  float* dresidual = c.tensor(14, act, "dresidual", true);
  if (!c.ok()) return nullptr;
  if (relu && !y) {
    napi_throw_type_error(env, nullptr, "sparse-ift native batchNormBackward: relu needs y");
    return nullptr;
  }
  SIFT_CALL(batch_norm_backward, static_cast<int64_t>(M), static_cast<int>(C), dy, x, gamma, mean, var, y, relu,
                            static_cast<float>(c.number(4)), dx, dgamma, dbeta, dresidual);
  return nullptr;
}

// gelu(heap, n, tanhApprox, x, y) and geluGrad(heap, n, tanhApprox, dy, x, dx)   (byte offsets)
napi_value gelu(napi_env env, napi_callback_info info) {
  Call c(env, info, "gelu", 5, 6);
  if (!c.ok()) return nullptr;
  const double n = c.number(1), bytes = 4.0 * n;
  const bool tanh_approx = c.flag(2);
  float* a = c.tensor(3, bytes, "gelu input");
  float* b = c.tensor(4, bytes, "gelu tensor");
  float* out = c.argc() == 6 ? c.tensor(5, bytes, "gelu gradient") : nullptr;
  if (!c.ok()) return nullptr;
  if (out) SIFT_CALL(gelu_backward, static_cast<int64_t>(n), tanh_approx, a, b, out);
  else SIFT_CALL(gelu_forward, static_cast<int64_t>(n), tanh_approx, a, b);
  return nullptr;
}

// layerNorm(heap, rows, size, eps, x, gamma, beta, y, mean, rstd)                     (forward, 10 args)
// layerNorm(heap, rows, size, dy, x, gamma, mean, rstd, dx, dgamma, dbeta)           (gradient, 11 args)
napi_value layer_norm(napi_env env, napi_callback_info info) {
  Call c(env, info, "layerNorm", 10, 11);
  if (!c.ok()) return nullptr;
  const double rows = c.number(1), size = c.number(2);
  const double act = 4.0 * rows * size, row = 4.0 * rows, col = 4.0 * size;
  const int64_t R = static_cast<int64_t>(rows);
  const int S = static_cast<int>(size);
  if (c.argc() == 11) {
    float* dy = c.tensor(3, act, "dy");
    float* x = c.tensor(4, act, "x");
    float* gamma = c.tensor(5, col, "gamma");
    float* mean = c.tensor(6, row, "mean");
    float* rstd = c.tensor(7, row, "rstd");
    float* dx = c.tensor(8, act, "dx");
    float* dgamma = c.tensor(9, col, "dgamma");
    float* dbeta = c.tensor(10, col, "dbeta");
    if (c.ok()) SIFT_CALL(layer_norm_backward, R, S, dy, x, gamma, mean, rstd, dx, dgamma, dbeta);
  } else {
    float* x = c.tensor(4, act, "x");
    float* gamma = c.tensor(5, col, "gamma");
    float* beta = c.tensor(6, col, "beta");
    float* y = c.tensor(7, act, "y");
    float* mean = c.tensor(8, row, "mean");
    float* rstd = c.tensor(9, row, "rstd");
    if (c.ok()) SIFT_CALL(layer_norm_forward, R, S, x, gamma, beta, static_cast<float>(c.number(3)), y, mean, rstd);
  }
  return nullptr;
}

}  // namespace

namespace sift {
void register_sparse_kernels(napi_env env, napi_value exports);  // sparse_napi.cc
}  // namespace sift

namespace {

napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"library", nullptr, library, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"threads", nullptr, threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, set_threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setConvLibrary", nullptr, set_conv_library, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convLibrary", nullptr, conv_library, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgemm", nullptr, sgemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNorm", nullptr, layer_norm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gelu", nullptr, gelu, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormForward", nullptr, batch_norm_forward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormBackward", nullptr, batch_norm_backward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  // The native tf.js backend's kernels, on TypedArrays (tensor_kernels.cc).
  napi_set_named_property(env, exports, "tensors", sift::tensor_kernels(env));
  sift::register_sparse_kernels(env, exports);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
