// What the oneDNN kernels share: one CPU engine and stream for the process, and memory objects over
// caller-owned data (tensors stay where they are; oneDNN never copies them in).
#pragma once
#ifdef SIFT_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>

namespace sift {

inline dnnl::engine& cpu_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

inline dnnl::stream& cpu_stream() {
  static dnnl::stream s(cpu_engine());
  return s;
}

inline dnnl::memory wrap(const dnnl::memory::desc& md, const float* data) {
  return dnnl::memory(md, cpu_engine(), const_cast<float*>(data));
}

}  // namespace sift
#endif
