import { adviseHugePages } from '@conifer/faiss';
import { yieldToEventLoop } from './yield.ts';

/**
 * Slab bytes live in SharedArrayBuffers: a compaction worker then reads its input slabs where
 * they are, and its output comes back without a copy. Slabs this process builds are born shared;
 * a slab read from the object store is copied once, when it is loaded (before it serves queries),
 * rather than when a compaction picks it — that copy, on the event loop, held queries up.
 */
export function isShared(bytes: Uint8Array): boolean {
  return bytes.buffer instanceof SharedArrayBuffer;
}

/**
 * A zeroed, shared byte array. A large one asks for transparent huge pages before anything is
 * written to it (unless `hugePages` is false): queries read a slab's vectors at scattered rows,
 * where 4 KiB pages cost a TLB miss per row. The first write to each huge page may wait for the
 * kernel to compact memory into one (THP `defrag` set to `madvise`, a common default), so a buffer
 * filled on the event loop and soon let go of is better without.
 */
export function sharedArray(length: number, options: { hugePages?: boolean } = {}): Uint8Array {
  const bytes = new Uint8Array(new SharedArrayBuffer(length));
  if (length >= HUGE_PAGE_MIN_BYTES && options.hugePages !== false) adviseHugePages(bytes);
  return bytes;
}

/** Smaller arrays hold at most one whole 2 MiB page, not worth the advice. */
const HUGE_PAGE_MIN_BYTES = 4 * 2 ** 20;

/**
 * `bytes` in shared memory (as is when already shared), copied in slices that yield to the event
 * loop; `onSlice` sees each copied slice (the loader checksums as it copies).
 */
export async function toShared(bytes: Uint8Array, onSlice?: (slice: Uint8Array) => void): Promise<Uint8Array> {
  return visitInSlices(bytes, isShared(bytes) ? bytes : sharedArray(bytes.byteLength), onSlice);
}

/** Hands `bytes` to `onSlice` in the slices toShared copies, yielding between them; returns `bytes`. */
export async function inSlices(bytes: Uint8Array, onSlice?: (slice: Uint8Array) => void): Promise<Uint8Array> {
  return visitInSlices(bytes, bytes, onSlice);
}

/** Visits `bytes` slice by slice (copying each into `out` unless it is `bytes`), yielding between slices. */
async function visitInSlices(bytes: Uint8Array, out: Uint8Array, onSlice?: (slice: Uint8Array) => void): Promise<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += COPY_SLICE) {
    const slice = bytes.subarray(at, Math.min(bytes.byteLength, at + COPY_SLICE));
    if (out !== bytes) out.set(slice, at);
    onSlice?.(slice);
    if (at + COPY_SLICE < bytes.byteLength) await yieldToEventLoop();
  }
  return out;
}

/**
 * Copies `source` into `target` at `offset` in slices that yield to the event loop: a copy of a
 * large slab's vectors in one `set` (and the page faults of a fresh target) would hold queries up
 * for the whole copy.
 */
export async function copyInSlices(target: Uint8Array, source: Uint8Array, offset: number): Promise<void> {
  for (let at = 0; at < source.byteLength; at += COPY_SLICE) {
    target.set(source.subarray(at, Math.min(source.byteLength, at + COPY_SLICE)), offset + at);
    if (at + COPY_SLICE < source.byteLength) await yieldToEventLoop();
  }
}

/** About a quarter of a millisecond of copying (and page faults) per slice. */
const COPY_SLICE = 1024 * 1024;
