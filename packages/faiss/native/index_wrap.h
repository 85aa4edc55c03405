// The JS class `Index` of the addon: one faiss index owned through IndexState.
#pragma once

#include "index_state.h"
#include "workers.h"

#include <napi.h>

#include <memory>

namespace conifer {

class IndexWrap : public Napi::ObjectWrap<IndexWrap> {
 public:
  /// Defines the class and keeps its constructor in the addon's instance data.
  static Napi::Function define(Napi::Env env);

  /// Not callable from JS: instances come from Index.create / Index.deserialize(Async).
  explicit IndexWrap(const Napi::CallbackInfo& info);
  ~IndexWrap() override;

  /// A new JS Index owning `state` (JS thread only).
  static Napi::Object instantiate(Napi::Env env, std::shared_ptr<IndexState> state);

 private:
  static Napi::Value create(const Napi::CallbackInfo& info);
  static Napi::Value deserialize(const Napi::CallbackInfo& info);
  static Napi::Value deserializeAsync(const Napi::CallbackInfo& info);

  Napi::Value d(const Napi::CallbackInfo& info);
  Napi::Value ntotal(const Napi::CallbackInfo& info);
  Napi::Value isTrained(const Napi::CallbackInfo& info);
  Napi::Value metric(const Napi::CallbackInfo& info);
  Napi::Value kind(const Napi::CallbackInfo& info);
  Napi::Value disposed(const Napi::CallbackInfo& info);

  Napi::Value train(const Napi::CallbackInfo& info);
  Napi::Value add(const Napi::CallbackInfo& info);
  Napi::Value search(const Napi::CallbackInfo& info);
  Napi::Value reconstruct(const Napi::CallbackInfo& info);
  Napi::Value serialize(const Napi::CallbackInfo& info);
  Napi::Value reset(const Napi::CallbackInfo& info);
  Napi::Value ivfLayout(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);

  /// The state, or a thrown ERR_FAISS_DISPOSED error.
  IndexState& live(Napi::Env env);
  Napi::Value mutate(const Napi::CallbackInfo& info, bool train);
  static ClusteringOptions clusteringOptions(const Napi::CallbackInfo& info, const IndexState& s);
  void release(napi_env env);

  std::shared_ptr<IndexState> state_;
};

}  // namespace conifer
