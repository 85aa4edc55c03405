import type { Metadata, SparseF32 } from '@conifer/core';
import type { MemEntry } from '@conifer/memtable';
import type { SlabReader } from '@conifer/slab';

/** One result of a search; values, sparse values and metadata are read only when asked for. */
export interface Hit {
  id: string;
  score: number;
  /** The slab it comes from (undefined: a memtable); its metadata must be loaded before metadata(). */
  slab?: SlabReader | undefined;
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
  /** A slab row's vector where the search read it: row `index` of `data`. */
  vector?: { data: Float32Array; index: number };
}

export function toHit(c: Candidate): Hit {
  return new CandidateHit(c);
}

/** A candidate as a Hit: reads its values, sparse values and metadata from where it lives when asked. */
class CandidateHit implements Hit {
  readonly id: string;
  readonly score: number;
  readonly slab: SlabReader | undefined;
  readonly #c: Candidate;

  constructor(c: Candidate) {
    this.id = c.id;
    this.score = c.score;
    this.slab = c.entry ? undefined : c.reader;
    this.#c = c;
  }

  values(): Float32Array {
    const c = this.#c;
    if (c.entry) return c.entry.values!;
    if (!c.vector) return c.reader!.values(c.row!)!;
    const d = c.reader!.dimension;
    return c.vector.data.slice(c.vector.index * d, (c.vector.index + 1) * d);
  }

  sparse(): SparseF32 | undefined {
    const c = this.#c;
    return c.entry ? c.entry.sparse : c.reader!.sparse(c.row!);
  }

  metadata(): Metadata | undefined {
    const c = this.#c;
    return c.entry ? c.entry.metadata : c.reader!.metadata(c.row!);
  }
}
