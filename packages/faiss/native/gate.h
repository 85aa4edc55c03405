// IndexGate: who may touch one faiss index at a time.
//
// - Searches, reconstruct and serialize share the index (faiss search is const and thread-safe).
// - train() and add() mutate it and get it alone.
// - HNSW searches additionally carry a *key*, the efSearch they need. faiss 1.7.3 sizes the
//   HNSW candidate queue from the index member `hnsw.efSearch` and ignores the efSearch of
//   SearchParametersHNSW for it (measured: the per-call value does not change recall). So the
//   gate sets the member to the caller's value, and lets searches run concurrently only while
//   they agree on it; a search that needs another value waits until the current ones drain,
//   and while it waits, no new search with the current value is admitted (no starvation).
//   Keyless readers (reconstruct; non-HNSW indexes) never wait for a key.
// - Writers are not starved by a stream of readers: a waiting writer blocks new readers.
#pragma once

#include <condition_variable>
#include <mutex>

namespace conifer {

class IndexGate {
 public:
  static constexpr int kAnyKey = -1;

  explicit IndexGate(int initialKey) : key_(initialKey) {}
  IndexGate(const IndexGate&) = delete;
  IndexGate& operator=(const IndexGate&) = delete;

  /// Blocks until shared access with `key` is granted. When the key has to change, `apply(key)`
  /// runs first, while no other keyed reader holds the gate.
  template <class Apply>
  void lockShared(int key, Apply&& apply) {
    std::unique_lock<std::mutex> lock(mu_);
    bool queued = false;
    while (true) {
      const bool noWriter = !writer_ && waitingWriters_ == 0;
      if (noWriter && admits(key, queued)) break;
      if (noWriter && key != kAnyKey && key != key_ && !queued) {
        queued = true;
        ++waitingForKey_;
      }
      cv_.wait(lock);
    }
    if (queued) --waitingForKey_;
    enter(key, apply);
  }

  /// Shared access for the JS thread, which must not wait behind a long train()/add(): returns
  /// false when a writer holds the gate. It may wait (briefly) for searches that use another
  /// key to finish.
  template <class Apply>
  bool tryLockSharedNow(int key, Apply&& apply) {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      if (writer_) return false;
      if (key == kAnyKey || keyedReaders_ == 0 || key == key_) break;
      cv_.wait(lock);
    }
    enter(key, apply);
    return true;
  }

  void unlockShared(int key) {
    std::lock_guard<std::mutex> lock(mu_);
    --readers_;
    if (key != kAnyKey) --keyedReaders_;
    cv_.notify_all();
  }

  void lockExclusive() {
    std::unique_lock<std::mutex> lock(mu_);
    ++waitingWriters_;
    cv_.wait(lock, [this] { return !writer_ && readers_ == 0; });
    --waitingWriters_;
    writer_ = true;
  }

  /// Exclusive access for the JS thread: false (without waiting) when anyone holds the gate.
  bool tryLockExclusiveNow() {
    std::lock_guard<std::mutex> lock(mu_);
    if (writer_ || readers_ > 0) return false;
    writer_ = true;
    return true;
  }

  void unlockExclusive() {
    std::lock_guard<std::mutex> lock(mu_);
    writer_ = false;
    cv_.notify_all();
  }

 private:
  bool admits(int key, bool queued) const {
    if (key == kAnyKey || keyedReaders_ == 0) return true;
    // Same key: join, unless a search for another key is waiting (it goes next).
    return key == key_ && waitingForKey_ == (queued ? 1 : 0);
  }

  template <class Apply>
  void enter(int key, Apply& apply) {
    if (key != kAnyKey) {
      if (keyedReaders_ == 0 && key != key_) {
        apply(key);
        key_ = key;
      }
      ++keyedReaders_;
    }
    ++readers_;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int key_;
  int readers_ = 0;
  int keyedReaders_ = 0;
  int waitingForKey_ = 0;
  int waitingWriters_ = 0;
  bool writer_ = false;
};

/// RAII shared access (see IndexGate::lockShared).
class SharedAccess {
 public:
  template <class Apply>
  SharedAccess(IndexGate& gate, int key, Apply&& apply) : gate_(gate), key_(key) {
    gate_.lockShared(key, apply);
  }
  ~SharedAccess() { gate_.unlockShared(key_); }
  SharedAccess(const SharedAccess&) = delete;
  SharedAccess& operator=(const SharedAccess&) = delete;

 private:
  IndexGate& gate_;
  int key_;
};

/// RAII exclusive access.
class ExclusiveAccess {
 public:
  explicit ExclusiveAccess(IndexGate& gate) : gate_(gate) { gate_.lockExclusive(); }
  ~ExclusiveAccess() { gate_.unlockExclusive(); }
  ExclusiveAccess(const ExclusiveAccess&) = delete;
  ExclusiveAccess& operator=(const ExclusiveAccess&) = delete;

 private:
  IndexGate& gate_;
};

}  // namespace conifer
