# Builds build/Release/conifer_faiss.node: a thin N-API binding over Debian's static libfaiss
# (faiss 1.7.3, package libfaiss-dev) and OpenBLAS (libopenblas-dev).
#
# -march=x86-64-v2 rather than -march=native: the binary may move between machines of the same
# kind. faiss's own kernels live in libfaiss.a (Debian builds it for baseline x86-64, where
# faiss 1.7.3 compiles its scalar reference kernels), so the flags below only shape the glue
# code and scanRows' kernels (native/kernels.cc): SSE at this baseline, plus AVX2+FMA versions
# compiled per function with __attribute__((target("avx2,fma"))) and chosen at load time when
# the CPU has them. Do not raise -march: the dispatch is what keeps the binary portable.
{
  "targets": [
    {
      "target_name": "conifer_faiss",
      "sources": [
        "native/addon.cc",
        "native/index_wrap.cc",
        "native/workers.cc",
        "native/threads.cc",
        "native/scan.cc",
        "native/kernels.cc",
        "native/json_numbers.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++20", "-std=gnu++17"],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-march=x86-64-v2",
        "-fexceptions",
        "-frtti",
        "-fopenmp",
        "-fvisibility=hidden",
        "-Wall",
        "-Wextra",
        "-Wno-unused-parameter"
      ],
      "ldflags": [
        "-fopenmp",
        "-Wl,--exclude-libs,ALL"
      ],
      "libraries": [
        "-lfaiss",
        "-llapack",
        "-lblas",
        "-lgomp"
      ]
    }
  ]
}
