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

  chunks(): ArenaChunk[] {
    return this.#chunks.map((c) => ({ vectors: c.data.subarray(0, c.used * this.#dimension), ids: c.ids, live: c.live, liveCount: c.liveCount }));
  }
}
