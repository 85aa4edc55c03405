// IndexState: one faiss index and what is needed to share it between the JS thread and the
// libuv pool. Held through std::shared_ptr by the JS wrapper and by every queued or running
// worker, so dispose() (or GC) while a search is in flight frees the index when that search ends.
#pragma once

#include "gate.h"

#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace conifer {

struct IndexState {
  explicit IndexState(std::unique_ptr<faiss::Index> owned)
      : index(std::move(owned)),
        hnsw(dynamic_cast<faiss::IndexHNSW*>(index.get())),
        ivf(dynamic_cast<faiss::IndexIVF*>(index.get())),
        defaultEfSearch(hnsw != nullptr ? hnsw->hnsw.efSearch : 0),
        gate(hnsw != nullptr ? hnsw->hnsw.efSearch : IndexGate::kAnyKey),
        d(index->d),
        metric(index->metric_type) {
    refreshCounts();
  }

  /// The gate key of a search: HNSW searches need their efSearch in the index member.
  int searchKey(std::optional<int> efSearch) const {
    if (hnsw == nullptr) return IndexGate::kAnyKey;
    return efSearch.value_or(defaultEfSearch);
  }

  /// The gate calls this when the HNSW efSearch has to change (no keyed reader is inside).
  void applyKey(int key) {
    if (hnsw != nullptr && key != IndexGate::kAnyKey) hnsw->hnsw.efSearch = key;
  }

  /// Reads counters after a mutation (called under exclusive access).
  void refreshCounts() {
    ntotal.store(index->ntotal, std::memory_order_release);
    trained.store(index->is_trained, std::memory_order_release);
  }

  const char* kind() const {
    if (hnsw != nullptr) return "hnsw";
    if (ivf != nullptr) return "ivf";
    if (dynamic_cast<const faiss::IndexFlat*>(index.get()) != nullptr) return "flat";
    return "other";
  }

  std::unique_ptr<faiss::Index> index;
  faiss::IndexHNSW* const hnsw;  // index itself when it is an HNSW index, else null
  faiss::IndexIVF* const ivf;    // index itself when it is an IVF index, else null
  const int defaultEfSearch;     // efSearch when a search does not give one (HNSW only)
  IndexGate gate;
  const int d;
  const faiss::MetricType metric;
  std::atomic<int64_t> ntotal{0};
  std::atomic<bool> trained{false};

  // JS thread only.
  bool disposed = false;
  int64_t externalBytes = 0;  // reported to V8 with napi_adjust_external_memory
};

}  // namespace conifer
