// Thread counts for faiss (OpenMP) and BLAS.
//
// Parallelism comes from concurrent calls on the libuv thread pool, not from inside one call:
// - searches always run with one OpenMP thread;
// - train()/add() run with buildThreads() OpenMP threads (setThreads, default 1);
// - OpenBLAS is pinned to one thread when the module loads (openblas_set_num_threads, looked up
//   with dlsym so the build does not depend on which BLAS the libblas.so alternative points at).
//   Debian links the pthread OpenBLAS: its threads plus OpenMP's would oversubscribe the cores.
#pragma once

namespace conifer {

/// Pins OpenBLAS to one thread. Returns false when the loaded BLAS is not OpenBLAS.
bool pinBlasToOneThread();

/// OpenMP threads used by train() and add().
int buildThreads();
void setBuildThreads(int n);

/// Sets the OpenMP thread count of the calling thread (a libuv pool thread).
void useOmpThreads(int n);

/// Whether train() / add() / search() called from this thread run on it, blocking it, instead of
/// on the libuv thread pool. Per thread (each worker thread has its own): a thread dedicated to
/// index builds sets it so the work shares that thread's CPU priority (see setRunOnCallingThread
/// in src/threads.ts).
bool runOnCallingThread();
void setRunOnCallingThread(bool enabled);

}  // namespace conifer
