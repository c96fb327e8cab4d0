{
  "variables": {
    "has_dnnl": "<!(test -f /usr/include/oneapi/dnnl/dnnl.hpp && echo 1 || echo 0)"
  },
  "targets": [
    {
      # Elementwise transcendental kernels: -ffast-math lets GCC call glibc's vector math (libmvec).
      "target_name": "sift_vector_math",
      "type": "static_library",
      "sources": ["gelu.cc"],
      "cflags_cc": ["-O3", "-march=native", "-std=c++17", "-fopenmp", "-ffast-math", "-fPIC"],
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
      "dependencies": ["sift_vector_math", "sift_sparse"],
      "sources": ["sparse_ift_native.cc", "dnnl_conv.cc", "batch_norm.cc", "layer_norm.cc"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"],
      "cflags_cc": ["-O3", "-march=native", "-std=c++17", "-fopenmp"],
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
