// exports.scanRows: exact top-k of one query over rows of a caller-owned Float32Array.
// exports.setScanKernel / exports.scanKernel: which distance kernels it uses (kernels.h).
#pragma once

#include <napi.h>

namespace conifer {

/// scanRows(vectors, dimension, query, k, metric, allowed?, rows?) -> { distances, labels }
///
/// Synchronous, on the JS thread, reading `vectors` in place (no copy). Validates every argument
/// before reading any vector memory; see scan.cc and src/scan.ts for the contract.
Napi::Value scanRows(const Napi::CallbackInfo& info);

/// scanCodes(codes, dimension, query, k, metric, min, step, rows?) -> { distances, labels }
///
/// Approximate top-k over SQ8 codes (a row decodes to min + step·code per dimension): the same
/// metrics and result layout as scanRows, over the decoded rows. `rows` (optional) are code row
/// numbers, visited as given (a repeated row may come back twice). Synchronous, in place.
Napi::Value scanCodes(const Napi::CallbackInfo& info);

/// setScanKernel('auto' | 'sse' | 'avx2') -> the kernel now in use ('sse' | 'avx2').
/// Process-wide; for tests and measurements. RangeError for another name, or 'avx2' on a CPU
/// without AVX2 and FMA.
Napi::Value setScanKernel(const Napi::CallbackInfo& info);

/// scanKernel() -> 'sse' | 'avx2', the kernel scanRows uses now.
Napi::Value scanKernel(const Napi::CallbackInfo& info);

}  // namespace conifer
