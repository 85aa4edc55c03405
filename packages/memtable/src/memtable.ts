import type { Metadata, SparseF32 } from '@conifer/core';
import { VectorArena, type ArenaChunk } from './vector-arena.ts';

/**
 * Recent writes of one namespace, in memory, newest version per id. A delete is kept as a
 * tombstone (`values === null`) because it must hide older versions that live in slabs.
 * `clearedAtLsn` records a deleteAll: every version in older layers with a lower LSN is hidden.
 *
 * A memtable is appended to only by the request log's apply step, in LSN order; once frozen for a
 * flush it never changes again.
 */
export interface MemEntry {
  lsn: number;
  /** null for a tombstone. */
  values: Float32Array | null;
  sparse?: SparseF32 | undefined;
  metadata: Metadata | undefined;
  /** Where the memtable keeps the dense vector (its arena row), for a put; none for a tombstone. */
  readonly slot?: number;
}

/** A memtable's entries as they were when a deleteAll at `lsn` cleared them. */
interface ClearedEntries {
  lsn: number;
  entries: Map<string, MemEntry>;
  older: ClearedEntries | undefined;
}

/** Rough per-entry overhead (Map slot, object, strings) used for the flush threshold. */
const ENTRY_OVERHEAD_BYTES = 96;

export class Memtable {
  #entries = new Map<string, MemEntry>();
  /** The version each entry replaced (for reads as of an earlier LSN); old versions stay until the flush. */
  readonly #replaced = new WeakMap<MemEntry, MemEntry>();
  /** The entries as they were just before the newest deleteAll (and so on back). */
  #beforeClear: ClearedEntries | undefined;
  /** Dense vectors, packed for native scans; each put's entry knows its row there (`slot`). */
  readonly #arena = new VectorArena();
  #clearedAtLsn = 0;
  #minLsn = 0;
  #maxLsn = 0;
  #bytes = 0;
  #frozen = false;

  get size(): number {
    return this.#entries.size;
  }
  /** Approximate memory held, for the flush threshold. */
  get bytes(): number {
    return this.#bytes;
  }
  /** Memory held: `bytes`, plus the room allocated in the vector arena and not yet filled. */
  get memoryBytes(): number {
    return this.#bytes + this.#arena.allocatedBytes - this.#arena.bytes + this.#arena.listBytes;
  }
  get minLsn(): number {
    return this.#minLsn;
  }
  /** Highest LSN applied to this memtable (0 when empty). */
  get maxLsn(): number {
    return this.#maxLsn;
  }
  /** LSN of the newest deleteAll applied here, or 0. */
  get clearedAtLsn(): number {
    return this.#clearedAtLsn;
  }
  get frozen(): boolean {
    return this.#frozen;
  }
  /** True when nothing was applied (no entries and no deleteAll). */
  get isEmpty(): boolean {
    return this.#maxLsn === 0;
  }

  freeze(): void {
    this.#frozen = true;
  }

  get(id: string): MemEntry | undefined {
    return this.#entries.get(id);
  }

  /**
   * The version of `id` this memtable held once every LSN up to `lsn` was applied (and none
   * after): what a read that started at `lsn` must still see while later writes land.
   */
  getAsOf(id: string, lsn: number): MemEntry | undefined {
    let entries = this.#entries;
    for (let cleared = this.#beforeClear; cleared && lsn < cleared.lsn; cleared = cleared.older) entries = cleared.entries;
    let entry = entries.get(id);
    while (entry && entry.lsn > lsn) entry = this.#replaced.get(entry);
    return entry;
  }

  entries(): IterableIterator<[string, MemEntry]> {
    return this.#entries.entries();
  }

  /**
   * The dense vectors of the entries, in chunks with a bitmap of the live rows (each id's newest
   * version when it is not a tombstone): what a native scan reads. A row's id is in the chunk.
   */
  vectorChunks(): ArenaChunk[] {
    return this.#arena.chunks();
  }

  /** The quantizer whose inverted lists the dense rows are being assigned (see `unassignedRows`), if any. */
  get listQuantizer(): object | undefined {
    return this.#arena.listQuantizer;
  }

  /** Dense rows with their list, live or not. */
  get assignedRows(): number {
    return this.#arena.assignedRows;
  }

  /**
   * Up to `max` dense rows (slots and a copy of their vectors, in write order) that `quantizer`
   * has not put into its lists yet; undefined when none is left. Lists are not part of the
   * records: a frozen memtable takes them too. Another quantizer than before starts over.
   */
  unassignedRows(quantizer: object, max: number): { slots: Int32Array; vectors: Float32Array } | undefined {
    return this.#arena.unassigned(quantizer, max);
  }

  /** Whether `unassignedRows(quantizer, …)` would give rows (cheap: no copy). */
  hasUnassigned(quantizer: object): boolean {
    return this.#arena.hasUnassigned(quantizer);
  }

  /** Records the lists `quantizer` found for the rows `unassignedRows` gave. */
  assignLists(quantizer: object, slots: Int32Array, lists: Int32Array): void {
    this.#arena.assign(quantizer, slots, lists);
  }

  /**
   * The dense rows a query probing `probed` lists of `quantizer` must scan: per chunk, the live
   * rows of those lists and the live rows not assigned yet. Undefined unless the rows are being
   * assigned by `quantizer`.
   */
  listCandidates(quantizer: object, probed: Int32Array): { chunk: ArenaChunk; rows: Int32Array }[] | undefined {
    return this.#arena.candidates(quantizer, probed);
  }

  /** The list of `id`'s live dense row, or -1 (no such row, or not assigned yet). */
  listOf(id: string): number {
    const slot = this.#entries.get(id)?.slot;
    return slot === undefined ? -1 : this.#arena.listAt(slot);
  }

  // One lookup of the id per write: the entry it replaces carries its arena row.
  put(lsn: number, id: string, values: Float32Array, metadata: Metadata | undefined, sparse?: SparseF32): void {
    this.#checkWritable(lsn);
    const previous = this.#entries.get(id);
    const { slot, view } = this.#arena.append(id, values);
    this.#set(lsn, id, sparse ? { lsn, values: view, sparse, metadata, slot } : { lsn, values: view, metadata, slot }, previous);
  }

  delete(lsn: number, id: string): void {
    this.#checkWritable(lsn);
    this.#set(lsn, id, { lsn, values: null, metadata: undefined }, this.#entries.get(id));
  }

  deleteAll(lsn: number): void {
    this.#checkWritable(lsn);
    this.#beforeClear = { lsn, entries: this.#entries, older: this.#beforeClear };
    this.#entries = new Map();
    this.#arena.killAll();
    this.#bytes = 0;
    this.#clearedAtLsn = lsn;
    this.#touch(lsn);
  }

  /** Records that `lsn` was applied without changing any record (e.g. an update of a missing id). */
  noop(lsn: number): void {
    this.#checkWritable(lsn);
    this.#touch(lsn);
  }

  /**
   * Records the newest version of `id`, replacing `previous` (put and delete have checked the LSN
   * and frozen state); the replaced version's row is no longer live.
   */
  #set(lsn: number, id: string, entry: MemEntry, previous: MemEntry | undefined): void {
    if (previous) {
      if (previous.slot !== undefined) this.#arena.kill(previous.slot);
      this.#bytes -= entryBytes(id, previous);
      this.#replaced.set(entry, previous);
    }
    this.#entries.set(id, entry);
    this.#bytes += entryBytes(id, entry);
    // A replaced vector keeps its arena row until the flush: it still counts.
    if (previous?.values) this.#bytes += previous.values.byteLength;
    this.#touch(lsn);
  }

  #checkWritable(lsn: number): void {
    if (this.#frozen) throw new Error('memtable is frozen');
    if (lsn < this.#maxLsn) throw new Error(`memtable applies LSNs in order: got ${lsn} after ${this.#maxLsn}`);
  }

  #touch(lsn: number): void {
    if (this.#minLsn === 0) this.#minLsn = lsn;
    this.#maxLsn = lsn;
  }
}

function entryBytes(id: string, entry: MemEntry): number {
  const md = entry.metadata ? JSON.stringify(entry.metadata).length : 0;
  const sparse = entry.sparse ? entry.sparse.indices.byteLength + entry.sparse.values.byteLength : 0;
  return ENTRY_OVERHEAD_BYTES + id.length * 2 + (entry.values ? entry.values.byteLength : 0) + sparse + md * 2;
}
