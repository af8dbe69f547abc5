{
  "targets": [
    {
      "target_name": "mpcl_kernels",
      "sources": ["mpcl_kernels.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags!": ["-O2"],
      "cflags_cc!": ["-O2"],
      "cflags": [
        "-O3",
        "-ffp-contract=off",
        "-fno-fast-math",
        "-pthread",
        "-Wno-psabi"
      ],
      "cflags_cc": ["-std=c++17"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "3",
        "OTHER_CFLAGS": ["-ffp-contract=off", "-fno-fast-math"],
        "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-ffp-contract=off"]
      }
    }
  ]
}
