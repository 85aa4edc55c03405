#include "index_wrap.h"

#include "errors.h"
#include "validate.h"
#include "workers.h"

#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

namespace conifer {

namespace {

/// Per-environment data: the constructor, so C++ can create instances.
struct AddonData {
  Napi::FunctionReference indexConstructor;
};

/// Largest nq * k (result arrays of 2^28 elements are 1 GiB each); kMaxK is in validate.h.
constexpr int64_t kMaxResults = int64_t{1} << 28;
constexpr int64_t kMaxFactoryLength = 1024;
/// Bounds of train()'s clustering options (faiss's IVF defaults: 39 and 256 points, 10 iterations).
constexpr int64_t kMaxPointsPerCentroid = int64_t{1} << 20;
constexpr int64_t kMaxClusteringIterations = 1000;

/// faiss::IOReader over borrowed bytes (read_index copies what it keeps): avoids copying the
/// serialized index into a std::vector first, as VectorIOReader would.
struct SpanReader : faiss::IOReader {
  SpanReader(const uint8_t* data, size_t size) : data(data), size(size) {}
  size_t operator()(void* ptr, size_t itemSize, size_t nitems) override {
    if (itemSize == 0 || pos >= size) return 0;
    const size_t available = (size - pos) / itemSize;
    const size_t count = nitems < available ? nitems : available;
    std::memcpy(ptr, data + pos, count * itemSize);
    pos += count * itemSize;
    return count;
  }
  const uint8_t* data;
  size_t size;
  size_t pos = 0;
};

/// The bytes argument of deserialize(Async): a non-empty Uint8Array (TypeError / ERR_FAISS).
Napi::Uint8Array serializedBytesArg(const Napi::Value& value) {
  Napi::Uint8Array bytes = uint8Arg(value, "bytes");
  if (bytes.ElementLength() == 0) {
    throw makeError(value.Env(), "faiss: cannot deserialize an empty buffer", kFaissErrorCode);
  }
  return bytes;
}

/// Reads a serialized index from borrowed bytes (any thread; throws on failure). Used by both
/// deserialize() on the JS thread and deserializeAsync() on the pool, so they accept and reject
/// exactly the same bytes with the same messages.
std::shared_ptr<IndexState> readIndexState(const uint8_t* data, size_t size) {
  // faiss's read errors end with strerror(errno), which SpanReader never sets: clear it so the
  // message says "(Success)" on every thread instead of whatever errno the thread last had
  // (the JS thread's is often libuv's EAGAIN, "Resource temporarily unavailable").
  errno = 0;
  SpanReader reader(data, size);
  std::unique_ptr<faiss::Index> index(faiss::read_index(&reader));
  if (reader.pos != reader.size) {
    throw std::runtime_error("trailing bytes after the serialized index (" +
                             std::to_string(reader.size - reader.pos) + ")");
  }
  if (index->metric_type != faiss::METRIC_L2 &&
      index->metric_type != faiss::METRIC_INNER_PRODUCT) {
    throw std::runtime_error("unsupported metric type " + std::to_string(index->metric_type));
  }
  if (index->ntotal > std::numeric_limits<int32_t>::max()) {
    throw std::runtime_error("index holds more than 2^31-1 vectors");
  }
  auto state = std::make_shared<IndexState>(std::move(index));
  state->externalBytes = state->ntotal.load() * state->d * static_cast<int64_t>(sizeof(float));
  return state;
}

/// deserializeAsync(): read_index on the libuv pool, straight from the caller's bytes.
///
/// No copy: the worker keeps a strong reference to the Uint8Array (so neither it nor its
/// ArrayBuffer can be collected while the read runs) and reads through the data pointer taken on
/// the JS thread (napi_get_typedarray_info has already moved a small on-heap array's bytes off
/// the V8 heap for good). What a reference cannot prevent is the caller changing the bytes
/// meanwhile: writing them (or a SharedArrayBuffer's other threads writing them) gives a corrupt
/// read, and detaching (postMessage/structuredClone transfer, ArrayBuffer.prototype.transfer) or
/// shrinking a resizable buffer can free or unmap the memory under the reader. The contract
/// (faiss-index.ts) forbids all of that until the promise settles; OnOK still refuses the result
/// when it sees the buffer detached or resized, since it was read from memory in flux.
class DeserializeWorker : public Napi::AsyncWorker {
 public:
  DeserializeWorker(Napi::Env env, const Napi::Uint8Array& bytes)
      : Napi::AsyncWorker(env, "conifer:faiss:deserialize"),
        bytesRef_(Napi::Persistent(bytes.As<Napi::Object>())),
        data_(bytes.Data()),
        size_(bytes.ElementLength()),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    auto error = captureErrors([this] { state_ = readIndexState(data_, size_); });
    if (error) SetError(*error);
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Uint8Array bytes = bytesRef_.Value().As<Napi::Uint8Array>();
    bytesRef_.Reset();
    if (bytes.ArrayBuffer().IsDetached() || bytes.ElementLength() != size_) {
      state_.reset();
      deferred_.Reject(makeError(env,
                                 "faiss: the bytes were detached or resized while "
                                 "deserializeAsync() was reading them",
                                 kFaissErrorCode)
                           .Value());
      return;
    }
    try {
      deferred_.Resolve(IndexWrap::instantiate(env, std::move(state_)));
    } catch (const Napi::Error& error) {  // a rejection, not an uncaught exception
      deferred_.Reject(error.Value());
    }
  }

  void OnError(const Napi::Error& error) override {
    bytesRef_.Reset();
    deferred_.Reject(makeError(Env(), error.Message(), kFaissErrorCode).Value());
  }

 private:
  Napi::ObjectReference bytesRef_;
  const uint8_t* data_;
  size_t size_;
  std::shared_ptr<IndexState> state_;
  Napi::Promise::Deferred deferred_;
};

Napi::Error disposedError(Napi::Env env) {
  return makeError(env, "faiss index is disposed", kDisposedErrorCode);
}

Napi::Error busyError(Napi::Env env, const char* what) {
  return makeError(env,
                   std::string("faiss index is busy: ") + what +
                       " cannot run while train() or add() is in progress; await it first",
                   kBusyErrorCode);
}

}  // namespace

Napi::Function IndexWrap::define(Napi::Env env) {
  Napi::Function ctor = DefineClass(
      env, "Index",
      {
          StaticMethod<&IndexWrap::create>("create"),
          StaticMethod<&IndexWrap::deserialize>("deserialize"),
          StaticMethod<&IndexWrap::deserializeAsync>("deserializeAsync"),
          InstanceAccessor<&IndexWrap::d>("d"),
          InstanceAccessor<&IndexWrap::ntotal>("ntotal"),
          InstanceAccessor<&IndexWrap::isTrained>("isTrained"),
          InstanceAccessor<&IndexWrap::metric>("metric"),
          InstanceAccessor<&IndexWrap::kind>("kind"),
          InstanceAccessor<&IndexWrap::disposed>("disposed"),
          InstanceMethod<&IndexWrap::train>("train"),
          InstanceMethod<&IndexWrap::add>("add"),
          InstanceMethod<&IndexWrap::search>("search"),
          InstanceMethod<&IndexWrap::reconstruct>("reconstruct"),
          InstanceMethod<&IndexWrap::serialize>("serialize"),
          InstanceMethod<&IndexWrap::reset>("reset"),
          InstanceMethod<&IndexWrap::ivfLayout>("ivfLayout"),
          InstanceMethod<&IndexWrap::dispose>("dispose"),
      });
  auto* data = new AddonData();
  data->indexConstructor = Napi::Persistent(ctor);
  env.SetInstanceData<AddonData>(data);
  return ctor;
}

IndexWrap::IndexWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IndexWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "use Index.create() or Index.deserialize()");
  }
  auto* handoff = info[0].As<Napi::External<std::shared_ptr<IndexState>>>().Data();
  state_ = std::move(*handoff);
  int64_t ignored;
  napi_adjust_external_memory(info.Env(), state_->externalBytes, &ignored);
}

IndexWrap::~IndexWrap() { release(Env()); }

void IndexWrap::release(napi_env env) {
  if (!state_) return;
  state_->disposed = true;
  int64_t ignored;
  // Raw call: this also runs in the GC finalizer, where a thrown Napi::Error would terminate.
  napi_adjust_external_memory(env, -state_->externalBytes, &ignored);
  state_.reset();  // frees the index now, or when the last in-flight worker finishes
}

Napi::Object IndexWrap::instantiate(Napi::Env env, std::shared_ptr<IndexState> state) {
  auto* data = env.GetInstanceData<AddonData>();
  std::shared_ptr<IndexState> handoff = std::move(state);
  using Handoff = Napi::External<std::shared_ptr<IndexState>>;
  return data->indexConstructor.New({Handoff::New(env, &handoff)});
}

IndexState& IndexWrap::live(Napi::Env env) {
  if (!state_) throw disposedError(env);
  return *state_;
}

// ---------------------------------------------------------------------------------------------
// construction

Napi::Value IndexWrap::create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int d = static_cast<int>(integerArg(info[0], "d", 1, kMaxDimension));
  const std::string factory = stringArg(info[1], "factory");
  if (factory.empty() || static_cast<int64_t>(factory.size()) > kMaxFactoryLength) {
    throw Napi::RangeError::New(env, "factory must be a non-empty faiss index_factory string");
  }
  const std::string metricName = stringArg(info[2], "metric");
  faiss::MetricType metric;
  if (metricName == "l2") {
    metric = faiss::METRIC_L2;
  } else if (metricName == "ip") {
    metric = faiss::METRIC_INNER_PRODUCT;
  } else {
    throw Napi::RangeError::New(env, "metric must be 'l2' or 'ip', got '" + metricName + "'");
  }
  std::shared_ptr<IndexState> state;
  runOrThrow(env, [&] {
    std::unique_ptr<faiss::Index> index(faiss::index_factory(d, factory.c_str(), metric));
    state = std::make_shared<IndexState>(std::move(index));
  });
  return instantiate(env, std::move(state));
}

Napi::Value IndexWrap::deserialize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array bytes = serializedBytesArg(info[0]);
  std::shared_ptr<IndexState> state;
  runOrThrow(env, [&] { state = readIndexState(bytes.Data(), bytes.ElementLength()); });
  return instantiate(env, std::move(state));
}

Napi::Value IndexWrap::deserializeAsync(const Napi::CallbackInfo& info) {
  Napi::Uint8Array bytes = serializedBytesArg(info[0]);
  auto* worker = new DeserializeWorker(info.Env(), bytes);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// ---------------------------------------------------------------------------------------------
// properties

Napi::Value IndexWrap::d(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), live(info.Env()).d);
}

Napi::Value IndexWrap::ntotal(const Napi::CallbackInfo& info) {
  const int64_t ntotal = live(info.Env()).ntotal.load(std::memory_order_acquire);
  return Napi::Number::New(info.Env(), static_cast<double>(ntotal));
}

Napi::Value IndexWrap::isTrained(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), live(info.Env()).trained.load(std::memory_order_acquire));
}

Napi::Value IndexWrap::metric(const Napi::CallbackInfo& info) {
  const IndexState& s = live(info.Env());
  return Napi::String::New(info.Env(), s.metric == faiss::METRIC_INNER_PRODUCT ? "ip" : "l2");
}

Napi::Value IndexWrap::kind(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), live(info.Env()).kind());
}

Napi::Value IndexWrap::disposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !state_);
}

// ---------------------------------------------------------------------------------------------
// async work

/// train(vectors, minPointsPerCentroid?, maxPointsPerCentroid?, niter?): the clustering options
/// of an IVF index (faiss::IndexIVF::cp). Any of them on another kind of index is a RangeError.
ClusteringOptions IndexWrap::clusteringOptions(const Napi::CallbackInfo& info,
                                               const IndexState& s) {
  Napi::Env env = info.Env();
  ClusteringOptions options;
  const char* given = nullptr;  // the first option given, for the error message
  if (auto v = optionalIntegerArg(info[1], "minPointsPerCentroid", 1, kMaxPointsPerCentroid)) {
    options.minPointsPerCentroid = static_cast<int>(*v);
    given = "minPointsPerCentroid";
  }
  if (auto v = optionalIntegerArg(info[2], "maxPointsPerCentroid", 1, kMaxPointsPerCentroid)) {
    options.maxPointsPerCentroid = static_cast<int>(*v);
    if (given == nullptr) given = "maxPointsPerCentroid";
  }
  if (auto v = optionalIntegerArg(info[3], "niter", 1, kMaxClusteringIterations)) {
    options.niter = static_cast<int>(*v);
    if (given == nullptr) given = "niter";
  }
  if (options.minPointsPerCentroid && options.maxPointsPerCentroid &&
      *options.minPointsPerCentroid > *options.maxPointsPerCentroid) {
    throw Napi::RangeError::New(
        env, "minPointsPerCentroid (" + std::to_string(*options.minPointsPerCentroid) +
                 ") must not exceed maxPointsPerCentroid (" +
                 std::to_string(*options.maxPointsPerCentroid) + ")");
  }
  if (given != nullptr && s.ivf == nullptr) {
    throw Napi::RangeError::New(env, std::string(given) +
                                         ": only IVF indexes take clustering options; this "
                                         "index is " +
                                         s.kind());
  }
  return options;
}

namespace {

/// add()'s `lists`: an Int32Array of one entry per vector, each -1 (assign it) or a list of this
/// IVF index. Copied, as the vectors are not: the caller may reuse it once add() returns.
std::vector<int64_t> knownLists(const Napi::Value& value, int64_t n, const IndexState& s) {
  Napi::Env env = value.Env();
  const Napi::Int32Array given = int32Arg(value, "lists");
  if (s.ivf == nullptr) {
    throw Napi::TypeError::New(env, std::string("lists: only IVF indexes take known lists; this index is ") + s.kind());
  }
  if (static_cast<int64_t>(given.ElementLength()) != n) {
    throw Napi::RangeError::New(env, "lists has " + std::to_string(given.ElementLength()) +
                                         " entries, one per vector is " + std::to_string(n));
  }
  const int64_t nlist = static_cast<int64_t>(s.ivf->nlist);
  std::vector<int64_t> lists(given.ElementLength());
  for (size_t i = 0; i < given.ElementLength(); i++) {
    const int64_t list = given[i];
    if (list < -1 || list >= nlist) {
      throw Napi::RangeError::New(env, "lists[" + std::to_string(i) + "] is " + std::to_string(list) +
                                           ": must be -1 or a list in [0, " + std::to_string(nlist) + ")");
    }
    lists[i] = list;
  }
  return lists;
}

}  // namespace

Napi::Value IndexWrap::mutate(const Napi::CallbackInfo& info, bool train) {
  Napi::Env env = info.Env();
  IndexState& s = live(env);
  Napi::Float32Array vectors = float32Arg(info[0], "vectors");
  const int64_t n = vectorCount(vectors, s.d, "vectors");
  if (!train && !s.trained.load(std::memory_order_acquire)) {
    throw makeError(env, "faiss: index is not trained: call (and await) train() before add()",
                    kFaissErrorCode);
  }
  ClusteringOptions clustering;
  if (train) clustering = clusteringOptions(info, s);
  std::vector<int64_t> lists;
  if (!train && info.Length() > 1 && !info[1].IsUndefined()) lists = knownLists(info[1], n, s);
  const auto kind = train ? MutateWorker::Kind::Train : MutateWorker::Kind::Add;
  auto* worker = new MutateWorker(env, state_, kind, vectors, n, clustering, std::move(lists));
  Napi::Promise promise = worker->promise();
  worker->Start();
  return promise;
}

Napi::Value IndexWrap::train(const Napi::CallbackInfo& info) { return mutate(info, true); }

Napi::Value IndexWrap::add(const Napi::CallbackInfo& info) { return mutate(info, false); }

Napi::Value IndexWrap::search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  IndexState& s = live(env);
  Napi::Float32Array queries = float32Arg(info[0], "queries");
  SearchRequest request;
  request.nq = vectorCount(queries, s.d, "queries");
  request.k = integerArg(info[1], "k", 1, kMaxK);
  if (request.nq * request.k > kMaxResults) {
    throw Napi::RangeError::New(env, "nq * k must be at most 2^28");
  }
  if (auto nprobe = optionalIntegerArg(info[2], "nprobe", 1, std::numeric_limits<int32_t>::max())) {
    if (s.ivf == nullptr) {
      throw Napi::TypeError::New(
          env, std::string("nprobe applies to IVF indexes; this index is ") + s.kind());
    }
    request.nprobe = static_cast<int>(*nprobe);
  }
  if (auto ef = optionalIntegerArg(info[3], "efSearch", 1, 1 << 20)) {
    if (s.hnsw == nullptr) {
      throw Napi::TypeError::New(
          env, std::string("efSearch applies to HNSW indexes; this index is ") + s.kind());
    }
    request.efSearch = static_cast<int>(*ef);
  }
  if (!info[4].IsUndefined() && !info[4].IsNull()) {
    Napi::Uint8Array allowed = uint8Arg(info[4], "allowed");
    request.filtered = true;
    request.allowed.assign(allowed.Data(), allowed.Data() + allowed.ElementLength());
  }
  request.queries.assign(queries.Data(), queries.Data() + queries.ElementLength());
  auto* worker = new SearchWorker(env, state_, std::move(request));
  Napi::Promise promise = worker->promise();
  worker->Start();
  return promise;
}

// ---------------------------------------------------------------------------------------------
// synchronous reads

Napi::Value IndexWrap::reconstruct(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  IndexState& s = live(env);
  const int64_t ntotal = s.ntotal.load(std::memory_order_acquire);
  const int64_t id = integerArg(info[0], "id", 0, std::numeric_limits<int32_t>::max());
  if (id >= ntotal) {
    throw Napi::RangeError::New(env, "id " + std::to_string(id) + " is out of range (ntotal " +
                                         std::to_string(ntotal) + ")");
  }
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(s.d));
  if (!s.gate.tryLockSharedNow(IndexGate::kAnyKey, [](int) {})) {
    throw busyError(env, "reconstruct()");
  }
  auto error = captureErrors([&] {
    if (s.ivf != nullptr && s.ivf->direct_map.no()) {
      // No id → list map: scan the inverted lists' ids instead of building one (which would
      // mutate the index and its serialized form).
      s.ivf->reconstruct_n(id, 1, out.Data());
    } else {
      s.index->reconstruct(id, out.Data());
    }
  });
  s.gate.unlockShared(IndexGate::kAnyKey);
  if (error) throw makeError(env, *error, kFaissErrorCode);
  return out;
}

Napi::Value IndexWrap::serialize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  IndexState& s = live(env);
  // HNSW: write the default efSearch, not whatever the last search set.
  const int key = s.searchKey(std::nullopt);
  if (!s.gate.tryLockSharedNow(key, [&s](int k) { s.applyKey(k); })) {
    throw busyError(env, "serialize()");
  }
  faiss::VectorIOWriter writer;
  auto error = captureErrors([&] { faiss::write_index(s.index.get(), &writer); });
  s.gate.unlockShared(key);
  if (error) throw makeError(env, *error, kFaissErrorCode);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, writer.data.size());
  if (!writer.data.empty()) std::memcpy(buffer.Data(), writer.data.data(), writer.data.size());
  return Napi::Uint8Array::New(env, writer.data.size(), buffer, 0);
}

Napi::Value IndexWrap::ivfLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  IndexState& s = live(env);
  if (s.ivf == nullptr) throw Napi::TypeError::New(env, "ivfLayout(): not an IVF index");
  if (!s.gate.tryLockSharedNow(IndexGate::kAnyKey, [](int) {})) throw busyError(env, "ivfLayout()");
  const faiss::IndexIVF& ivf = *s.ivf;
  const size_t nlist = ivf.nlist;
  const int64_t ntotal = ivf.ntotal;
  Napi::Float32Array centroids = Napi::Float32Array::New(env, nlist * static_cast<size_t>(ivf.d));
  Napi::Int32Array offsets = Napi::Int32Array::New(env, nlist + 1);
  Napi::Int32Array rows = Napi::Int32Array::New(env, static_cast<size_t>(ntotal));
  auto error = captureErrors([&] {
    if (ivf.quantizer->ntotal != static_cast<faiss::Index::idx_t>(nlist)) throw std::runtime_error("quantizer is not trained");
    ivf.quantizer->reconstruct_n(0, static_cast<faiss::Index::idx_t>(nlist), centroids.Data());
    int64_t at = 0;
    for (size_t list = 0; list < nlist; ++list) {
      offsets[list] = static_cast<int32_t>(at);
      const size_t size = ivf.invlists->list_size(list);
      faiss::InvertedLists::ScopedIds ids(ivf.invlists, list);
      for (size_t i = 0; i < size; ++i) {
        if (at >= ntotal) throw std::runtime_error("inverted lists hold more ids than the index");
        rows[static_cast<size_t>(at++)] = static_cast<int32_t>(ids[i]);
      }
    }
    offsets[nlist] = static_cast<int32_t>(at);
    if (at != ntotal) throw std::runtime_error("inverted lists hold fewer ids than the index");
  });
  s.gate.unlockShared(IndexGate::kAnyKey);
  if (error) throw makeError(env, *error, kFaissErrorCode);
  Napi::Object out = Napi::Object::New(env);
  out.Set("centroids", centroids);
  out.Set("offsets", offsets);
  out.Set("rows", rows);
  return out;
}

Napi::Value IndexWrap::reset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  IndexState& s = live(env);
  if (!s.gate.tryLockExclusiveNow()) throw busyError(env, "reset()");
  auto error = captureErrors([&] { s.index->reset(); });
  s.ntotal.store(s.index->ntotal, std::memory_order_release);
  s.gate.unlockExclusive();
  int64_t ignored;
  napi_adjust_external_memory(env, -s.externalBytes, &ignored);
  s.externalBytes = 0;
  if (error) throw makeError(env, *error, kFaissErrorCode);
  return env.Undefined();
}

Napi::Value IndexWrap::dispose(const Napi::CallbackInfo& info) {
  release(info.Env());
  return info.Env().Undefined();
}

}  // namespace conifer
