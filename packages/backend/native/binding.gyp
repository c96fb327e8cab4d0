{
  "variables": {
    "has_dnnl": "<!(test -f /usr/include/oneapi/dnnl/dnnl.hpp && echo 1 || echo 0)",
    # Hand-written kernels, compiled once per ISA (kernels.h: SIFT_CALL picks the copy the CPU runs).
    # -fno-math-errno lets vector_math.h's declarations vectorise expf/tanhf/erff... with glibc's libmvec;
    # no -ffast-math, so NaN and infinities keep IEEE semantics.
    "isa_sources": ["batch_norm.cc", "layer_norm.cc", "gelu.cc", "elementwise.cc", "reduce.cc", "layout.cc", "pool.cc", "optimizer.cc"],
    "isa_cflags": ["-O3", "-std=c++17", "-fopenmp", "-fno-math-errno", "-fPIC"]
  },
  "targets": [
    {
      "target_name": "sift_isa_avx512",
      "type": "static_library",
      "sources": ["<@(isa_sources)"],
      "defines": ["SIFT_ISA_NS=isa_avx512"],
      "cflags_cc": ["<@(isa_cflags)", "-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma", "-mf16c", "-mprefer-vector-width=512"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "sift_isa_avx2",
      "type": "static_library",
      "sources": ["<@(isa_sources)"],
      "defines": ["SIFT_ISA_NS=isa_avx2"],
      "cflags_cc": ["<@(isa_cflags)", "-mavx2", "-mfma", "-mf16c"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "sift_isa_base",
      "type": "static_library",
      "sources": ["<@(isa_sources)"],
      "defines": ["SIFT_ISA_NS=isa_base"],
      "cflags_cc": ["<@(isa_cflags)"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      # Unstructured-sparse kernels (sparse_*.cc): built for the baseline ISA; their AVX2 and AVX-512
      # copies carry their own target pragmas and are chosen at run time, so no -march=native here.
      "target_name": "sift_sparse",
      "type": "static_library",
      "sources": ["sparse_conv.cc", "sparse_avx512.cc", "sparse_avx2.cc", "sparse_scalar.cc", "sparse_napi.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fopenmp", "-fPIC", "-Wno-maybe-uninitialized"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"]
    },
    {
      "target_name": "sparse_ift_native",
      "dependencies": ["sift_isa_avx512", "sift_isa_avx2", "sift_isa_base", "sift_sparse"],
      "sources": ["sparse_ift_native.cc", "tensor_kernels.cc", "memory_pool.cc", "isa.cc", "dnnl_conv.cc", "dnnl_matmul.cc"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"],
      "cflags_cc": ["-O3", "-std=c++17", "-fopenmp"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "libraries": ["-lopenblas", "-fopenmp", "-lmvec"],
      "conditions": [
        ["has_dnnl==1", {
          "defines": ["SIFT_HAVE_DNNL"],
          "libraries": ["-ldnnl"]
        }]
      ]
    }
  ]
}
