import { binding } from './native.ts';

/**
 * Sets the number of OpenMP threads faiss uses inside one train() or add() (default 1).
 *
 * Searches always run single-threaded: parallelism comes from running many searches at once on
 * the libuv thread pool (UV_THREADPOOL_SIZE, default 4). OpenBLAS is pinned to one thread when
 * the addon loads, so faiss threads and BLAS threads never oversubscribe the cores.
 *
 * @example
 * setThreads(2); // index builds on a 2-vCPU machine
 */
export function setThreads(n: number): void {
  binding().setThreads(n);
}

/** The OpenMP thread count used by train() and add(). */
export function getThreads(): number {
  return binding().getThreads();
}

/**
 * Makes train(), add() and search() called from the calling thread run on that thread, blocking
 * it until they finish (their promises are settled when they return), instead of on the libuv
 * thread pool. Per thread: meant for a worker thread dedicated to index builds (the compaction
 * worker), so the work runs at that thread's CPU priority rather than on pool threads that also
 * serve the event loop's I/O and queries. Never for the event loop itself.
 */
export function setRunOnCallingThread(enabled: boolean): void {
  binding().setRunOnCallingThread(enabled);
}

/** Whether {@link setRunOnCallingThread} is on for the calling thread. */
export function runsOnCallingThread(): boolean {
  return binding().runOnCallingThread();
}

/**
 * Returns the free memory of the C heap to the operating system (glibc's `malloc_trim(0)`, over
 * every thread's arena); true when some was released, false when none was or the C library is not
 * glibc. glibc keeps what faiss frees (index copies, training buffers: gigabytes for a large build)
 * in the arena of the thread that allocated it, where only that process can reuse it.
 */
export function trimNativeHeap(): boolean {
  return binding().trimNativeHeap();
}

/**
 * Asks Linux to back the memory of `bytes` with transparent huge pages (`madvise(MADV_HUGEPAGE)`
 * over its 2 MiB-aligned interior), for large arrays read at random, such as a slab's vectors: with
 * 4 KiB pages a scan of scattered rows misses the TLB on nearly every row. Call it before the
 * memory is first written; pages already present are only merged later by the kernel's
 * khugepaged. Best effort: true when the advice was taken, false when the array is too small to
 * hold a huge page, the kernel refused (THP disabled) or the platform has no such advice.
 */
export function adviseHugePages(bytes: ArrayBufferView): boolean {
  return binding().adviseHugePages(bytes);
}

/** The faiss version the addon was compiled against, e.g. "1.7.3". */
export function faissVersion(): string {
  return binding().faissVersion;
}

/**
 * Whether OpenBLAS was found when the addon loaded and pinned to one thread. When false (another
 * BLAS), set OPENBLAS_NUM_THREADS=1 / OMP_NUM_THREADS=1 in the environment instead.
 */
export function blasPinned(): boolean {
  return binding().blasPinned;
}
