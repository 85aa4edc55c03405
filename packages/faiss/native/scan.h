// exports.scanRows: exact top-k of one query over rows of a caller-owned Float32Array.
#pragma once

#include <napi.h>

namespace conifer {

/// scanRows(vectors, dimension, query, k, metric, allowed?, rows?) -> { distances, labels }
///
/// Synchronous, on the JS thread, reading `vectors` in place (no copy). Validates every argument
/// before reading any vector memory; see scan.cc and src/scan.ts for the contract.
Napi::Value scanRows(const Napi::CallbackInfo& info);

}  // namespace conifer
