// Which copy of the hand-written kernels runs (see kernels.h), and the OpenMP thread count.
#include <omp.h>

#include <cstdlib>
#include <cstring>

#include "kernels.h"

namespace sift {

namespace {
Isa detect() {
  const char* forced = std::getenv("SIFT_ISA");
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  Isa best = avx512 ? Isa::avx512 : avx2 ? Isa::avx2 : Isa::base;
  if (forced) {
    // A forced ISA never goes above what the CPU has.
    if (std::strcmp(forced, "base") == 0) return Isa::base;
    if (std::strcmp(forced, "avx2") == 0 && best != Isa::base) return Isa::avx2;
  }
  return best;
}
}  // namespace

Isa cpu_isa() {
  static const Isa isa = detect();
  return isa;
}

const char* isa_name(Isa isa) {
  return isa == Isa::avx512 ? "avx512" : isa == Isa::avx2 ? "avx2" : "x86-64";
}

int omp_threads() { return omp_get_max_threads(); }
void set_omp_threads(int n) { omp_set_num_threads(n < 1 ? 1 : n); }

}  // namespace sift
