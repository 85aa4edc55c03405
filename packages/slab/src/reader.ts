import type { Metadata, SparseF32 } from '@conifer/core';
import { FaissIndex, type IvfLayout } from '@conifer/faiss';
import { MetadataIndex } from './metadata-index.ts';
import { buildPostings, view as viewPostings, type Postings } from './postings.ts';
import { decodeMetadataIndex } from './metadata-index-codec.ts';
import { checksum, FLAG_TOMBSTONE, SLAB_FORMAT_VERSION, SLAB_MAGIC, SlabCorruptionError, type SlabHeader, type SlabRow } from './format.ts';
import { toShared } from './shared-bytes.ts';
import { yieldToEventLoop } from './yield.ts';

const decoder = new TextDecoder();
/** Ids decoded between yields (a few tenths of a millisecond). */
const DECODE_SLICE = 2048;
/** A decoded id (a short JS string and its array slot) and its metadata memo slot, estimated. */
const ROW_OVERHEAD_BYTES = 48;

function postingsBytes(p: Postings): number {
  return [p.terms, p.termStart, p.blockStart, p.termMax, p.termMin, p.rows, p.values, p.blockLast, p.blockMax, p.blockMin].reduce(
    (n, a) => n + a.byteLength,
    0,
  );
}

/** Typed-array views need their section offsets aligned in memory; copy when the buffer is not. */
function alignedBytes(input: Uint8Array): Uint8Array {
  return input.byteOffset % 8 === 0 ? input : input.slice();
}

/** Parses and checks the header (magic, version, length); the checksum is checked by the caller. */
function parseHeader(id: string, bytes: Uint8Array): SlabHeader {
  if (bytes.length < SLAB_MAGIC.length + 8 || !SLAB_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new SlabCorruptionError(`slab ${id}: bad magic`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(SLAB_MAGIC.length, true);
  let header: SlabHeader;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(SLAB_MAGIC.length + 4, SLAB_MAGIC.length + 4 + headerLength))) as SlabHeader;
  } catch (cause) {
    throw new SlabCorruptionError(`slab ${id}: unreadable header`, { cause });
  }
  if (header.version !== SLAB_FORMAT_VERSION) throw new SlabCorruptionError(`slab ${id}: unsupported format version ${header.version}`);
  if (header.sections.end + 4 !== bytes.length) throw new SlabCorruptionError(`slab ${id}: length ${bytes.length} does not match its header`);
  return header;
}

function storedChecksum(bytes: Uint8Array, header: SlabHeader): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(header.sections.end, true);
}

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
  #metadataIndexBuild: Promise<MetadataIndex> | undefined;
  #ann: FaissIndex | undefined;
  #annLoading: Promise<void> | undefined;
  #ivf: IvfLayout | undefined;
  #postings: Postings | undefined;
  readonly #metadata: (Metadata | undefined | null)[];

  /**
   * Checks and opens a slab synchronously (tests, small slabs). Large slabs go through
   * {@link SlabReader.load}, which does the same work without holding the event loop.
   * `prepared` is load()'s result: the checksum was verified and the ids decoded already.
   */
  constructor(id: string, input: Uint8Array, prepared?: { ids: string[] }) {
    this.id = id;
    const bytes = alignedBytes(input);
    const header = parseHeader(id, bytes);
    if (!prepared && checksum(bytes.subarray(0, header.sections.end)) !== storedChecksum(bytes, header)) {
      throw new SlabCorruptionError(`slab ${id}: checksum mismatch`);
    }
    this.bytes = bytes;
    this.header = header;
    const { sections, count, dimension } = header;
    const base = bytes.byteOffset;
    this.lsns = new Float64Array(bytes.buffer, base + sections.lsns, count);
    this.flags = new Uint8Array(bytes.buffer, base + sections.flags, count);
    this.vectors = new Float32Array(bytes.buffer, base + sections.vectors, count * dimension);
    if (prepared) {
      this.ids = prepared.ids;
    } else {
      const idOffsets = new Uint32Array(bytes.buffer, base + sections.ids, count + 1);
      this.ids = new Array<string>(count);
      for (let i = 0; i < count; i++) this.ids[i] = decoder.decode(bytes.subarray(idOffsets[i], idOffsets[i + 1]));
    }
    this.#mdOffsets = new Uint32Array(bytes.buffer, base + sections.metadata, count + 1);
    this.#metadata = new Array(count).fill(null);
    const total = header.sparseEntries;
    this.#spOffsets = new Uint32Array(bytes.buffer, base + sections.sparse, count + 1);
    this.#spIndices = new Uint32Array(bytes.buffer, base + sections.sparse + 4 * (count + 1), total);
    this.#spValues = new Float32Array(bytes.buffer, base + sections.sparse + 4 * (count + 1) + 4 * total, total);
  }

  /**
   * Opens a slab like the constructor, in slices that yield to the event loop: a million-row slab
   * takes hundreds of milliseconds to checksum and to decode its ids. `verify: false` skips the
   * checksum, for bytes this process has just built itself.
   */
  static async load(id: string, input: Uint8Array, options: { verify: boolean } = { verify: true }): Promise<SlabReader> {
    const header = parseHeader(id, input); // DataView and subarray: any alignment, no copy
    // Copied into shared memory (for compaction workers) and checksummed in the same slices.
    let crc = 0;
    let checked = 0;
    const bytes = await toShared(input, (slice) => {
      if (!options.verify || checked >= header.sections.end) return;
      crc = checksum(slice.subarray(0, Math.min(slice.length, header.sections.end - checked)), crc);
      checked += slice.length;
    });
    if (options.verify && crc !== storedChecksum(bytes, header)) throw new SlabCorruptionError(`slab ${id}: checksum mismatch`);
    const { count, sections } = header;
    const idOffsets = new Uint32Array(bytes.buffer, bytes.byteOffset + sections.ids, count + 1);
    const ids = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      ids[i] = decoder.decode(bytes.subarray(idOffsets[i], idOffsets[i + 1]));
      if (i % DECODE_SLICE === DECODE_SLICE - 1) await yieldToEventLoop();
    }
    return new SlabReader(id, bytes, { ids });
  }

  /**
   * Reads the IVF layout of the slab's ANN index on the libuv pool (a compacted million-row slab's
   * index is hundreds of megabytes: reading it on the event loop would hold every request). The
   * engine calls this before a slab serves queries; ivfLayout() then finds it loaded.
   */
  async loadAnn(): Promise<void> {
    const bytes = this.annBytes();
    if (!bytes || this.#ivf) return;
    this.#annLoading ??= FaissIndex.deserializeAsync(bytes).then((index) => {
      // Queries run the IVF search themselves (SIMD scans of this slab's own vectors), so only
      // the centroids and the list membership are kept; faiss's copy of the vectors is freed.
      try {
        if (index.kind === 'ivf') this.#ivf ??= index.ivfLayout();
      } finally {
        index.dispose();
      }
    });
    await this.#annLoading;
  }

  /** An IVF slab's centroids and inverted lists (loaded by loadAnn), or undefined. */
  ivfLayout(): IvfLayout | undefined {
    if (!this.#ivf && !this.#annLoading && this.header.ann?.factory.startsWith('IVF')) {
      // Not loaded ahead (a reader used outside the engine): read it now, synchronously.
      const index = FaissIndex.deserialize(this.annBytes()!);
      this.#ivf = index.ivfLayout();
      index.dispose();
    }
    return this.#ivf;
  }

  /**
   * The slab's faiss index itself, deserialized on first call, or undefined for a flat slab. Queries
   * do not use it (they read ivfLayout()); it is for inspecting what the builder wrote.
   */
  ann(): FaissIndex | undefined {
    const info = this.header.ann;
    if (!info) return undefined;
    this.#ann ??= FaissIndex.deserialize(this.annBytes()!);
    return this.#ann;
  }

  /** The serialized ANN index inside the slab (a view), or undefined for a flat slab. */
  annBytes(): Uint8Array | undefined {
    const info = this.header.ann;
    return info ? this.bytes.subarray(this.header.sections.ann, this.header.sections.ann + info.bytes) : undefined;
  }

  /** Frees the native ANN index now rather than at garbage collection. */
  release(): void {
    this.#ann?.dispose();
    this.#ann = undefined;
  }

  /**
   * Columnar metadata, built on first use (the first filtered read of this slab). Synchronous:
   * for the write path, which resolves filters inside one log apply. Reads use
   * {@link SlabReader.metadataIndexAsync}.
   */
  metadataIndex(): MetadataIndex {
    this.#metadataIndex ??= this.#storedMetadataIndex() ?? new MetadataIndex(this.count, (row) => this.#parseMetadata(row));
    return this.#metadataIndex;
  }

  /**
   * The columnar metadata: the slab's stored index when it has one (opened in place, at once),
   * else built in slices that yield to the event loop.
   */
  async metadataIndexAsync(): Promise<MetadataIndex> {
    this.#metadataIndex ??= this.#storedMetadataIndex();
    if (this.#metadataIndex) return this.#metadataIndex;
    this.#metadataIndexBuild ??= MetadataIndex.build(this.count, (row) => this.#parseMetadata(row)).then((index) => {
      this.#metadataIndex ??= index;
      return this.#metadataIndex;
    });
    return this.#metadataIndexBuild;
  }

  /** Whether the slab stores its metadata index (compacted slabs), rather than building it on first use. */
  get storesMetadataIndex(): boolean {
    return this.header.metadataIndex !== undefined && this.header.sections.mdIndex !== undefined;
  }

  #storedMetadataIndex(): MetadataIndex | undefined {
    if (!this.storesMetadataIndex) return undefined;
    const at = this.header.sections.mdIndex!;
    return decodeMetadataIndex(this.bytes.subarray(at, at + this.header.metadataIndex!.bytes), this.count, this.id);
  }

  /**
   * The inverted index of the rows' sparse vectors: stored in sparse-only slabs (opened in place),
   * built in memory on first use for a slab written without it.
   */
  postings(): Postings {
    if (!this.#postings) {
      const info = this.header.postings;
      const at = this.header.sections.postings;
      this.#postings = info && at !== undefined ? viewPostings(this.bytes.subarray(at, at + info.bytes)) : buildPostings(this.count, (row) => this.sparse(row));
    }
    return this.#postings;
  }

  /** The row's sparse vector (views into the slab), or undefined when it has none. */
  sparse(row: number): SparseF32 | undefined {
    const start = this.#spOffsets[row]!;
    const end = this.#spOffsets[row + 1]!;
    if (end === start) return undefined;
    return { indices: this.#spIndices.subarray(start, end), values: this.#spValues.subarray(start, end) };
  }

  /**
   * Memory this reader holds, roughly: the slab's bytes, its decoded ids (a JS string and an array
   * slot each, estimated), the metadata memo, and what loading added beside the bytes (the IVF
   * layout, postings built for a slab stored without them). What a memory budget counts.
   */
  get memoryBytes(): number {
    const ivf = this.#ivf ? this.#ivf.centroids.byteLength + this.#ivf.offsets.byteLength + this.#ivf.rows.byteLength : 0;
    const builtPostings = this.#postings && this.header.postings === undefined ? postingsBytes(this.#postings) : 0;
    return this.bytes.byteLength + this.count * ROW_OVERHEAD_BYTES + ivf + builtPostings;
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
    const parsed = this.#parseMetadata(row);
    this.#metadata[row] = parsed;
    return parsed;
  }

  /** Parses a row's metadata without memoizing it (building the columnar index reads every row once). */
  #parseMetadata(row: number): Metadata | undefined {
    const start = this.#mdOffsets[row]!;
    const end = this.#mdOffsets[row + 1]!;
    return end > start ? (JSON.parse(decoder.decode(this.bytes.subarray(start, end))) as Metadata) : undefined;
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
