// glibc's libmvec has SIMD versions of the float math functions (expf, logf, tanhf, erff...), but its
// header declares them only under -ffast-math, which would also let GCC assume there are no NaNs and
// infinities (tf.js kernels must propagate them). Declaring the SIMD variants here, with -fno-math-errno,
// vectorises `#pragma omp simd` loops over these functions with IEEE semantics kept everywhere else.
#pragma once

extern "C" {
float expf(float) noexcept __attribute__((simd("notinbranch")));
float logf(float) noexcept __attribute__((simd("notinbranch")));
float tanhf(float) noexcept __attribute__((simd("notinbranch")));
float erff(float) noexcept __attribute__((simd("notinbranch")));
float log1pf(float) noexcept __attribute__((simd("notinbranch")));
float expm1f(float) noexcept __attribute__((simd("notinbranch")));
}
