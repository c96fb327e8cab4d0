{
  "targets": [
    {
      "target_name": "sparse_ift_native",
      "sources": ["sparse_ift_native.cc"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"],
      "cflags_cc": ["-O3", "-march=native", "-std=c++17"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-lopenblas"]
    }
  ]
}
