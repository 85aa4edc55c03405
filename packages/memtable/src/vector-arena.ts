/**
 * The dense vectors of one memtable, packed row after row into fixed-size chunks, with a bitmap
 * per chunk of the rows that are still the newest live version of their id. A query can then scan
 * a memtable the way it scans a slab — natively, over contiguous floats, skipping dead rows by
 * bitmap — instead of walking a Map of small arrays in JavaScript.
 *
 * Rows are never reused: an overwritten or deleted row just loses its bit. The memtable's byte
 * count includes every row ever appended, so rewriting one hot id still leads to a flush.
 */
export interface ArenaChunk {
  /** Rows 0..used-1 of this chunk, row-major (a view; later rows are not yet written). */
  readonly vectors: Float32Array;
  /** Id of each row. */
  readonly ids: readonly string[];
  /** Bit r (LSB first in byte r >> 3) set = row r is its id's newest, live version. */
  readonly live: Uint8Array;
  readonly liveCount: number;
}

/** Bytes of floats of the largest chunk: a few MiB, whatever the dimension (at least 64 rows). */
const CHUNK_BYTES = 4 * 1024 * 1024;
/**
 * Rows of the first chunk; each next chunk doubles up to the largest. A namespace holding ten
 * records must not pay for megabytes of memtable (many small tenants share a node), while a large
 * one still scans a few big contiguous chunks.
 */
const FIRST_CHUNK_ROWS = 16;

class Chunk {
  readonly rows: number;
  readonly data: Float32Array;
  readonly ids: string[] = [];
  readonly live: Uint8Array;
  used = 0;
  liveCount = 0;
  /** The inverted list of each row assigned one (see VectorArena.assign), -1 for the others. */
  lists: Int32Array | undefined;
  /** Rows 0..assigned-1 have their list. */
  assigned = 0;

  constructor(rows: number, dimension: number) {
    this.rows = rows;
    this.data = new Float32Array(rows * dimension);
    this.live = new Uint8Array((rows + 7) >>> 3);
  }
}

/**
 * A row's slot is `chunk index × largest chunk's rows + row`: opaque to callers, and found again
 * without a search whatever the chunk sizes.
 */
export class VectorArena {
  #dimension = 0;
  #rowsPerChunk = 0;
  readonly #chunks: Chunk[] = [];
  /** Who assigns the rows' lists (opaque here: the memtable only keeps what it is given). */
  #quantizer: object | undefined;
  /** The slots of each list's rows, in append order. */
  #byList = new Map<number, number[]>();
  #assignedRows = 0;

  /** Copies `values` into the next row; returns the row's slot and a view of the stored copy. */
  append(id: string, values: Float32Array): { slot: number; view: Float32Array } {
    if (this.#dimension === 0) {
      this.#dimension = values.length;
      this.#rowsPerChunk = Math.max(64, Math.floor(CHUNK_BYTES / (4 * Math.max(1, values.length))));
    }
    if (values.length !== this.#dimension) throw new Error(`memtable vectors have ${this.#dimension} dimensions, got ${values.length}`);
    let chunk = this.#chunks.at(-1);
    if (!chunk || chunk.used === chunk.rows) {
      const rows = Math.min(this.#rowsPerChunk, FIRST_CHUNK_ROWS * 2 ** this.#chunks.length);
      chunk = new Chunk(rows, this.#dimension);
      this.#chunks.push(chunk);
    }
    const row = chunk.used++;
    const view = chunk.data.subarray(row * this.#dimension, (row + 1) * this.#dimension);
    view.set(values);
    chunk.ids.push(id);
    chunk.live[row >>> 3]! |= 1 << (row & 7);
    chunk.liveCount++;
    return { slot: (this.#chunks.length - 1) * this.#rowsPerChunk + row, view };
  }

  /** Marks a row as no longer live (its id was overwritten or deleted). */
  kill(slot: number): void {
    const chunk = this.#chunks[Math.floor(slot / this.#rowsPerChunk)]!;
    const row = slot % this.#rowsPerChunk;
    const bit = 1 << (row & 7);
    if ((chunk.live[row >>> 3]! & bit) === 0) return;
    chunk.live[row >>> 3]! &= ~bit;
    chunk.liveCount--;
  }

  /** Marks every row dead (a deleteAll). */
  killAll(): void {
    for (const chunk of this.#chunks) {
      chunk.live.fill(0);
      chunk.liveCount = 0;
    }
  }

  get dimension(): number {
    return this.#dimension;
  }

  /** Bytes of vector storage appended so far (live or not). */
  get bytes(): number {
    return this.#chunks.reduce((n, c) => n + c.used * this.#dimension * 4, 0);
  }

  /** Bytes of vector storage allocated (appended rows and the room left in the newest chunk). */
  get allocatedBytes(): number {
    return this.#chunks.reduce((n, c) => n + c.data.byteLength + c.live.byteLength, 0);
  }

  /** The quantizer whose lists the rows are being assigned, if any. */
  get listQuantizer(): object | undefined {
    return this.#quantizer;
  }

  /** Rows that have their list (live or not). */
  get assignedRows(): number {
    return this.#assignedRows;
  }

  /** Whether `quantizer` has rows left to assign here (every row, for another quantizer than the current one). */
  hasUnassigned(quantizer: object): boolean {
    const rows = this.#chunks.reduce((n, c) => n + c.used, 0);
    return this.#quantizer === quantizer ? this.#assignedRows < rows : rows > 0;
  }

  /** Bytes the lists take: an int per row of a chunk that has lists, and the lists' slots. */
  get listBytes(): number {
    return this.#quantizer === undefined ? 0 : this.#chunks.reduce((n, c) => n + (c.lists?.byteLength ?? 0), 0) + this.#assignedRows * 8;
  }

  /**
   * Up to `max` of the rows `quantizer` has not assigned yet, in append order, with a copy of their
   * vectors; undefined when every row has its list. Taking another quantizer than the current one
   * starts over: rows keep lists of one quantizer only. One assignment at a time: the rows given
   * here are those `assign` takes next.
   */
  unassigned(quantizer: object, max: number): { slots: Int32Array; vectors: Float32Array } | undefined {
    if (this.#quantizer !== quantizer) this.#startLists(quantizer);
    const dim = this.#dimension;
    const takes = this.#chunks.map((chunk) => chunk.used - chunk.assigned);
    let left = max;
    for (let at = 0; at < takes.length; at++) left -= takes[at] = Math.min(takes[at]!, left);
    const total = max - left;
    if (total === 0) return undefined;
    const slots = new Int32Array(total);
    const vectors = new Float32Array(total * dim);
    let n = 0;
    this.#chunks.forEach((chunk, at) => {
      const take = takes[at]!;
      vectors.set(chunk.data.subarray(chunk.assigned * dim, (chunk.assigned + take) * dim), n * dim);
      for (let row = chunk.assigned; row < chunk.assigned + take; row++) slots[n++] = at * this.#rowsPerChunk + row;
    });
    return { slots, vectors };
  }

  /**
   * Records the lists `quantizer` found for rows `unassigned` gave (ignored if the arena has
   * started over with another quantizer since, or for rows not next in their chunk).
   */
  assign(quantizer: object, slots: Int32Array, lists: Int32Array): void {
    if (this.#quantizer !== quantizer) return;
    for (let i = 0; i < slots.length; i++) {
      const chunk = this.#chunks[Math.floor(slots[i]! / this.#rowsPerChunk)]!;
      const row = slots[i]! % this.#rowsPerChunk;
      if (row !== chunk.assigned || lists[i]! < 0) return;
      chunk.lists ??= new Int32Array(chunk.rows).fill(-1);
      chunk.lists[row] = lists[i]!;
      chunk.assigned++;
      this.#assignedRows++;
      const members = this.#byList.get(lists[i]!);
      if (members) members.push(slots[i]!);
      else this.#byList.set(lists[i]!, [slots[i]!]);
    }
  }

  /**
   * What a query of `quantizer`'s lists must scan here: per chunk, its live rows in the `probed`
   * lists and its live rows without a list yet. Undefined when the rows' lists are another
   * quantizer's (or none).
   */
  candidates(quantizer: object, probed: Int32Array): { chunk: ArenaChunk; rows: Int32Array }[] | undefined {
    if (this.#quantizer !== quantizer) return undefined;
    const byChunk: number[][] = this.#chunks.map(() => []);
    for (const list of probed) {
      for (const slot of this.#byList.get(list) ?? []) {
        const at = Math.floor(slot / this.#rowsPerChunk);
        const row = slot % this.#rowsPerChunk;
        if ((this.#chunks[at]!.live[row >>> 3]! & (1 << (row & 7))) !== 0) byChunk[at]!.push(row);
      }
    }
    const views = this.chunks();
    const out: { chunk: ArenaChunk; rows: Int32Array }[] = [];
    this.#chunks.forEach((chunk, at) => {
      const rows = byChunk[at]!;
      for (let row = chunk.assigned; row < chunk.used; row++) if ((chunk.live[row >>> 3]! & (1 << (row & 7))) !== 0) rows.push(row);
      if (rows.length > 0) out.push({ chunk: views[at]!, rows: Int32Array.from(rows) });
    });
    return out;
  }

  /** The list of the row at `slot`, or -1 when it has none yet. */
  listAt(slot: number): number {
    const chunk = this.#chunks[Math.floor(slot / this.#rowsPerChunk)];
    const row = slot % this.#rowsPerChunk;
    return chunk?.lists && row < chunk.assigned ? chunk.lists[row]! : -1;
  }

  #startLists(quantizer: object): void {
    this.#quantizer = quantizer;
    this.#byList = new Map();
    this.#assignedRows = 0;
    for (const chunk of this.#chunks) {
      chunk.lists = undefined;
      chunk.assigned = 0;
    }
  }

  chunks(): ArenaChunk[] {
    return this.#chunks.map((c) => ({ vectors: c.data.subarray(0, c.used * this.#dimension), ids: c.ids, live: c.live, liveCount: c.liveCount }));
  }
}
