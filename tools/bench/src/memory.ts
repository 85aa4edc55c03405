/**
 * Memory per million vectors, broken down instead of one RSS delta. Two samples of
 * `process.memoryUsage()` (each after a forced GC when node runs with --expose-gc) around the
 * namespace's life, normalized per million vectors:
 *
 * - heapUsed: JS objects — ids, metadata, memtable entries, slab readers' id arrays and maps.
 * - arrayBuffers: ArrayBuffers and Buffers — the slab files as read from the store (vectors,
 *   ids, metadata, serialized ANN index) and any Float32Array copies.
 * - externalNative = external − arrayBuffers: native memory the faiss addon reports to V8
 *   (napi_adjust_external_memory: the vectors each faiss index holds — a copy of the slab's).
 * - rss: everything resident, including native allocations nobody reports (faiss inverted lists
 *   beyond the vectors, allocator slack), code and the other parts above.
 * - slabBytes: the sum of the namespace's slab sizes (engine.describeNamespace): what the store
 *   holds, for comparison with arrayBuffers.
 */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface MemoryPerMillion {
  heapUsed: number;
  arrayBuffers: number;
  externalNative: number;
  rss: number;
  slabBytes: number;
}

/** A full GC when node runs with --expose-gc (twice: finalizers free native memory, e.g. faiss indexes). */
export function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

/** A memory sample after a full GC (when --expose-gc is on; otherwise as it is). */
export function sampleMemory(): MemorySample {
  forceGc();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

export function gcExposed(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

/** MiB per million vectors of each part, one decimal. */
export function memoryPerMillion(before: MemorySample, after: MemorySample, slabBytes: number, vectors: number): MemoryPerMillion {
  const per = (bytes: number) => Math.round((bytes / 2 ** 20) * (1e6 / vectors) * 10) / 10;
  return {
    heapUsed: per(after.heapUsed - before.heapUsed),
    arrayBuffers: per(after.arrayBuffers - before.arrayBuffers),
    externalNative: per(after.external - after.arrayBuffers - (before.external - before.arrayBuffers)),
    rss: per(after.rss - before.rss),
    slabBytes: per(slabBytes),
  };
}
