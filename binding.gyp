{
  "targets": [
    {
      "target_name": "equalbits_packed",
      "type": "static_library",
      "sources": [
        "native/packed/pk_conv.cc",
        "native/packed/pk_ops.cc",
        "native/packed/pk_count_x86.cc"
      ],
      "cflags_cc!": [
        "-std=gnu++17"
      ],
      "cflags": [
        "-fPIC",
        "-O3",
        "-march=native",
        "-ffp-contract=off",
        "-fno-math-errno",
        "-fno-trapping-math"
      ],
      "cflags_cc": [
        "-std=c++20",
        "-fPIC",
        "-O3",
        "-march=native",
        "-ffp-contract=off",
        "-fno-math-errno",
        "-fno-trapping-math"
      ]
    },
    {
      "target_name": "equalbits",
      "sources": [
        "native/addon.cc",
        "native/threads.cc",
        "native/gemm.cc",
        "native/microgemm.cc",
        "native/conv.cc",
        "native/winograd.cc",
        "native/batchnorm.cc",
        "native/pool.cc",
        "native/elementwise.cc",
        "native/loss.cc",
        "native/optim.cc",
        "native/quant.cc",
        "native/xnor.cc",
        "native/packed_addon.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions",
        "-std=gnu++17"
      ],
      "cflags": [
        "-O3",
        "-march=native",
        "-fno-math-errno",
        "-fno-trapping-math",
        "-fopenmp-simd",
        "-fexceptions"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-march=native",
        "-fno-math-errno",
        "-fno-trapping-math",
        "-fopenmp-simd",
        "-fexceptions"
      ],
      "libraries": [
        "-lopenblas",
        "-lpthread"
      ],
      "dependencies": [
        "equalbits_packed"
      ]
    }
  ]
}
