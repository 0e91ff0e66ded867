{
  "targets": [
    {
      "target_name": "equalbits",
      "sources": [
        "native/addon.cc",
        "native/threads.cc",
        "native/gemm.cc",
        "native/conv.cc",
        "native/winograd.cc",
        "native/batchnorm.cc",
        "native/pool.cc",
        "native/elementwise.cc",
        "native/loss.cc",
        "native/optim.cc",
        "native/quant.cc",
        "native/xnor.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags": ["-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd", "-fexceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd", "-fexceptions"],
      "libraries": ["-lopenblas", "-lpthread"]
    }
  ]
}
