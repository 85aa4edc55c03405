import type { Metadata, SparseF32 } from '@conifer/core';
import { FaissIndex } from '@conifer/faiss';
import { MetadataIndex } from './metadata-index.ts';
import { checksum, FLAG_TOMBSTONE, SLAB_FORMAT_VERSION, SLAB_MAGIC, SlabCorruptionError, type SlabHeader, type SlabRow } from './format.ts';

const decoder = new TextDecoder();

/**
 * Read access to one slab held in memory. Vectors, LSNs and flags are typed-array views over the
 * slab's bytes (no copies); ids are decoded once (they are needed for every lookup); metadata is
 * parsed lazily per row and memoized.
 */
export class SlabReader {
  readonly id: string;
  readonly header: SlabHeader;
  readonly bytes: Uint8Array;
  readonly lsns: Float64Array;
  readonly flags: Uint8Array;
  /** All vectors, row-major: row i at offset i * dimension. */
  readonly vectors: Float32Array;
  readonly ids: string[];
  readonly #mdOffsets: Uint32Array;
  readonly #spOffsets: Uint32Array;
  readonly #spIndices: Uint32Array;
  readonly #spValues: Float32Array;
  #metadataIndex: MetadataIndex | undefined;
  #ann: FaissIndex | undefined;
  readonly #metadata: (Metadata | undefined | null)[];

  constructor(id: string, input: Uint8Array) {
    this.id = id;
    // Typed-array views need their section offsets aligned in memory; copy when the buffer is not.
    const bytes = input.byteOffset % 8 === 0 ? input : input.slice();
    this.bytes = bytes;
    if (bytes.length < SLAB_MAGIC.length + 8 || !SLAB_MAGIC.every((b, i) => bytes[i] === b)) {
      throw new SlabCorruptionError(`slab ${id}: bad magic`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLength = view.getUint32(SLAB_MAGIC.length, true);
    const header = JSON.parse(decoder.decode(bytes.subarray(SLAB_MAGIC.length + 4, SLAB_MAGIC.length + 4 + headerLength))) as SlabHeader;
    if (header.version !== SLAB_FORMAT_VERSION) throw new SlabCorruptionError(`slab ${id}: unsupported format version ${header.version}`);
    const { sections, count, dimension } = header;
    if (sections.end + 4 !== bytes.length) throw new SlabCorruptionError(`slab ${id}: length ${bytes.length} does not match its header`);
    if (view.getUint32(sections.end, true) !== checksum(bytes.subarray(0, sections.end))) {
      throw new SlabCorruptionError(`slab ${id}: checksum mismatch`);
    }
    this.header = header;
    const base = bytes.byteOffset;
    this.lsns = new Float64Array(bytes.buffer, base + sections.lsns, count);
    this.flags = new Uint8Array(bytes.buffer, base + sections.flags, count);
    this.vectors = new Float32Array(bytes.buffer, base + sections.vectors, count * dimension);
    const idOffsets = new Uint32Array(bytes.buffer, base + sections.ids, count + 1);
    this.ids = new Array<string>(count);
    for (let i = 0; i < count; i++) this.ids[i] = decoder.decode(bytes.subarray(idOffsets[i], idOffsets[i + 1]));
    this.#mdOffsets = new Uint32Array(bytes.buffer, base + sections.metadata, count + 1);
    this.#metadata = new Array(count).fill(null);
    const total = header.sparseEntries;
    this.#spOffsets = new Uint32Array(bytes.buffer, base + sections.sparse, count + 1);
    this.#spIndices = new Uint32Array(bytes.buffer, base + sections.sparse + 4 * (count + 1), total);
    this.#spValues = new Float32Array(bytes.buffer, base + sections.sparse + 4 * (count + 1) + 4 * total, total);
  }

  /** The slab's ANN index (loaded into native memory on first use), or undefined for a flat slab. */
  ann(): FaissIndex | undefined {
    const info = this.header.ann;
    if (!info) return undefined;
    this.#ann ??= FaissIndex.deserialize(this.bytes.subarray(this.header.sections.ann, this.header.sections.ann + info.bytes));
    return this.#ann;
  }

  /** Frees the native ANN index now rather than at garbage collection. */
  release(): void {
    this.#ann?.dispose();
    this.#ann = undefined;
  }

  /** Columnar metadata, built on first use (the first filtered read of this slab). */
  metadataIndex(): MetadataIndex {
    this.#metadataIndex ??= new MetadataIndex(this.count, (row) => this.metadata(row));
    return this.#metadataIndex;
  }

  /** The row's sparse vector (views into the slab), or undefined when it has none. */
  sparse(row: number): SparseF32 | undefined {
    const start = this.#spOffsets[row]!;
    const end = this.#spOffsets[row + 1]!;
    if (end === start) return undefined;
    return { indices: this.#spIndices.subarray(start, end), values: this.#spValues.subarray(start, end) };
  }

  get count(): number {
    return this.header.count;
  }
  get dimension(): number {
    return this.header.dimension;
  }
  get level(): number {
    return this.header.level;
  }

  isTombstone(row: number): boolean {
    return (this.flags[row]! & FLAG_TOMBSTONE) !== 0;
  }

  metadata(row: number): Metadata | undefined {
    const cached = this.#metadata[row];
    if (cached !== null) return cached;
    const start = this.#mdOffsets[row]!;
    const end = this.#mdOffsets[row + 1]!;
    const parsed = end > start ? (JSON.parse(decoder.decode(this.bytes.subarray(start, end))) as Metadata) : undefined;
    this.#metadata[row] = parsed;
    return parsed;
  }

  /** A view of the row's vector inside the slab (no copy), or null for a tombstone. */
  vectorView(row: number): Float32Array | null {
    if (this.isTombstone(row)) return null;
    const d = this.dimension;
    return this.vectors.subarray(row * d, (row + 1) * d);
  }

  /** A copy of the row's vector, or null for a tombstone. */
  values(row: number): Float32Array | null {
    if (this.isTombstone(row)) return null;
    const d = this.dimension;
    return this.vectors.slice(row * d, (row + 1) * d);
  }

  /** Row index of `id`, or -1. */
  find(id: string): number {
    let lo = 0;
    let hi = this.ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.ids[mid]!;
      if (at === id) return mid;
      if (at < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** First row whose id is >= `id` (ids.length when none). */
  lowerBound(id: string): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  row(row: number): SlabRow {
    const sparse = this.sparse(row);
    return { id: this.ids[row]!, lsn: this.lsns[row]!, values: this.values(row), ...(sparse ? { sparse } : {}), metadata: this.metadata(row) };
  }
}
