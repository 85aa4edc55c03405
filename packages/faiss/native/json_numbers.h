// readNumberArray: a JSON array of numbers, parsed in native code into a caller-owned Float32Array.
//
// The REST upsert reader (apps/server/src/pinecone/upsert-fast-path.ts) spends most of its time on
// the digits of vector values; here they go through std::from_chars (correctly rounded to double,
// then to float: exactly Math.fround(JSON.parse(text))).
#pragma once

#include <napi.h>

namespace conifer {

// readNumberArray(bytes: Uint8Array, start: number, out: Float32Array, outStart: number,
//                 result: Float64Array(2)) -> status
// `bytes[start]` is the '[' of the array. Status 0: parsed; result[0] = the index after ']',
// result[1] = how many numbers were written at out[outStart...]. 1: not an array of JSON numbers
// (or a number that is not finite as a float32): nothing to trust in `out`. 2: `out` has no room
// from outStart on; result[1] = how many numbers the array holds.
Napi::Value readNumberArray(const Napi::CallbackInfo& info);

}  // namespace conifer
