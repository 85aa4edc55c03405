import { threadId } from 'node:worker_threads';
import type { Metric } from '@conifer/core';
import { trimNativeHeap } from '@conifer/faiss';
import { buildSlabFrom, SlabReader, type AnnHeader, type SlabHeader } from '@conifer/slab';
import { buildAnn, type AnnDonor, type AnnPolicy, type KnownLists } from './ann-build.ts';
import { mergeSlabs, type MergedRows } from './merge.ts';
import { currentThreadNiceness } from './thread-priority.ts';

/**
 * One compaction, as plain data: what a compaction worker receives. The input slabs' bytes are
 * shared with the thread that owns them (SharedArrayBuffer), never copied per job.
 */
export interface CompactionJob {
  /**
   * Input slabs, oldest first. An `owned` input is a copy made for this job alone (a slab read by
   * range): a worker receives it transferred rather than shared, and the job frees it as soon as
   * the output is built — not when both threads' collectors get to it.
   */
  inputs: { id: string; bytes: Uint8Array; owned?: boolean | undefined }[];
  dropTombstones: boolean;
  dimension: number;
  metric: Metric;
  level: number;
  /** The ANN policy; the output gets an index when it has at least `ann.minRows` rows. */
  ann: AnnPolicy;
  /** Build an ANN index whatever the row count (indexing a flat slab too large to scan). */
  indexAlways?: boolean | undefined;
  /** Another slab's trained index whose quantizer the output's index may reuse (see buildAnn). */
  donor?: AnnDonor | undefined;
}

export interface CompactionOutput {
  /** The new slab (empty when every row was dropped), in a buffer the caller may take over. */
  bytes: Uint8Array;
  header: SlabHeader | undefined;
  /** Set when an ANN index was built: what the log line reports. */
  annBuild?: { factory: string; calibration: AnnHeader['calibration']; ms: number; trained: 'donor' | 'sample'; keptLists: number } | undefined;
  /** The thread that ran the job (diagnostics: a worker's id, 0 on the main thread). */
  threadId: number;
  /** That thread's nice value while it ran the job (diagnostics; undefined off Linux). */
  niceness?: number | undefined;
}

/** Below this, an index has too few rows per list to be worth it: the slab is scanned exactly. */
const MIN_INDEXED_ROWS = 1024;

/**
 * Merges the inputs (newest version of each id wins) and writes the output slab, with an ANN
 * index when it is large enough. Pure and self-contained, so it runs the same in a worker thread
 * (production) and on the calling thread.
 */
export async function runCompactionJob(job: CompactionJob): Promise<CompactionOutput> {
  try {
    return await mergeAndBuild(job);
  } finally {
    for (const input of job.inputs) if (input.owned) freeBytes(input.bytes);
  }
}

/** Whether `bytes` is the whole of an unshared buffer: one that can move to a worker or be freed without taking anything else. */
export function fillsOwnBuffer(bytes: Uint8Array): bytes is Uint8Array<ArrayBuffer> {
  const { buffer } = bytes;
  return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength;
}

/** Frees a byte array's memory now (its buffer detached), when it is the whole of an unshared buffer. */
function freeBytes(bytes: Uint8Array): void {
  if (fillsOwnBuffer(bytes) && !bytes.buffer.detached) bytes.buffer.transfer(0);
}

async function mergeAndBuild(job: CompactionJob): Promise<CompactionOutput> {
  // The merge compares ids as bytes: none is decoded. Inputs are read where they are: shared with
  // the thread that owns them, or moved here (owned) — copied, each would be held twice.
  const readers = await Promise.all(job.inputs.map((input) => SlabReader.load(input.id, input.bytes, { verify: false, lazyIds: true, inPlace: true })));
  const rows = await mergeSlabs(readers, job.dropTombstones);
  if (rows.count === 0) return { bytes: new Uint8Array(0), header: undefined, threadId, niceness: currentThreadNiceness() };
  let ann: Awaited<ReturnType<typeof buildAnn>> | undefined;
  let annBuild: CompactionOutput['annBuild'];
  // A sparse-only slab (dimension 0) has no dense part to index: its postings are its index.
  if (job.dimension > 0 && job.level > 0 && (rows.count >= job.ann.minRows || (job.indexAlways && rows.count >= MIN_INDEXED_ROWS))) {
    // Rows come out of the merge in id order, which is the slab's row order: ANN labels = rows.
    const vectors = new Float32Array(rows.count * job.dimension);
    for (let i = 0; i < rows.count; i++) {
      const values = rows.vector(i);
      if (values) vectors.set(values, i * job.dimension);
    }
    const started = performance.now();
    ann = await buildAnn(vectors, rows.count, job.dimension, job.metric, job.ann, job.donor, listsKeptFrom(readers, rows));
    annBuild = {
      factory: ann.header.factory,
      calibration: ann.header.calibration,
      ms: Math.round(performance.now() - started),
      trained: ann.trained,
      keptLists: ann.keptLists,
    };
    // Before the output is allocated (as large as the inputs), give back what the index build held:
    // the merged vectors, freed now rather than at this thread's next full collection, and faiss's
    // freed lists, which glibc keeps in this thread's arena (a new output does not reuse them).
    vectors.buffer.transfer(0);
    trimNativeHeap();
  }
  const { bytes, header } = await buildSlabFrom(rows, { dimension: job.dimension, level: job.level, ann, metadataIndex: true });
  return { bytes, header, annBuild, threadId, niceness: currentThreadNiceness() };
}

/**
 * The merged rows' lists under a quantizer, where an input slab's IVF index was built on the same
 * centroids: its rows keep the list they are in (the nearest centroid then is the nearest now), so
 * a merge into a slab that reuses the quantizer assigns only the rows of the other inputs.
 */
function listsKeptFrom(readers: readonly SlabReader[], rows: MergedRows): KnownLists {
  return (centroids) => {
    const listOfRow = readers.map((reader) => {
      // A version 1 slab keeps its layout inside a whole faiss index: not worth reading for this.
      const layout = reader.header.version === 1 ? undefined : reader.ivfLayout();
      if (!layout || !sameFloats(layout.centroids, centroids)) return undefined;
      const lists = new Int32Array(reader.count).fill(-1);
      for (let list = 0; list + 1 < layout.offsets.length; list++) {
        for (let at = layout.offsets[list]!; at < layout.offsets[list + 1]!; at++) lists[layout.rows[at]!] = list;
      }
      return lists;
    });
    if (listOfRow.every((lists) => lists === undefined)) return undefined;
    const known = new Int32Array(rows.count);
    for (let row = 0; row < rows.count; row++) known[row] = listOfRow[rows.inputOf(row)]?.[rows.inputRowOf(row)] ?? -1;
    return known;
  };
}

/** Bit-for-bit equality of two float arrays (centroids compared as stored, not within a tolerance). */
function sameFloats(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
