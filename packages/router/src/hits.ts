import type { Metadata, SparseF32 } from '@conifer/core';
import type { MemEntry } from '@conifer/memtable';
import type { SlabReader } from '@conifer/slab';

/** One result of a search; values, sparse values and metadata are read only when asked for. */
export interface Hit {
  id: string;
  score: number;
  values(): Float32Array;
  sparse(): SparseF32 | undefined;
  metadata(): Metadata | undefined;
}

/** A scored record while a search runs: where it lives (a memtable entry or a slab row). */
export interface Candidate {
  id: string;
  score: number;
  entry?: MemEntry;
  reader?: SlabReader;
  row?: number;
}

export function toHit(c: Candidate): Hit {
  return {
    id: c.id,
    score: c.score,
    values: () => (c.entry ? c.entry.values! : c.reader!.values(c.row!)!),
    sparse: () => (c.entry ? c.entry.sparse : c.reader!.sparse(c.row!)),
    metadata: () => (c.entry ? c.entry.metadata : c.reader!.metadata(c.row!)),
  };
}
