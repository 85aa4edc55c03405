import type { Metadata, SparseF32 } from '@conifer/core';
import { compareStoredIds, yieldToEventLoop, type RowTexts, type SlabReader, type SlabRow, type SlabRowSource } from '@conifer/slab';

/** Rows merged between two yields to the event loop. */
const YIELD_EVERY = 4096;

/**
 * Bytes a merged row costs beside its vector and texts: its input slab and row, two text starts,
 * and, for an index build that keeps lists, its input row's list and its own (compaction-job.ts).
 */
export const MERGED_ROW_BYTES = 1 + 4 + 4 + 4 + 4 + 4;

/**
 * The merge of slabs as a row source for the slab builder: for each output row, which input slab
 * and row it comes from, and nothing else. Ids, metadata and vectors stay in the inputs until the
 * builder copies them (ids and metadata byte for byte, as stored), so a merge of a million rows
 * holds a few megabytes beside its inputs rather than an object, a decoded id and a parsed
 * metadata object per row.
 */
export class MergedRows implements SlabRowSource {
  readonly count: number;
  readonly ids: RowTexts;
  readonly metadataTexts: RowTexts;
  readonly #readers: readonly SlabReader[];
  readonly #slab: Uint8Array;
  readonly #row: Uint32Array;

  constructor(readers: readonly SlabReader[], slab: Uint8Array, row: Uint32Array) {
    this.#readers = readers;
    this.#slab = slab;
    this.#row = row;
    this.count = row.length;
    const idSections = readers.map((reader) => reader.idBytes());
    this.ids = this.#texts((reader, row) => {
      const { bytes, offsets } = idSections[reader]!;
      return bytes.subarray(offsets[row]!, offsets[row + 1]!);
    });
    this.metadataTexts = this.#texts((reader, row) => readers[reader]!.metadataBytes(row));
  }

  /** The input slab (its index among the merged readers) output row `row` comes from. */
  inputOf(row: number): number {
    return this.#slab[row]!;
  }

  /** The row of its input slab output row `row` is. */
  inputRowOf(row: number): number {
    return this.#row[row]!;
  }

  lsn(row: number): number {
    return this.#readers[this.#slab[row]!]!.lsns[this.#row[row]!]!;
  }

  vector(row: number): Float32Array | null {
    return this.#readers[this.#slab[row]!]!.vectorView(this.#row[row]!);
  }

  sparse(row: number): SparseF32 | undefined {
    return this.#readers[this.#slab[row]!]!.sparse(this.#row[row]!);
  }

  metadata(row: number): Metadata | undefined {
    return this.#readers[this.#slab[row]!]!.parseMetadata(this.#row[row]!);
  }

  /** The id of output row `row` (decoded: for tests and diagnostics, not the build). */
  id(row: number): string {
    return this.#readers[this.#slab[row]!]!.ids.at(this.#row[row]!)!;
  }

  /** Output row `row` as an object (tests and diagnostics). */
  row(row: number): SlabRow {
    return this.#readers[this.#slab[row]!]!.row(this.#row[row]!);
  }

  /** The output rows' texts as `bytesOf` finds them in the inputs, laid end to end. */
  #texts(bytesOf: (reader: number, row: number) => Uint8Array): RowTexts {
    const starts = new Uint32Array(this.count);
    let length = 0;
    for (let i = 0; i < this.count; i++) {
      starts[i] = length;
      length += bytesOf(this.#slab[i]!, this.#row[i]!).length;
    }
    return {
      length,
      starts,
      writeTo: (out, at) => {
        for (let i = 0; i < this.count; i++) out.set(bytesOf(this.#slab[i]!, this.#row[i]!), at + starts[i]!);
      },
    };
  }
}

/**
 * Merges slabs (oldest first) into one row set in ascending id order: a k-way merge of the slabs'
 * sorted ids, compared as stored bytes (ids are ASCII, so byte order is the string order slabs are
 * sorted in), where for an id present in several slabs the newest slab's version wins. Tombstones
 * are kept unless `dropTombstones`, because they may still hide versions in older slabs. Yields to
 * the event loop every few thousand rows so queries keep being served while a large compaction
 * runs inline.
 */
export async function mergeSlabs(readers: readonly SlabReader[], dropTombstones: boolean): Promise<MergedRows> {
  if (readers.length > 255) throw new RangeError(`a merge takes at most 255 slabs, not ${readers.length}`);
  const sections = readers.map((reader) => reader.idBytes());
  const counts = readers.map((reader) => reader.count);
  const at = readers.map(() => 0);
  const total = counts.reduce((a, b) => a + b, 0);
  const slab = new Uint8Array(total);
  const rows = new Uint32Array(total);
  let out = 0;
  // Compares the ids at the heads of readers a and b.
  const compare = (a: number, b: number): number => {
    const { bytes: x, offsets: xo } = sections[a]!;
    const { bytes: y, offsets: yo } = sections[b]!;
    return compareStoredIds(x, xo[at[a]!]!, xo[at[a]! + 1]!, y, yo[at[b]!]!, yo[at[b]! + 1]!);
  };
  for (let step = 1; ; step++) {
    let min = -1;
    for (let r = 0; r < readers.length; r++) {
      if (at[r]! < counts[r]! && (min < 0 || compare(r, min) < 0)) min = r;
    }
    if (min < 0) break;
    // Readers are oldest first: the last one holding the smallest id is the newest. Every reader
    // holding it moves past it; `min` last, since the others are compared with its head.
    let winner = min;
    for (let r = min + 1; r < readers.length; r++) {
      if (at[r]! < counts[r]! && compare(r, min) === 0) {
        winner = r;
        at[r]!++;
      }
    }
    const row = at[min]!++;
    const winnerRow = winner === min ? row : at[winner]! - 1;
    if (!(dropTombstones && readers[winner]!.isTombstone(winnerRow))) {
      slab[out] = winner;
      rows[out++] = winnerRow;
    }
    if (step % YIELD_EVERY === 0) await yieldToEventLoop();
  }
  return new MergedRows(readers, slab.slice(0, out), rows.slice(0, out));
}
