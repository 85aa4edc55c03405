// Work that runs on the libuv thread pool and settles a promise.
#pragma once

#include "index_state.h"

#include <napi.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace conifer {

/// train() options for an IVF index's coarse clustering (faiss::IndexIVF::cp); unset fields
/// keep the index's values. Validated on the JS thread.
struct ClusteringOptions {
  std::optional<int> minPointsPerCentroid;
  std::optional<int> maxPointsPerCentroid;
  std::optional<int> niter;
  bool any() const { return minPointsPerCentroid || maxPointsPerCentroid || niter; }
};

/// An async worker that settles a promise: rejected with a FaissError when Execute() recorded a
/// failure (Fail), else resolved by the subclass's OnOK. It normally runs on the libuv pool
/// (Queue()); RunHere() runs it on the calling thread instead.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  Napi::Promise promise() const { return deferred_.Promise(); }
  /// Starts the work: on the libuv pool (Queue()), or with runOnCallingThread() set for this
  /// thread, right here (RunHere()).
  void Start();
  /// Runs the work on the calling (JS) thread and settles the promise, instead of Queue(); the
  /// worker deletes itself.
  void RunHere();

 protected:
  PromiseWorker(Napi::Env env, const char* resourceName);
  /// Called from Execute() on failure: the promise is rejected with this message.
  void Fail(const std::string& message);
  void OnError(const Napi::Error& error) override;

  Napi::Promise::Deferred deferred_;

 private:
  std::optional<std::string> failed_;
};

/// train() or add(): exclusive access, buildThreads() OpenMP threads. train() copies its input
/// (a sample) on the JS thread, so the caller's array may change right away; add() reads its
/// input in place (a compaction adds a million vectors: a copy would be hundreds of megabytes
/// beside the caller's), holding a reference to the array until the promise settles, so the
/// caller must not change it meanwhile.
class MutateWorker : public PromiseWorker {
 public:
  enum class Kind { Train, Add };

  MutateWorker(Napi::Env env, std::shared_ptr<IndexState> state, Kind kind,
               const Napi::Float32Array& vectors, int64_t n, ClusteringOptions clustering = {},
               std::vector<int64_t> lists = {});

 protected:
  void Execute() override;
  void OnOK() override;

 private:
  std::shared_ptr<IndexState> state_;
  Kind kind_;
  std::vector<float> vectors_;     // Train: the copied sample
  Napi::ObjectReference added_;    // Add: keeps the caller's array alive
  const float* addedData_ = nullptr;
  int64_t n_;
  ClusteringOptions clustering_;  // Train only; IVF only
  std::vector<int64_t> lists_;    // Add to an IVF index: each row's list, or -1 (assign it); empty: assign all
};

struct SearchRequest {
  int64_t nq = 0;
  int64_t k = 0;
  std::optional<int> nprobe;    // IVF only
  std::optional<int> efSearch;  // HNSW only
  std::vector<float> queries;   // nq * d, copied once
  bool filtered = false;
  std::vector<uint8_t> allowed;  // bitmap, bit i of byte i/8 (LSB first) = id i allowed
};

/// search(): shared access, one OpenMP thread. faiss writes distances straight into the
/// Float32Array that the promise resolves with; labels (int64 in faiss) are narrowed to an
/// Int32Array in the worker.
class SearchWorker : public PromiseWorker {
 public:
  SearchWorker(Napi::Env env, std::shared_ptr<IndexState> state, SearchRequest request);

 protected:
  void Execute() override;
  void OnOK() override;

 private:
  std::shared_ptr<IndexState> state_;
  SearchRequest request_;
  Napi::ObjectReference distancesRef_;
  Napi::ObjectReference labelsRef_;
  float* distances_;
  int32_t* labels_;
};

}  // namespace conifer
