// Argument checks done on the JS thread before anything reaches faiss.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace conifer {

/// Largest dimension accepted (Pinecone allows 20,000).
inline constexpr int64_t kMaxDimension = 65536;
/// Largest k accepted by search() and scanRows().
inline constexpr int64_t kMaxK = 1 << 20;

/// A typed array of one kind (`type`), or a TypeError naming the argument and the kind (`what`).
template <class Array>
inline Array typedArrayArg(const Napi::Value& value, const char* name, napi_typedarray_type type,
                           const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(value.Env(), std::string(name) + " must be " + what);
  }
  return value.As<Array>();
}

inline Napi::Float32Array float32Arg(const Napi::Value& value, const char* name) {
  return typedArrayArg<Napi::Float32Array>(value, name, napi_float32_array, "a Float32Array");
}

inline Napi::Uint8Array uint8Arg(const Napi::Value& value, const char* name) {
  return typedArrayArg<Napi::Uint8Array>(value, name, napi_uint8_array, "a Uint8Array");
}

inline Napi::Int32Array int32Arg(const Napi::Value& value, const char* name) {
  return typedArrayArg<Napi::Int32Array>(value, name, napi_int32_array, "an Int32Array");
}

inline Napi::Uint32Array uint32Arg(const Napi::Value& value, const char* name) {
  return typedArrayArg<Napi::Uint32Array>(value, name, napi_uint32_array, "a Uint32Array");
}

/// undefined and null mean "not given".
inline bool isAbsent(const Napi::Value& value) { return value.IsUndefined() || value.IsNull(); }

inline int64_t integerArg(const Napi::Value& value, const char* name, int64_t min, int64_t max) {
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(value.Env(), std::string(name) + " must be a number");
  }
  const double v = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || std::trunc(v) != v || v < static_cast<double>(min) ||
      v > static_cast<double>(max)) {
    throw Napi::RangeError::New(value.Env(), std::string(name) + " must be an integer in [" +
                                                 std::to_string(min) + ", " +
                                                 std::to_string(max) + "], got " +
                                                 value.ToString().Utf8Value());
  }
  return static_cast<int64_t>(v);
}

inline std::optional<int64_t> optionalIntegerArg(const Napi::Value& value, const char* name,
                                                 int64_t min, int64_t max) {
  if (isAbsent(value)) return std::nullopt;
  return integerArg(value, name, min, max);
}

inline std::string stringArg(const Napi::Value& value, const char* name) {
  if (!value.IsString()) {
    throw Napi::TypeError::New(value.Env(), std::string(name) + " must be a string");
  }
  return value.As<Napi::String>().Utf8Value();
}

/// Number of d-dimensional vectors in a Float32Array; throws unless length is a positive
/// multiple of d.
inline int64_t vectorCount(const Napi::Float32Array& array, int d, const char* name) {
  const size_t length = array.ElementLength();
  if (length == 0 || length % static_cast<size_t>(d) != 0) {
    throw Napi::RangeError::New(array.Env(), std::string(name) + ".length (" +
                                                 std::to_string(length) +
                                                 ") must be a positive multiple of d (" +
                                                 std::to_string(d) + ")");
  }
  return static_cast<int64_t>(length / static_cast<size_t>(d));
}

}  // namespace conifer
