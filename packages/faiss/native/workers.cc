#include "workers.h"

#include "errors.h"
#include "threads.h"

#include <faiss/Clustering.h>
#include <faiss/IndexIVF.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/IDSelector.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace conifer {

// ---------------------------------------------------------------------------------------------
// promise settling

PromiseWorker::PromiseWorker(Napi::Env env, const char* resourceName)
    : Napi::AsyncWorker(env, resourceName), deferred_(Napi::Promise::Deferred::New(env)) {}

void PromiseWorker::Fail(const std::string& message) {
  failed_ = message;
  SetError(message);
}

void PromiseWorker::Start() {
  if (runOnCallingThread()) {
    RunHere();
  } else {
    Queue();
  }
}

void PromiseWorker::RunHere() {
  Execute();
  // Settled as OnWorkComplete would settle a queued worker; one never queued deletes its async
  // work in its destructor.
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  if (failed_) {
    OnError(Napi::Error::New(env, *failed_));
  } else {
    OnOK();
  }
  delete this;
}

void PromiseWorker::OnError(const Napi::Error& error) {
  deferred_.Reject(makeError(Env(), error.Message(), kFaissErrorCode).Value());
}

// ---------------------------------------------------------------------------------------------
// train / add

MutateWorker::MutateWorker(Napi::Env env, std::shared_ptr<IndexState> state, Kind kind,
                           const Napi::Float32Array& vectors, int64_t n,
                           ClusteringOptions clustering, std::vector<int64_t> lists)
    : PromiseWorker(env, kind == Kind::Train ? "conifer:faiss:train" : "conifer:faiss:add"),
      state_(std::move(state)),
      kind_(kind),
      vectors_(kind == Kind::Train ? std::vector<float>(vectors.Data(), vectors.Data() + vectors.ElementLength())
                                   : std::vector<float>()),
      added_(kind == Kind::Add ? Napi::Persistent(vectors.As<Napi::Object>()) : Napi::ObjectReference()),
      addedData_(kind == Kind::Add ? vectors.Data() : nullptr),
      n_(n),
      clustering_(clustering),
      lists_(std::move(lists)) {}

namespace {

/// Sets an IVF index's clustering parameters for the lifetime of the object, then puts the
/// previous ones back (they are not serialized, and only matter while the coarse quantizer is
/// trained, so one train() call's options never leak into another's).
class ScopedClustering {
 public:
  ScopedClustering(faiss::IndexIVF* ivf, const ClusteringOptions& options)
      : ivf_(options.any() ? ivf : nullptr) {
    if (ivf_ == nullptr) return;
    saved_ = ivf_->cp;
    faiss::ClusteringParameters& cp = ivf_->cp;
    if (options.minPointsPerCentroid) cp.min_points_per_centroid = *options.minPointsPerCentroid;
    if (options.maxPointsPerCentroid) cp.max_points_per_centroid = *options.maxPointsPerCentroid;
    if (options.niter) cp.niter = *options.niter;
  }
  ~ScopedClustering() {
    if (ivf_ != nullptr) ivf_->cp = saved_;
  }
  ScopedClustering(const ScopedClustering&) = delete;
  ScopedClustering& operator=(const ScopedClustering&) = delete;

 private:
  faiss::IndexIVF* ivf_;
  faiss::ClusteringParameters saved_;
};

/// Assigns to lists the rows of `x` whose entry in `assigned` is -1 (the others are known
/// already), through the quantizer: gathered in batches of a few thousand rows, so its BLAS path
/// runs over many rows at once while the copy stays a few megabytes whatever n is.
void assignUnknown(faiss::IndexIVF& ivf, int64_t n, const float* x, std::vector<faiss::Index::idx_t>& assigned) {
  constexpr size_t kBatchRows = 16384;
  const size_t d = static_cast<size_t>(ivf.d);
  std::vector<int64_t> rows;
  std::vector<float> batch;
  std::vector<faiss::Index::idx_t> got;
  auto flush = [&] {
    if (rows.empty()) return;
    got.resize(rows.size());
    ivf.quantizer->assign(static_cast<faiss::Index::idx_t>(rows.size()), batch.data(), got.data());
    for (size_t j = 0; j < rows.size(); j++) assigned[static_cast<size_t>(rows[j])] = got[j];
    rows.clear();
    batch.clear();
  };
  for (int64_t i = 0; i < n; i++) {
    if (assigned[static_cast<size_t>(i)] >= 0) continue;
    rows.push_back(i);
    batch.insert(batch.end(), x + static_cast<size_t>(i) * d, x + static_cast<size_t>(i + 1) * d);
    if (rows.size() == kBatchRows) flush();
  }
  flush();
}

/// Adds n vectors. To an IVF index with plain array lists, the lists are first reserved at their
/// final sizes (the vectors are assigned to lists first, as add() would): grown by doubling
/// instead, they end up to twice the size of what they hold, beside the vectors being added.
/// `known` (empty, or one entry per row): a row's list when the caller knows it (a compaction's
/// row kept from an input built on this quantizer), else -1; only the unknown rows are assigned.
void addToIndex(IndexState& s, int64_t n, const float* x, const std::vector<int64_t>& known) {
  auto* lists = s.ivf != nullptr ? dynamic_cast<faiss::ArrayInvertedLists*>(s.ivf->invlists) : nullptr;
  if (lists == nullptr || n == 0) {
    s.index->add(n, x);
    return;
  }
  std::vector<faiss::Index::idx_t> assigned(static_cast<size_t>(n), -1);
  if (known.empty()) {
    s.ivf->quantizer->assign(n, x, assigned.data());
  } else {
    std::copy(known.begin(), known.end(), assigned.begin());
    assignUnknown(*s.ivf, n, x, assigned);
  }
  std::vector<size_t> adding(lists->nlist, 0);
  for (const faiss::Index::idx_t list : assigned) {
    if (list >= 0) adding[static_cast<size_t>(list)]++;
  }
  for (size_t list = 0; list < lists->nlist; list++) {
    if (adding[list] == 0) continue;
    const size_t size = lists->ids[list].size() + adding[list];
    lists->ids[list].reserve(size);
    lists->codes[list].reserve(size * lists->code_size);
  }
  s.ivf->add_core(n, x, nullptr, assigned.data());
}

}  // namespace

void MutateWorker::Execute() {
  auto error = captureErrors([this] {
    useOmpThreads(buildThreads());
    IndexState& s = *state_;
    ExclusiveAccess access(s.gate);
    if (kind_ == Kind::Train) {
      ScopedClustering clustering(s.ivf, clustering_);
      s.index->train(n_, vectors_.data());
    } else {
      if (!s.index->is_trained) {
        throw std::logic_error("index is not trained: call train() before add()");
      }
      if (s.index->ntotal + n_ > std::numeric_limits<int32_t>::max()) {
        throw std::length_error("an index holds at most 2^31-1 vectors (labels are int32)");
      }
      addToIndex(s, n_, addedData_, lists_);
    }
    s.refreshCounts();
  });
  std::vector<float>().swap(vectors_);  // free the copy before the promise settles
  if (error) Fail(*error);
}

void MutateWorker::OnOK() {
  IndexState& s = *state_;
  if (kind_ == Kind::Add && !s.disposed) {
    const int64_t bytes = n_ * s.d * static_cast<int64_t>(sizeof(float));
    s.externalBytes += bytes;
    int64_t ignored;
    napi_adjust_external_memory(Env(), bytes, &ignored);
  }
  deferred_.Resolve(Env().Undefined());
}

// ---------------------------------------------------------------------------------------------
// search

SearchWorker::SearchWorker(Napi::Env env, std::shared_ptr<IndexState> state,
                           SearchRequest request)
    : PromiseWorker(env, "conifer:faiss:search"),
      state_(std::move(state)),
      request_(std::move(request)) {
  const size_t count = static_cast<size_t>(request_.nq * request_.k);
  Napi::Float32Array distances = Napi::Float32Array::New(env, count);
  Napi::Int32Array labels = Napi::Int32Array::New(env, count);
  distances_ = distances.Data();
  labels_ = labels.Data();
  distancesRef_ = Napi::Persistent(distances.As<Napi::Object>());
  labelsRef_ = Napi::Persistent(labels.As<Napi::Object>());
}

void SearchWorker::Execute() {
  auto error = captureErrors([this] {
    useOmpThreads(1);
    IndexState& s = *state_;
    const SearchRequest& r = request_;
    std::vector<faiss::Index::idx_t> labels64(static_cast<size_t>(r.nq * r.k));

    std::unique_ptr<faiss::IDSelectorBitmap> selector;
    if (r.filtered) {
      selector = std::make_unique<faiss::IDSelectorBitmap>(r.allowed.size(), r.allowed.data());
    }
    // Per-call parameters. The HNSW efSearch is also set on the index by the gate (faiss 1.7.3
    // sizes its queue from the member; see gate.h).
    faiss::SearchParametersIVF ivfParams;
    faiss::SearchParametersHNSW hnswParams;
    faiss::SearchParameters plainParams;
    const faiss::SearchParameters* params = nullptr;
    if (s.ivf != nullptr) {
      ivfParams.nprobe = static_cast<size_t>(r.nprobe.value_or(static_cast<int>(s.ivf->nprobe)));
      ivfParams.nprobe = std::min(ivfParams.nprobe, s.ivf->nlist);
      ivfParams.max_codes = s.ivf->max_codes;
      ivfParams.sel = selector.get();
      params = &ivfParams;
    } else if (s.hnsw != nullptr) {
      hnswParams.efSearch = s.searchKey(r.efSearch);
      hnswParams.check_relative_distance = s.hnsw->hnsw.check_relative_distance;
      hnswParams.sel = selector.get();
      params = &hnswParams;
    } else if (selector) {
      plainParams.sel = selector.get();
      params = &plainParams;
    }

    const int key = s.searchKey(r.efSearch);
    {
      SharedAccess access(s.gate, key, [&s](int k) { s.applyKey(k); });
      // faiss 1.7.3 checks some of this only inside OpenMP regions, where a throw cannot be
      // caught and terminates the process (an untrained IVF reads uninitialized list numbers).
      if (!s.index->is_trained) {
        throw std::logic_error("index is not trained: call (and await) train() before search()");
      }
      if (s.ivf != nullptr && (s.ivf->quantizer == nullptr ||
                               s.ivf->quantizer->ntotal != static_cast<int64_t>(s.ivf->nlist))) {
        throw std::logic_error("IVF coarse quantizer does not hold nlist centroids");
      }
      s.index->search(r.nq, r.queries.data(), r.k, distances_, labels64.data(), params);
    }

    // Narrow labels; a missing result (-1) gets the worst possible distance.
    const float missing = s.metric == faiss::METRIC_INNER_PRODUCT
                              ? -std::numeric_limits<float>::infinity()
                              : std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < labels64.size(); ++i) {
      const faiss::Index::idx_t label = labels64[i];
      if (label < 0) {
        labels_[i] = -1;
        distances_[i] = missing;
      } else {
        labels_[i] = static_cast<int32_t>(label);
      }
    }
  });
  if (error) Fail(*error);
}

void SearchWorker::OnOK() {
  Napi::Env env = Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("distances", distancesRef_.Value());
  result.Set("labels", labelsRef_.Value());
  deferred_.Resolve(result);
}

}  // namespace conifer
