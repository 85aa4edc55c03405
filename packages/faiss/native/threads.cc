#include "threads.h"

#include <dlfcn.h>
#include <omp.h>

#include <atomic>

namespace conifer {

namespace {
std::atomic<int> gBuildThreads{1};
}

bool pinBlasToOneThread() {
  using SetThreads = void (*)(int);
  auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set == nullptr) return false;
  set(1);
  return true;
}

int buildThreads() { return gBuildThreads.load(std::memory_order_relaxed); }

void setBuildThreads(int n) { gBuildThreads.store(n, std::memory_order_relaxed); }

void useOmpThreads(int n) { omp_set_num_threads(n); }

namespace {
thread_local bool tRunOnCallingThread = false;
}

bool runOnCallingThread() { return tRunOnCallingThread; }

void setRunOnCallingThread(bool enabled) { tRunOnCallingThread = enabled; }

}  // namespace conifer
