// Batched matmul on oneDNN (Debian's libdnnl-dev), in place on row-major tensors: transposed operands are
// described by their strides (no copies), the bias is fused. Primitives are created once per problem and
// cached (creating one costs far more than running a small one).
#include "kernels.h"

#ifdef SIFT_HAVE_DNNL
#include "dnnl_common.h"

#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <unordered_map>

namespace sift {
namespace {

using dnnl::memory;
using dt = memory::data_type;

struct Plan {
  memory::desc a_md, b_md, bias_md, out_md;
  dnnl::matmul prim;
};

using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool, bool, bool>;

// [batch, rows, cols] of a matrix stored as [batch, rows, cols] (or [batch, cols, rows] when transposed).
memory::desc matrix(int64_t batch, int64_t rows, int64_t cols, bool transposed) {
  const memory::dims dims{batch, rows, cols};
  const memory::dims strides = transposed ? memory::dims{rows * cols, 1, rows} : memory::dims{rows * cols, cols, 1};
  return memory::desc(dims, dt::f32, strides);
}

std::unique_ptr<Plan> make_plan(const Key& k) {
  const auto [batch, batchA, batchB, M, N, K, transA, transB, bias] = k;
  auto p = std::make_unique<Plan>();
  p->a_md = matrix(batchA, M, K, transA);
  p->b_md = matrix(batchB, K, N, transB);
  p->out_md = matrix(batch, M, N, false);
  if (bias) p->bias_md = memory::desc({1, 1, N}, dt::f32, memory::dims{N, N, 1});
  const dnnl::matmul::desc d = bias ? dnnl::matmul::desc(p->a_md, p->b_md, p->bias_md, p->out_md)
                                    : dnnl::matmul::desc(p->a_md, p->b_md, p->out_md);
  p->prim = dnnl::matmul(dnnl::matmul::primitive_desc(d, cpu_engine()));
  return p;
}

}  // namespace

bool dnnl_matmul(int64_t batch, int64_t batchA, int64_t batchB, int64_t M, int64_t N, int64_t K, bool transA, bool transB,
                 const float* a, const float* b, const float* bias, float* out) {
  static std::map<Key, std::unique_ptr<Plan>> cache;
  static std::set<Key> rejected;
  const Key key{batch, batchA, batchB, M, N, K, transA, transB, bias != nullptr};
  if (rejected.count(key)) return false;
  auto it = cache.find(key);
  if (it == cache.end()) {
    try {
      it = cache.emplace(key, make_plan(key)).first;
    } catch (const dnnl::error&) {
      rejected.insert(key);
      return false;
    }
  }
  Plan& p = *it->second;
  const OneThreadIf small(batch * M * N * K < kParallelMacs);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, wrap(p.a_md, a)}, {DNNL_ARG_WEIGHTS, wrap(p.b_md, b)}, {DNNL_ARG_DST, wrap(p.out_md, out)}};
  if (bias) args.emplace(DNNL_ARG_BIAS, wrap(p.bias_md, bias));
  p.prim.execute(cpu_stream(), args);
  cpu_stream().wait();
  return true;
}

}  // namespace sift

#else

namespace sift {
bool dnnl_matmul(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool, bool, const float*, const float*, const float*, float*) {
  return false;
}
}  // namespace sift

#endif
