// Distance kernels of scanRows, with runtime dispatch between an SSE version (the x86-64-v2
// baseline the addon is compiled for) and an AVX2+FMA version (functions compiled with
// __attribute__((target("avx2,fma"))), used when the CPU has both). The binary stays portable:
// only the AVX2 functions use AVX2 instructions, and only when the CPU supports them.
//
// Every kernel works on a batch of rows (row pointers, so the rows may be scattered) and accepts
// any dimension: vector loops plus a tail (masked loads in AVX2, scalar in SSE). Accumulation is
// in float with several accumulators, so results differ from a strictly sequential float sum in
// the last bits (and between the two versions), never by more than float rounding.
#pragma once

#include <cstddef>
#include <string>

namespace conifer {

struct ScanKernels {
  /// "sse" or "avx2".
  const char* name;
  /// out[i] = |q - rows[i]|² for i < n.
  void (*l2sqr)(const float* q, const float* const* rows, size_t n, size_t d, float* out);
  /// out[i] = q · rows[i].
  void (*inner)(const float* q, const float* const* rows, size_t n, size_t d, float* out);
  /// ip[i] = q · rows[i] and norms[i] = rows[i] · rows[i], in one pass over each row. With
  /// q == rows[i], ip[i] == norms[i] exactly (same operations in the same order).
  void (*innerAndNorm)(const float* q, const float* const* rows, size_t n, size_t d, float* ip,
                       float* norms);
};

/// Kernels over SQ8 codes (one byte per dimension; a row decodes to x[j] = min[j] + step[j]·c[j]),
/// one row per call, no decoded copy of the row. Same dispatch as ScanKernels (the AVX2 versions
/// while activeScanKernels() is "avx2").
struct CodeKernels {
  /// Σ (step[j]·c[j] + offset[j])²: with offset = min − q, |x − q|² of the decoded row.
  float (*l2)(const float* step, const float* offset, const unsigned char* codes, size_t d);
  /// Σ w[j]·c[j]: with w = q·step, q·x less the constant Σ q[j]·min[j].
  float (*dot)(const float* w, const unsigned char* codes, size_t d);
  /// ip = q·x and norm = x·x of the decoded row x = min + step·c, in one pass.
  void (*innerAndNorm)(const float* q, const float* min, const float* step,
                       const unsigned char* codes, size_t d, float* ip, float* norm);
};

/// The code kernels matching activeScanKernels().
const CodeKernels& activeCodeKernels();

/// The kernels scanRows uses now: chosen when the addon loads (AVX2+FMA when
/// __builtin_cpu_supports says the CPU has both, else SSE), or forced by setScanKernels.
const ScanKernels& activeScanKernels();

/// The kernels the CPU supports best ("avx2" or "sse").
const ScanKernels& detectedScanKernels();

/// Forces a kernel set for the whole process: "sse", "avx2" or "auto" (the detected one).
/// Returns false (and changes nothing) for an unknown name or "avx2" on a CPU without AVX2+FMA.
bool setScanKernels(const std::string& name);

}  // namespace conifer
