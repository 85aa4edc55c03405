// Module entry: conifer_faiss.node
//
// exports.Index        the index class (see index_wrap.h)
// exports.setThreads   OpenMP threads for train()/add() (searches always use one)
// exports.getThreads
// exports.setRunOnCallingThread / runOnCallingThread   train/add/search on this thread (see threads.h)
// exports.trimNativeHeap   returns freed malloc memory to the OS (glibc malloc_trim)
// exports.adviseHugePages  asks for transparent huge pages under a typed array (madvise)
// exports.blasPinned   whether OpenBLAS was found and pinned to one thread
// exports.faissVersion
// exports.scanRows     exact top-k over rows of a caller-owned Float32Array (see scan.h)
// exports.scanCodes    approximate top-k over SQ8 codes of a caller-owned Uint8Array (see scan.h)
// exports.setScanKernel, exports.scanKernel   its distance kernels (sse / avx2; see kernels.h)
// exports.readNumberArray   a JSON array of numbers into a Float32Array (see json_numbers.h)
#include "errors.h"
#include "index_wrap.h"
#include "json_numbers.h"
#include "kernels.h"
#include "scan.h"
#include "threads.h"
#include "validate.h"

#include <faiss/Index.h>

#include <napi.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <cstdint>

#include <string>

namespace conifer {
namespace {

Napi::Value setThreads(const Napi::CallbackInfo& info) {
  setBuildThreads(static_cast<int>(integerArg(info[0], "n", 1, 1024)));
  return info.Env().Undefined();
}

Napi::Value getThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), buildThreads());
}

Napi::Value setRunOnCallingThreadFn(const Napi::CallbackInfo& info) {
  if (!info[0].IsBoolean()) throw Napi::TypeError::New(info.Env(), "enabled must be a boolean");
  setRunOnCallingThread(info[0].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

Napi::Value runOnCallingThreadFn(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), runOnCallingThread());
}

// glibc keeps freed memory in its arenas (one per thread that allocated: a compaction worker's
// faiss builds free gigabytes there); malloc_trim(0) hands the free pages back to the OS.
Napi::Value trimNativeHeap(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// Asks the kernel to back [data, data + length) with transparent huge pages (madvise mode, the
// default of many distributions, only gives them to ranges that ask). A query's scan of scattered
// rows of a large slab misses the TLB on nearly every row with 4 KiB pages. Only the 2 MiB-aligned
// interior of the range can be advised. Best effort: false when nothing was advised.
Napi::Value adviseHugePages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "bytes must be a typed array");
  Napi::TypedArray array = info[0].As<Napi::TypedArray>();
  auto* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  const size_t length = array.ByteLength();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t start = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + length) & ~(kHuge - 1);
  if (end <= start) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE) == 0);
#else
  (void)data;
  (void)length;
  return Napi::Boolean::New(env, false);
#endif
}

bool gBlasPinned = false;

Napi::Object init(Napi::Env env, Napi::Object exports) {
  static const bool pinned = pinBlasToOneThread();
  gBlasPinned = pinned;
  detectedScanKernels();  // CPU feature detection once, at load time
  exports.Set("Index", IndexWrap::define(env));
  exports.Set("setThreads", Napi::Function::New<setThreads>(env, "setThreads"));
  exports.Set("getThreads", Napi::Function::New<getThreads>(env, "getThreads"));
  exports.Set("setRunOnCallingThread", Napi::Function::New<setRunOnCallingThreadFn>(env, "setRunOnCallingThread"));
  exports.Set("runOnCallingThread", Napi::Function::New<runOnCallingThreadFn>(env, "runOnCallingThread"));
  exports.Set("trimNativeHeap", Napi::Function::New<trimNativeHeap>(env, "trimNativeHeap"));
  exports.Set("adviseHugePages", Napi::Function::New<adviseHugePages>(env, "adviseHugePages"));
  exports.Set("scanRows", Napi::Function::New<scanRows>(env, "scanRows"));
  exports.Set("scanCodes", Napi::Function::New<scanCodes>(env, "scanCodes"));
  exports.Set("readNumberArray", Napi::Function::New<readNumberArray>(env, "readNumberArray"));
  exports.Set("setScanKernel", Napi::Function::New<setScanKernel>(env, "setScanKernel"));
  exports.Set("scanKernel", Napi::Function::New<scanKernel>(env, "scanKernel"));
  exports.Set("blasPinned", Napi::Boolean::New(env, gBlasPinned));
  exports.Set("faissVersion",
              Napi::String::New(env, std::to_string(FAISS_VERSION_MAJOR) + "." +
                                         std::to_string(FAISS_VERSION_MINOR) + "." +
                                         std::to_string(FAISS_VERSION_PATCH)));
  return exports;
}

}  // namespace
}  // namespace conifer

static Napi::Object initModule(Napi::Env env, Napi::Object exports) {
  return conifer::init(env, exports);
}

NODE_API_MODULE(conifer_faiss, initModule)
