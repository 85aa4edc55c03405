// Turning C++ failures into JS errors.
//
// Every call into faiss goes through captureErrors(): faiss::FaissException, std::bad_alloc and
// any other std::exception become a message; nothing escapes into Node (an escaping C++
// exception would terminate the process). Argument validation happens before faiss is called and
// throws Napi::TypeError / Napi::RangeError directly.
#pragma once

#include <napi.h>

#include <faiss/impl/FaissException.h>

#include <exception>
#include <new>
#include <optional>
#include <string>

namespace conifer {

/// `code` property of errors raised by faiss itself (bad factory string, untrained index, ...).
inline constexpr const char* kFaissErrorCode = "ERR_FAISS";
/// `code` property of errors raised on a disposed index.
inline constexpr const char* kDisposedErrorCode = "ERR_FAISS_DISPOSED";
/// `code` property of errors raised when a synchronous call meets a running train()/add().
inline constexpr const char* kBusyErrorCode = "ERR_FAISS_BUSY";

/// Runs fn; returns the message of any exception it throws, std::nullopt on success.
template <class Fn>
std::optional<std::string> captureErrors(Fn&& fn) noexcept {
  try {
    fn();
    return std::nullopt;
  } catch (const faiss::FaissException& e) {
    return std::string("faiss: ") + e.what();
  } catch (const std::bad_alloc&) {
    return std::string("faiss: out of memory");
  } catch (const std::exception& e) {
    return std::string("faiss: ") + e.what();
  } catch (...) {
    return std::string("faiss: unknown native error");
  }
}

/// A JS Error with a `code` property.
inline Napi::Error makeError(Napi::Env env, const std::string& message, const char* code) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, code));
  return error;
}

/// Runs fn on the JS thread; rethrows any C++ failure as a JS Error with code ERR_FAISS.
template <class Fn>
void runOrThrow(Napi::Env env, Fn&& fn) {
  if (auto message = captureErrors(std::forward<Fn>(fn))) {
    throw makeError(env, *message, kFaissErrorCode);
  }
}

}  // namespace conifer
