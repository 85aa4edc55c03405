#include "json_numbers.h"

#include <charconv>
#include <cstdlib>
#include <string>
#include <cmath>
#include <cstdint>
#include <system_error>

namespace conifer {
namespace {

inline bool isSpace(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
inline bool isDigit(uint8_t c) { return c >= '0' && c <= '9'; }

// Where std::from_chars accepts more than JSON does, given that it accepted [p, end) as a number:
// JSON wants a digit first (after an optional '-': from_chars also takes ".5", "inf", "nan"), no
// leading zero ("01"), and a digit after a '.' ("1." and "1.e5" are numbers to from_chars). What
// follows the '.' — digits, then an exponent whose digits from_chars requires, or stops before
// the 'e' — needs no look: checking the characters up to the '.' is enough, and those are few.
bool jsonGrammar(const uint8_t* p, const uint8_t* end) {
  if (*p == '-') p++;
  if (p >= end || !isDigit(*p)) return false;
  if (*p == '0') {
    p++;
    if (p < end && isDigit(*p)) return false;
  } else {
    while (p < end && isDigit(*p)) p++;
  }
  return p >= end || *p != '.' || (p + 1 < end && isDigit(p[1]));
}

}  // namespace

Napi::Value readNumberArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsTypedArray() || !info[3].IsNumber() ||
      !info[4].IsTypedArray()) {
    throw Napi::TypeError::New(env, "readNumberArray(bytes: Uint8Array, start: number, out: Float32Array, outStart: number, result: Float64Array)");
  }
  auto bytes = info[0].As<Napi::TypedArray>();
  auto out = info[2].As<Napi::TypedArray>();
  auto result = info[4].As<Napi::TypedArray>();
  if (bytes.TypedArrayType() != napi_uint8_array || out.TypedArrayType() != napi_float32_array || result.TypedArrayType() != napi_float64_array ||
      result.ElementLength() < 2) {
    throw Napi::TypeError::New(env, "readNumberArray: bytes must be a Uint8Array, out a Float32Array, result a Float64Array of 2");
  }
  const auto* base = static_cast<const uint8_t*>(bytes.ArrayBuffer().Data()) + bytes.ByteOffset();
  const uint8_t* end = base + bytes.ByteLength();
  const double startArg = info[1].As<Napi::Number>().DoubleValue();
  const double outStartArg = info[3].As<Napi::Number>().DoubleValue();
  const size_t capacity = out.ElementLength();
  if (!(startArg >= 0) || startArg >= static_cast<double>(bytes.ByteLength()) || !(outStartArg >= 0) || outStartArg > static_cast<double>(capacity)) {
    throw Napi::RangeError::New(env, "readNumberArray: start or outStart out of range");
  }
  float* floats = reinterpret_cast<float*>(static_cast<uint8_t*>(out.ArrayBuffer().Data()) + out.ByteOffset());
  auto* slots = reinterpret_cast<double*>(static_cast<uint8_t*>(result.ArrayBuffer().Data()) + result.ByteOffset());
  size_t written = static_cast<size_t>(outStartArg);
  size_t count = 0;
  bool roomy = true;
  const uint8_t* p = base + static_cast<size_t>(startArg);
  auto fail = [&env]() { return Napi::Number::New(env, 1); };
  if (*p != '[') return fail();
  p++;
  while (p < end && isSpace(*p)) p++;
  if (p < end && *p == ']') {
    slots[0] = static_cast<double>(p + 1 - base);
    slots[1] = 0;
    return Napi::Number::New(env, 0);
  }
  for (;;) {
    while (p < end && isSpace(*p)) p++;
    // One pass over the digits: from_chars reads the number and says where it ends, and the
    // little it accepts beyond JSON's grammar is refused after (jsonGrammar).
    double value = 0;
    auto parsed = std::from_chars(reinterpret_cast<const char*>(p), reinterpret_cast<const char*>(end), value);
    if (parsed.ec == std::errc::invalid_argument) return fail();
    const auto* numberEndAt = reinterpret_cast<const uint8_t*>(parsed.ptr);
    if (!jsonGrammar(p, numberEndAt)) return fail();
    if (parsed.ec == std::errc::result_out_of_range) {
      // Beyond double: JSON.parse gives ±Infinity (refused below) or a signed zero, as strtod
      // does (the C locale's decimal point is '.'; Node never changes LC_NUMERIC).
      const std::string token(reinterpret_cast<const char*>(p), static_cast<size_t>(numberEndAt - p));
      value = std::strtod(token.c_str(), nullptr);
    } else if (parsed.ec != std::errc()) {
      return fail();
    }
    const float single = static_cast<float>(value);
    if (!std::isfinite(single)) return fail();
    if (roomy && written < capacity) {
      floats[written++] = single;
    } else {
      roomy = false;
    }
    count++;
    p = numberEndAt;
    while (p < end && isSpace(*p)) p++;
    if (p >= end) return fail();
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p != ']') return fail();
    slots[0] = static_cast<double>(p + 1 - base);
    slots[1] = static_cast<double>(count);
    return Napi::Number::New(env, roomy ? 0 : 2);
  }
}

}  // namespace conifer
