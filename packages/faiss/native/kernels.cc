// scanRows' distance kernels: SSE (baseline) and AVX2+FMA (runtime-dispatched). See kernels.h.
//
// Layout of every kernel: four vector accumulators over blocks of 4 vectors (16 floats in SSE,
// 32 in AVX2), then one vector at a time, then the tail (AVX2: a masked load, which reads no
// byte past the row; SSE: scalar), then a horizontal sum. Four independent accumulators keep
// the add/FMA latency off the critical path for the usual dimensions (128–1536).
//
// The AVX2 functions must only run after activeScanKernels() picked them, i.e. on a CPU with
// AVX2 and FMA: nothing else calls them. Helpers used by both are inlined into each, so the AVX2
// code is VEX-encoded throughout (no SSE/AVX transition penalties); GCC adds vzeroupper on return.
#include "kernels.h"

#if !defined(__x86_64__)
#error "kernels.cc has x86-64 kernels only (SSE baseline, AVX2+FMA dispatch)"
#endif

#include <immintrin.h>

#include <atomic>
#include <cstdint>

#define CONIFER_AVX2 __attribute__((target("avx2,fma")))

namespace conifer {
namespace {

// ---------------------------------------------------------------------------------------------
// SSE (x86-64-v2: SSE4.2, no FMA)

inline float hsum128(__m128 v) {
  __m128 shuf = _mm_movehdup_ps(v);  // (v1, v1, v3, v3)
  __m128 sums = _mm_add_ps(v, shuf);  // (v0+v1, _, v2+v3, _)
  shuf = _mm_movehl_ps(shuf, sums);   // (v2+v3, _, _, _)
  sums = _mm_add_ss(sums, shuf);
  return _mm_cvtss_f32(sums);
}

inline float l2Sse(const float* q, const float* x, size_t d) {
  __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    const __m128 t0 = _mm_sub_ps(_mm_loadu_ps(q + i), _mm_loadu_ps(x + i));
    const __m128 t1 = _mm_sub_ps(_mm_loadu_ps(q + i + 4), _mm_loadu_ps(x + i + 4));
    const __m128 t2 = _mm_sub_ps(_mm_loadu_ps(q + i + 8), _mm_loadu_ps(x + i + 8));
    const __m128 t3 = _mm_sub_ps(_mm_loadu_ps(q + i + 12), _mm_loadu_ps(x + i + 12));
    a0 = _mm_add_ps(a0, _mm_mul_ps(t0, t0));
    a1 = _mm_add_ps(a1, _mm_mul_ps(t1, t1));
    a2 = _mm_add_ps(a2, _mm_mul_ps(t2, t2));
    a3 = _mm_add_ps(a3, _mm_mul_ps(t3, t3));
  }
  for (; i + 4 <= d; i += 4) {
    const __m128 t = _mm_sub_ps(_mm_loadu_ps(q + i), _mm_loadu_ps(x + i));
    a0 = _mm_add_ps(a0, _mm_mul_ps(t, t));
  }
  float sum = hsum128(_mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)));
  for (; i < d; ++i) {
    const float t = q[i] - x[i];
    sum += t * t;
  }
  return sum;
}

inline float innerSse(const float* q, const float* x, size_t d) {
  __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    a0 = _mm_add_ps(a0, _mm_mul_ps(_mm_loadu_ps(q + i), _mm_loadu_ps(x + i)));
    a1 = _mm_add_ps(a1, _mm_mul_ps(_mm_loadu_ps(q + i + 4), _mm_loadu_ps(x + i + 4)));
    a2 = _mm_add_ps(a2, _mm_mul_ps(_mm_loadu_ps(q + i + 8), _mm_loadu_ps(x + i + 8)));
    a3 = _mm_add_ps(a3, _mm_mul_ps(_mm_loadu_ps(q + i + 12), _mm_loadu_ps(x + i + 12)));
  }
  for (; i + 4 <= d; i += 4) {
    a0 = _mm_add_ps(a0, _mm_mul_ps(_mm_loadu_ps(q + i), _mm_loadu_ps(x + i)));
  }
  float sum = hsum128(_mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)));
  for (; i < d; ++i) sum += q[i] * x[i];
  return sum;
}

/// q·x and x·x in one pass, with the same structure for both: q == x gives identical results.
inline void innerAndNormSse(const float* q, const float* x, size_t d, float* ip, float* norm) {
  __m128 p0 = _mm_setzero_ps(), p1 = p0, p2 = p0, p3 = p0;
  __m128 n0 = p0, n1 = p0, n2 = p0, n3 = p0;
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    const __m128 x0 = _mm_loadu_ps(x + i);
    const __m128 x1 = _mm_loadu_ps(x + i + 4);
    const __m128 x2 = _mm_loadu_ps(x + i + 8);
    const __m128 x3 = _mm_loadu_ps(x + i + 12);
    p0 = _mm_add_ps(p0, _mm_mul_ps(_mm_loadu_ps(q + i), x0));
    p1 = _mm_add_ps(p1, _mm_mul_ps(_mm_loadu_ps(q + i + 4), x1));
    p2 = _mm_add_ps(p2, _mm_mul_ps(_mm_loadu_ps(q + i + 8), x2));
    p3 = _mm_add_ps(p3, _mm_mul_ps(_mm_loadu_ps(q + i + 12), x3));
    n0 = _mm_add_ps(n0, _mm_mul_ps(x0, x0));
    n1 = _mm_add_ps(n1, _mm_mul_ps(x1, x1));
    n2 = _mm_add_ps(n2, _mm_mul_ps(x2, x2));
    n3 = _mm_add_ps(n3, _mm_mul_ps(x3, x3));
  }
  for (; i + 4 <= d; i += 4) {
    const __m128 x0 = _mm_loadu_ps(x + i);
    p0 = _mm_add_ps(p0, _mm_mul_ps(_mm_loadu_ps(q + i), x0));
    n0 = _mm_add_ps(n0, _mm_mul_ps(x0, x0));
  }
  float p = hsum128(_mm_add_ps(_mm_add_ps(p0, p1), _mm_add_ps(p2, p3)));
  float n = hsum128(_mm_add_ps(_mm_add_ps(n0, n1), _mm_add_ps(n2, n3)));
  for (; i < d; ++i) {
    p += q[i] * x[i];
    n += x[i] * x[i];
  }
  *ip = p;
  *norm = n;
}

void l2BatchSse(const float* q, const float* const* rows, size_t n, size_t d, float* out) {
  for (size_t r = 0; r < n; ++r) out[r] = l2Sse(q, rows[r], d);
}

void innerBatchSse(const float* q, const float* const* rows, size_t n, size_t d, float* out) {
  for (size_t r = 0; r < n; ++r) out[r] = innerSse(q, rows[r], d);
}

void innerAndNormBatchSse(const float* q, const float* const* rows, size_t n, size_t d, float* ip,
                          float* norms) {
  for (size_t r = 0; r < n; ++r) innerAndNormSse(q, rows[r], d, ip + r, norms + r);
}

// ---------------------------------------------------------------------------------------------
// AVX2 + FMA

/// kTailMask + 8 - r: the first r lanes set (maskload reads them), the other 8 - r clear.
alignas(64) constexpr int32_t kTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                               0,  0,  0,  0,  0,  0,  0,  0};

CONIFER_AVX2 inline __m256i tailMask(size_t remaining) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + 8 - remaining));
}

CONIFER_AVX2 inline float hsum256(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  __m128 shuf = _mm_movehdup_ps(s);
  __m128 sums = _mm_add_ps(s, shuf);
  shuf = _mm_movehl_ps(shuf, sums);
  sums = _mm_add_ss(sums, shuf);
  return _mm_cvtss_f32(sums);
}

CONIFER_AVX2 inline float l2Avx2(const float* q, const float* x, size_t d) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    const __m256 t0 = _mm256_sub_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(x + i));
    const __m256 t1 = _mm256_sub_ps(_mm256_loadu_ps(q + i + 8), _mm256_loadu_ps(x + i + 8));
    const __m256 t2 = _mm256_sub_ps(_mm256_loadu_ps(q + i + 16), _mm256_loadu_ps(x + i + 16));
    const __m256 t3 = _mm256_sub_ps(_mm256_loadu_ps(q + i + 24), _mm256_loadu_ps(x + i + 24));
    a0 = _mm256_fmadd_ps(t0, t0, a0);
    a1 = _mm256_fmadd_ps(t1, t1, a1);
    a2 = _mm256_fmadd_ps(t2, t2, a2);
    a3 = _mm256_fmadd_ps(t3, t3, a3);
  }
  for (; i + 8 <= d; i += 8) {
    const __m256 t = _mm256_sub_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(x + i));
    a0 = _mm256_fmadd_ps(t, t, a0);
  }
  if (i < d) {
    const __m256i m = tailMask(d - i);
    const __m256 t = _mm256_sub_ps(_mm256_maskload_ps(q + i, m), _mm256_maskload_ps(x + i, m));
    a1 = _mm256_fmadd_ps(t, t, a1);
  }
  return hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

CONIFER_AVX2 inline float innerAvx2(const float* q, const float* x, size_t d) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16), _mm256_loadu_ps(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 24), _mm256_loadu_ps(x + i + 24), a3);
  }
  for (; i + 8 <= d; i += 8) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(x + i), a0);
  }
  if (i < d) {
    const __m256i m = tailMask(d - i);
    a1 = _mm256_fmadd_ps(_mm256_maskload_ps(q + i, m), _mm256_maskload_ps(x + i, m), a1);
  }
  return hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

CONIFER_AVX2 inline void innerAndNormAvx2(const float* q, const float* x, size_t d, float* ip,
                                          float* norm) {
  __m256 p0 = _mm256_setzero_ps(), p1 = p0, p2 = p0, p3 = p0;
  __m256 n0 = p0, n1 = p0, n2 = p0, n3 = p0;
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    const __m256 x0 = _mm256_loadu_ps(x + i);
    const __m256 x1 = _mm256_loadu_ps(x + i + 8);
    const __m256 x2 = _mm256_loadu_ps(x + i + 16);
    const __m256 x3 = _mm256_loadu_ps(x + i + 24);
    p0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), x0, p0);
    p1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), x1, p1);
    p2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16), x2, p2);
    p3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 24), x3, p3);
    n0 = _mm256_fmadd_ps(x0, x0, n0);
    n1 = _mm256_fmadd_ps(x1, x1, n1);
    n2 = _mm256_fmadd_ps(x2, x2, n2);
    n3 = _mm256_fmadd_ps(x3, x3, n3);
  }
  for (; i + 8 <= d; i += 8) {
    const __m256 x0 = _mm256_loadu_ps(x + i);
    p0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), x0, p0);
    n0 = _mm256_fmadd_ps(x0, x0, n0);
  }
  if (i < d) {
    const __m256i m = tailMask(d - i);
    const __m256 x0 = _mm256_maskload_ps(x + i, m);
    p1 = _mm256_fmadd_ps(_mm256_maskload_ps(q + i, m), x0, p1);
    n1 = _mm256_fmadd_ps(x0, x0, n1);
  }
  *ip = hsum256(_mm256_add_ps(_mm256_add_ps(p0, p1), _mm256_add_ps(p2, p3)));
  *norm = hsum256(_mm256_add_ps(_mm256_add_ps(n0, n1), _mm256_add_ps(n2, n3)));
}

CONIFER_AVX2 void l2BatchAvx2(const float* q, const float* const* rows, size_t n, size_t d,
                              float* out) {
  for (size_t r = 0; r < n; ++r) out[r] = l2Avx2(q, rows[r], d);
}

CONIFER_AVX2 void innerBatchAvx2(const float* q, const float* const* rows, size_t n, size_t d,
                                 float* out) {
  for (size_t r = 0; r < n; ++r) out[r] = innerAvx2(q, rows[r], d);
}

CONIFER_AVX2 void innerAndNormBatchAvx2(const float* q, const float* const* rows, size_t n,
                                        size_t d, float* ip, float* norms) {
  for (size_t r = 0; r < n; ++r) innerAndNormAvx2(q, rows[r], d, ip + r, norms + r);
}

// ---------------------------------------------------------------------------------------------
// SQ8 codes: scalar versions (the compiler vectorizes them at the x86-64-v2 baseline) and AVX2
// versions that widen 8 codes at a time to floats.

float codesL2Scalar(const float* step, const float* offset, const unsigned char* c, size_t d) {
  float sum = 0;
  for (size_t i = 0; i < d; ++i) {
    const float t = step[i] * static_cast<float>(c[i]) + offset[i];
    sum += t * t;
  }
  return sum;
}

float codesDotScalar(const float* w, const unsigned char* c, size_t d) {
  float sum = 0;
  for (size_t i = 0; i < d; ++i) sum += w[i] * static_cast<float>(c[i]);
  return sum;
}

void codesInnerAndNormScalar(const float* q, const float* min, const float* step,
                             const unsigned char* c, size_t d, float* ip, float* norm) {
  float p = 0;
  float n = 0;
  for (size_t i = 0; i < d; ++i) {
    const float x = min[i] + step[i] * static_cast<float>(c[i]);
    p += q[i] * x;
    n += x * x;
  }
  *ip = p;
  *norm = n;
}

/// Eight codes at `c` as floats (an 8-byte load: the caller checked 8 bytes remain).
CONIFER_AVX2 inline __m256 widen8(const unsigned char* c) {
  const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(c));
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
}

CONIFER_AVX2 float codesL2Avx2(const float* step, const float* offset, const unsigned char* c,
                               size_t d) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0;
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    const __m256 t0 = _mm256_fmadd_ps(_mm256_loadu_ps(step + i), widen8(c + i), _mm256_loadu_ps(offset + i));
    const __m256 t1 = _mm256_fmadd_ps(_mm256_loadu_ps(step + i + 8), widen8(c + i + 8), _mm256_loadu_ps(offset + i + 8));
    a0 = _mm256_fmadd_ps(t0, t0, a0);
    a1 = _mm256_fmadd_ps(t1, t1, a1);
  }
  for (; i + 8 <= d; i += 8) {
    const __m256 t = _mm256_fmadd_ps(_mm256_loadu_ps(step + i), widen8(c + i), _mm256_loadu_ps(offset + i));
    a0 = _mm256_fmadd_ps(t, t, a0);
  }
  float sum = hsum256(_mm256_add_ps(a0, a1));
  for (; i < d; ++i) {
    const float t = step[i] * static_cast<float>(c[i]) + offset[i];
    sum += t * t;
  }
  return sum;
}

CONIFER_AVX2 float codesDotAvx2(const float* w, const unsigned char* c, size_t d) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0;
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), widen8(c + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), widen8(c + i + 8), a1);
  }
  for (; i + 8 <= d; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), widen8(c + i), a0);
  float sum = hsum256(_mm256_add_ps(a0, a1));
  for (; i < d; ++i) sum += w[i] * static_cast<float>(c[i]);
  return sum;
}

CONIFER_AVX2 void codesInnerAndNormAvx2(const float* q, const float* min, const float* step,
                                        const unsigned char* c, size_t d, float* ip, float* norm) {
  __m256 p0 = _mm256_setzero_ps(), n0 = p0;
  size_t i = 0;
  for (; i + 8 <= d; i += 8) {
    const __m256 x = _mm256_fmadd_ps(_mm256_loadu_ps(step + i), widen8(c + i), _mm256_loadu_ps(min + i));
    p0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), x, p0);
    n0 = _mm256_fmadd_ps(x, x, n0);
  }
  float p = hsum256(p0);
  float n = hsum256(n0);
  for (; i < d; ++i) {
    const float x = min[i] + step[i] * static_cast<float>(c[i]);
    p += q[i] * x;
    n += x * x;
  }
  *ip = p;
  *norm = n;
}

constexpr CodeKernels kCodesScalar{codesL2Scalar, codesDotScalar, codesInnerAndNormScalar};
constexpr CodeKernels kCodesAvx2{codesL2Avx2, codesDotAvx2, codesInnerAndNormAvx2};

// ---------------------------------------------------------------------------------------------
// dispatch

constexpr ScanKernels kSse{"sse", l2BatchSse, innerBatchSse, innerAndNormBatchSse};
constexpr ScanKernels kAvx2{"avx2", l2BatchAvx2, innerBatchAvx2, innerAndNormBatchAvx2};

/// libgcc's checks include the OS side (XGETBV says the YMM state is enabled).
bool cpuHasAvx2Fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/// Null: the detected kernels. Process-wide (shared by every Node environment and worker thread
/// that loads the addon).
std::atomic<const ScanKernels*> gForced{nullptr};

}  // namespace

const ScanKernels& detectedScanKernels() {
  static const ScanKernels& detected = cpuHasAvx2Fma() ? kAvx2 : kSse;
  return detected;
}

const ScanKernels& activeScanKernels() {
  const ScanKernels* forced = gForced.load(std::memory_order_relaxed);
  return forced != nullptr ? *forced : detectedScanKernels();
}

const CodeKernels& activeCodeKernels() {
  return &activeScanKernels() == &kAvx2 ? kCodesAvx2 : kCodesScalar;
}

bool setScanKernels(const std::string& name) {
  if (name == "auto") {
    gForced.store(nullptr, std::memory_order_relaxed);
  } else if (name == "sse") {
    gForced.store(&kSse, std::memory_order_relaxed);
  } else if (name == "avx2" && &detectedScanKernels() == &kAvx2) {
    gForced.store(&kAvx2, std::memory_order_relaxed);
  } else {
    return false;
  }
  return true;
}

}  // namespace conifer
