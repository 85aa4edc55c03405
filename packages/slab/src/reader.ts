import type { Metadata, Metric, SparseF32 } from '@conifer/core';
import { FaissIndex, scanCodes, type IvfLayout, type Sq8Params } from '@conifer/faiss';
import { MetadataIndex } from './metadata-index.ts';
import { buildPostings, view as viewPostings, type Postings } from './postings.ts';
import { decodeMetadataIndex } from './metadata-index-codec.ts';
import { align, checksum, FLAG_TOMBSTONE, SLAB_MAGIC, SlabCorruptionError, type SlabHeader, type SlabRow } from './format.ts';
import type { PageCache } from './page-cache.ts';
import { SlabBody, type RangeSource } from './slab-body.ts';
import { scanMetricOf, withoutPadding } from './exact-scan.ts';
import { copyInSlices, inSlices, toShared } from './shared-bytes.ts';
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

/** Bytes a ranged open reads first: the header, and the whole of a small slab. */
const FIRST_READ = 64 * 1024;

/** Body sections a ranged reader reads whole on first use (see SlabReader.load). */
export type LazySection = 'lsns' | 'metadata' | 'mdIndex';

/**
 * Ids of a slab, as reads use them: `at(row)` and `length`. A slab loaded whole decodes them all
 * (a string[]); a slab opened by range decodes each on first use (LazyIds), since decoding a
 * million ids would cost most of a cold open.
 */
export interface IdList {
  readonly length: number;
  at(row: number): string | undefined;
}

/** Ids decoded on demand from the id section (ASCII, as the API requires; UTF-8 decoded all the same). */
class LazyIds implements IdList {
  readonly length: number;
  readonly #bytes: Buffer;
  readonly #offsets: Uint32Array;
  /**
   * Decoded ids: by row in a map while few are (a query decodes a few dozen per slab), then in an
   * array of a slot per row once many are (a compaction or a listing decodes them all). A slot per
   * row up front cost a million-slot array per slab at every open.
   */
  #few: Map<number, string> | undefined = new Map();
  #many: (string | undefined)[] | undefined;

  constructor(bytes: Uint8Array, offsets: Uint32Array) {
    this.length = offsets.length - 1;
    this.#bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#offsets = offsets;
  }

  at(row: number): string | undefined {
    if (row < 0 || row >= this.length) return undefined;
    let id = this.#many ? this.#many[row] : this.#few!.get(row);
    if (id === undefined) {
      id = this.#bytes.toString('utf8', this.#offsets[row], this.#offsets[row + 1]);
      if (this.#many) {
        this.#many[row] = id;
        this.#decoded++;
      } else {
        this.#few!.set(row, id);
        if (this.#few!.size > Math.max(FEW_IDS, this.length / 16)) this.#spill();
      }
    }
    return id;
  }

  /** Memory the memo holds: a map entry or a slot per row, and a short string per decoded id (estimated). */
  get memoryBytes(): number {
    return this.#many ? 8 * this.length + 40 * this.#decoded : 80 * this.#few!.size;
  }

  #decoded = 0;

  #spill(): void {
    const many = new Array<string | undefined>(this.length);
    for (const [row, id] of this.#few!) many[row] = id;
    this.#decoded = this.#few!.size;
    this.#many = many;
    this.#few = undefined;
  }
}

/** Decoded ids a slab keeps in a map before it takes a slot per row. */
const FEW_IDS = 4096;

/**
 * The vectors of some positions of a slab: `data` holds them, candidate i at row `at[i]` of `data`
 * (rows of `dimension` floats), and `rowOf(at[i])` is the slab row it belongs to. A slab held
 * whole hands out its own vectors without copying; a ranged one packs what it read.
 */
export interface GatheredVectors {
  data: Float32Array;
  at: Int32Array;
  rowOf(index: number): number;
}

/** Parses and checks the header (magic, version, length); the checksum is checked by the caller. */
function parseHeader(id: string, bytes: Uint8Array, whole = true): SlabHeader {
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
  if (header.version !== 1 && header.version !== 2) throw new SlabCorruptionError(`slab ${id}: unsupported format version ${header.version}`);
  if (whole && header.sections.end + 4 !== bytes.length) throw new SlabCorruptionError(`slab ${id}: length ${bytes.length} does not match its header`);
  return header;
}

function storedChecksum(bytes: Uint8Array, header: SlabHeader): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(header.sections.end, true);
}

/**
 * Read access to one slab: held whole in memory ({@link SlabReader.load}, the constructor), or by
 * range ({@link SlabReader.open}, format version 2): then only the head is in memory (ids, LSNs,
 * flags, metadata, sparse values, the IVF layout, the metadata index) and vectors are read from the
 * object store in checksummed pages, through the process's page cache, when a query needs them.
 * Views over the bytes are typed arrays (no copies); metadata is parsed lazily per row and memoized.
 */
export class SlabReader {
  readonly id: string;
  readonly header: SlabHeader;
  /** The whole file (loaded whole), or its head (opened by range). */
  readonly bytes: Uint8Array;
  readonly flags: Uint8Array;
  readonly ids: IdList;
  /** Vectors in position order, while they are in memory (see residentVectors). */
  #vectors: Float32Array | undefined;
  /** The SQ8 codes' quantizer, when the slab stores codes (header.codes). */
  readonly #sq8: Sq8Params | undefined;
  /** The codes in position order, while they are in memory (see promoteCodes). */
  #codes: Uint8Array | undefined;
  #codesPromoting: Promise<void> | undefined;
  #promoting: Promise<void> | undefined;
  #promotionStopped = false;
  /** Holders of this reader's bytes beside its own (see hold). */
  #holds = 0;
  /** The file as this process built it, kept while its vectors are in memory: what a compaction reads. */
  #built: Uint8Array | undefined;
  readonly #body: SlabBody | undefined;
  /** Body sections of a ranged reader read on first use (`load`), as [file offset, bytes]. */
  readonly #loaded = new Map<LazySection, { at: number; bytes: Uint8Array }>();
  readonly #loading = new Map<LazySection, Promise<void>>();
  #lsns: Float64Array | undefined;
  #mdOffsets: Uint32Array | undefined;
  readonly #spOffsets: Uint32Array | undefined;
  readonly #spIndices: Uint32Array;
  readonly #spValues: Float32Array;
  /** Version 2 ANN slabs: position → row (the ivf section's listRows). */
  readonly #listRows: Int32Array | undefined;
  #positions: Uint32Array | undefined;
  #metadataIndex: MetadataIndex | undefined;
  #metadataIndexBuild: Promise<MetadataIndex> | undefined;
  #annLoading: Promise<void> | undefined;
  #ivf: IvfLayout | undefined;
  #postings: Postings | undefined;
  /** Parsed metadata by row, allocated on first use (a million-row slab's array is megabytes). */
  #metadata: (Metadata | undefined | null)[] | undefined;

  /**
   * Checks and opens a slab held whole, synchronously (tests, small slabs). Large slabs go through
   * {@link SlabReader.load}, which does the same work without holding the event loop, or
   * {@link SlabReader.open}. `prepared` is their result: the checksum was verified and the ids
   * decoded already, or the reader reads its body by range.
   */
  constructor(
    id: string,
    input: Uint8Array,
    prepared?: { ids?: IdList; body?: SlabBody; header?: SlabHeader; vectors?: Float32Array | undefined; sections?: Map<LazySection, Uint8Array> },
  ) {
    this.id = id;
    const bytes = alignedBytes(input);
    const ranged = prepared?.body !== undefined;
    const header = prepared?.header ?? parseHeader(id, bytes, !ranged);
    if (!prepared && checksum(bytes.subarray(0, header.sections.end)) !== storedChecksum(bytes, header)) {
      throw new SlabCorruptionError(`slab ${id}: checksum mismatch`);
    }
    this.bytes = bytes;
    this.header = header;
    this.#body = prepared?.body;
    const { sections, count, dimension } = header;
    const base = bytes.byteOffset;
    this.flags = new Uint8Array(bytes.buffer, base + sections.flags, count);
    this.#vectors = ranged ? prepared?.vectors : new Float32Array(bytes.buffer, base + sections.vectors, count * dimension);
    this.#sq8 =
      header.codes && sections.codes !== undefined ? { min: Float32Array.from(header.codes.min), step: Float32Array.from(header.codes.step) } : undefined;
    if (prepared?.ids) {
      this.ids = prepared.ids;
    } else {
      const idOffsets = new Uint32Array(bytes.buffer, base + sections.ids, count + 1);
      const ids = new Array<string>(count);
      for (let i = 0; i < count; i++) ids[i] = decoder.decode(bytes.subarray(idOffsets[i], idOffsets[i + 1]));
      this.ids = ids;
    }
    if (!ranged) {
      this.#lsns = new Float64Array(bytes.buffer, base + sections.lsns, count);
      this.#mdOffsets = new Uint32Array(bytes.buffer, base + sections.metadata, count + 1);
    }
    for (const [name, section] of prepared?.sections ?? []) this.#install(name, section);
    const total = header.sparseEntries;
    // Version 2 stores no sparse section when no row has a sparse vector.
    if (header.version >= 2 && total === 0) {
      this.#spOffsets = undefined;
      this.#spIndices = new Uint32Array(0);
      this.#spValues = new Float32Array(0);
    } else {
      this.#spOffsets = new Uint32Array(bytes.buffer, base + sections.sparse, count + 1);
      this.#spIndices = new Uint32Array(bytes.buffer, base + sections.sparse + 4 * (count + 1), total);
      this.#spValues = new Float32Array(bytes.buffer, base + sections.sparse + 4 * (count + 1) + 4 * total, total);
    }
    if (header.version >= 2 && header.ann && sections.ivf !== undefined) {
      const nlist = header.ann.nlist!;
      const at = base + sections.ivf;
      this.#ivf = {
        centroids: new Float32Array(bytes.buffer, at, nlist * dimension),
        offsets: new Int32Array(bytes.buffer, at + 4 * nlist * dimension, nlist + 1),
        rows: new Int32Array(bytes.buffer, at + 4 * nlist * dimension + 4 * (nlist + 1), count),
      };
      this.#listRows = this.#ivf.rows;
    }
  }

  /**
   * Opens a slab held whole like the constructor, in slices that yield to the event loop: a
   * million-row slab takes hundreds of milliseconds to checksum and to decode its ids.
   * `verify: false` skips the checksum, for bytes this process has just built itself. `lazyIds`
   * decodes ids on demand instead (a compaction compares them as bytes and decodes none).
   * `inPlace` reads the input where it is, unless misaligned, rather than copying it into shared
   * memory: for a reader only this thread uses, of bytes the caller hands over (a compaction
   * worker's inputs — a copy would hold each of them twice for the whole merge).
   */
  static async load(id: string, input: Uint8Array, options: { verify: boolean; lazyIds?: boolean; inPlace?: boolean } = { verify: true }): Promise<SlabReader> {
    const header = parseHeader(id, input); // DataView and subarray: any alignment, no copy
    // Copied into shared memory (for compaction workers) and checksummed in the same slices.
    let crc = 0;
    let checked = 0;
    const check = (slice: Uint8Array): void => {
      if (!options.verify || checked >= header.sections.end) return;
      crc = checksum(slice.subarray(0, Math.min(slice.length, header.sections.end - checked)), crc);
      checked += slice.length;
    };
    const bytes = options.inPlace && input.byteOffset % 8 === 0 ? await inSlices(input, check) : await toShared(input, check);
    if (options.verify && crc !== storedChecksum(bytes, header)) throw new SlabCorruptionError(`slab ${id}: checksum mismatch`);
    const { count, sections } = header;
    const idOffsets = new Uint32Array(bytes.buffer, bytes.byteOffset + sections.ids, count + 1);
    if (options.lazyIds) return new SlabReader(id, bytes, { ids: new LazyIds(bytes, idOffsets), header });
    const ids = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      ids[i] = decoder.decode(bytes.subarray(idOffsets[i], idOffsets[i + 1]));
      if (i % DECODE_SLICE === DECODE_SLICE - 1) await yieldToEventLoop();
    }
    return new SlabReader(id, bytes, { ids, header });
  }

  /**
   * Opens a slab by range: reads its head (one read for a small slab, two for a large one), checks
   * it against its checksum, and leaves the vectors in the store, read by range as queries need
   * them through `cache` (keyed by `cacheKey`, unique per slab in the process). A version 1 slab
   * has no head: it is read and loaded whole.
   */
  static async open(
    id: string,
    source: RangeSource,
    options: { cache: PageCache; cacheKey: string; size?: number | undefined; head?: number | undefined },
  ): Promise<SlabReader> {
    // Known sizes (the manifest records them) save a round trip: a small slab is read whole at
    // once, a large one's head in one round of parallel reads.
    const known = options.size !== undefined && options.size <= options.cache.wholeUpTo ? options.size : options.head;
    const first = known !== undefined ? await readMore(id, source, new Uint8Array(0), known) : await source(0, FIRST_READ);
    if (!first) throw new SlabCorruptionError(`slab ${id}: the object is missing`);
    let head = first;
    const headerLength = first.length >= SLAB_MAGIC.length + 4 ? new DataView(first.buffer, first.byteOffset).getUint32(SLAB_MAGIC.length, true) : 0;
    if (SLAB_MAGIC.length + 4 + headerLength > first.length && first.length === FIRST_READ)
      head = await readMore(id, source, first, SLAB_MAGIC.length + 4 + headerLength);
    const header = parseHeader(id, head, false);
    if (header.version < 2 || header.sections.head === undefined || header.sections.end + 4 <= options.cache.wholeUpTo) {
      const whole =
        header.sections.end + 4 <= head.length ? head.subarray(0, header.sections.end + 4) : await readMore(id, source, head, header.sections.end + 4);
      return SlabReader.load(id, whole);
    }
    return SlabReader.#fromHead(id, await readMore(id, source, head, header.sections.head + 4), header, source, options);
  }

  /**
   * A ranged reader over a slab this process has just built and stored (`whole` is its bytes):
   * the head is copied out and the rest left to the store, so a large flush or compaction output
   * does not stay in memory. Version 1 and small slabs stay whole.
   */
  static async fromBuilt(id: string, whole: Uint8Array, source: RangeSource, options: { cache: PageCache; cacheKey: string }): Promise<SlabReader> {
    const header = parseHeader(id, whole);
    if (header.version < 2 || header.sections.head === undefined || whole.length <= options.cache.wholeUpTo)
      return SlabReader.load(id, whole, { verify: false });
    const vectors = new Float32Array(whole.buffer, whole.byteOffset + header.sections.vectors, header.count * header.dimension);
    // The sections read on first use are in hand: copied, so that shedding the vectors frees the file's buffer.
    const s = header.sections;
    const loaded = new Map<LazySection, Uint8Array>([
      ['lsns', whole.slice(s.lsns, s.metadata)],
      ['metadata', whole.slice(s.metadata, s.mdIndex ?? s.end)],
    ]);
    if (s.mdIndex !== undefined) loaded.set('mdIndex', whole.slice(s.mdIndex, s.end));
    const reader = await SlabReader.#fromHead(id, whole.slice(0, header.sections.head + 4), header, source, options, false, vectors, loaded);
    reader.#built = whole;
    return reader;
  }

  static async #fromHead(
    id: string,
    head: Uint8Array,
    header: SlabHeader,
    source: RangeSource,
    options: { cache: PageCache; cacheKey: string },
    verify = true,
    vectors?: Float32Array,
    loaded?: Map<LazySection, Uint8Array>,
  ): Promise<SlabReader> {
    const at = header.sections.head!;
    const bytes = alignedBytes(head.subarray(0, at + 4));
    if (verify) {
      let crc = 0;
      for (let from = 0; from < at; from += CHECK_SLICE) {
        crc = checksum(bytes.subarray(from, Math.min(at, from + CHECK_SLICE)), crc);
        if (from + CHECK_SLICE < at) await yieldToEventLoop();
      }
      if (crc !== new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true)) throw new SlabCorruptionError(`slab ${id}: head checksum mismatch`);
    }
    const { sections } = header;
    const crcs = new Uint32Array(bytes.buffer, bytes.byteOffset + sections.pageCrcs!, (at - sections.pageCrcs!) / 4);
    const body = new SlabBody({
      id,
      source,
      cache: options.cache,
      cacheKey: options.cacheKey,
      start: sections.vectors,
      end: sections.end,
      pageSize: header.pageSize!,
      crcs,
    });
    const idOffsets = new Uint32Array(bytes.buffer, bytes.byteOffset + sections.ids, header.count + 1);
    return new SlabReader(id, bytes, { ids: new LazyIds(bytes, idOffsets), body, header, vectors, ...(loaded ? { sections: loaded } : {}) });
  }

  /**
   * Vectors in position order (row order, or list order for version 2 ANN slabs; see
   * {@link SlabReader.rowAt}) while they are in memory: always for a slab loaded whole; for one
   * opened by range, from {@link SlabReader.promote} until {@link SlabReader.shed}.
   */
  get residentVectors(): Float32Array | undefined {
    return this.#vectors;
  }

  /** Each row's LSN (a ranged reader loads them on first use: `load('lsns')`). */
  get lsns(): Float64Array {
    if (!this.#lsns) throw new Error(`slab ${this.id}: its LSNs are not loaded (await load('lsns') first)`);
    return this.#lsns;
  }

  /** Whether a section a ranged reader reads on first use is in memory (always, for a slab held whole). */
  loaded(section: LazySection): boolean {
    return !this.#body || this.#loaded.has(section) || (section === 'mdIndex' && !this.storesMetadataIndex);
  }

  /**
   * Reads body sections a ranged reader holds only once needed — LSNs, metadata, the stored
   * metadata index — whole, every page checked. Nothing to do for a slab held whole.
   */
  async load(...sections: LazySection[]): Promise<void> {
    await Promise.all(
      sections.map((name) => {
        if (this.loaded(name)) return undefined;
        let loading = this.#loading.get(name);
        if (!loading) {
          const [start, end] = this.#sectionRange(name);
          loading = this.#body!.readRange(start, end)
            .then((bytes) => this.#install(name, bytes))
            .finally(() => this.#loading.delete(name));
          this.#loading.set(name, loading);
        }
        return loading;
      }),
    );
  }

  /** File range of a lazily read section: the body's sections follow each other in a fixed order. */
  #sectionRange(name: LazySection): [number, number] {
    const s = this.header.sections;
    if (name === 'lsns') return [s.lsns, s.metadata];
    if (name === 'metadata') return [s.metadata, s.mdIndex ?? s.end];
    return [s.mdIndex!, s.end];
  }

  #install(name: LazySection, bytes: Uint8Array): void {
    const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
    const [at] = this.#sectionRange(name);
    this.#loaded.set(name, { at, bytes: aligned });
    const count = this.count;
    if (name === 'lsns') this.#lsns = new Float64Array(aligned.buffer, aligned.byteOffset, count);
    if (name === 'metadata') this.#mdOffsets = new Uint32Array(aligned.buffer, aligned.byteOffset, count + 1);
  }

  /** Whether the vectors are in memory rather than read by range. */
  get resident(): boolean {
    return this.#vectors !== undefined;
  }

  /** Whether wholeBytes() returns bytes this reader holds already (a slab held whole, or as built here) rather than a new copy. */
  get holdsWholeFile(): boolean {
    return !this.#body || this.#built !== undefined;
  }

  /** Whether the vectors can leave memory and be read by range again (a slab opened by range). */
  get sheddable(): boolean {
    return this.#body !== undefined;
  }

  /** Bytes of the vectors (what promote adds to memory and shed frees). */
  get vectorBytes(): number {
    return 4 * this.count * this.dimension;
  }

  /**
   * Reads the vectors of a slab opened by range into memory (verified page by page), so queries
   * scan them in place. For a memory budget that has room; shed() undoes it.
   */
  promote(): Promise<void> {
    if (this.#vectors || !this.#body || this.#promotionStopped) return Promise.resolve();
    this.#promoting ??= this.#promotionRead(this.#body, this.header.sections.vectors, this.vectorBytes)
      .then((vectors) => {
        this.#vectors = new Float32Array(vectors.buffer, vectors.byteOffset, this.count * this.dimension);
      })
      .finally(() => (this.#promoting = undefined));
    return this.#promoting;
  }

  /**
   * A promotion's read of `length` bytes of the body from file offset `start`, every page checked,
   * in the process's promotion lane; stopped when the reader stops promoting. From a bucket, 8
   * streams (each is slow); from local disk 2 leave the I/O threads to queries.
   */
  #promotionRead(body: SlabBody, start: number, length: number): Promise<Uint8Array> {
    return inPromotionLane(() => body.readRange(start, start + length, body.nearby ? 2 : 8, () => this.#promotionStopped));
  }

  /** The promotion under way, or a resolved promise (its failure leaves the reader ranged). */
  promotion(): Promise<void> {
    return this.#promoting?.catch(() => undefined) ?? Promise.resolve();
  }

  /**
   * Keeps the vectors in memory until the returned release is called: another thread holds the
   * same bytes (a compaction reading this slab as built), so shedding them would free nothing
   * while the memory budget counted them freed.
   */
  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
    };
  }

  /** Ends a promotion under way and refuses new ones: the reader is no longer in use (its namespace closed). */
  stopPromotion(): void {
    this.#promotionStopped = true;
  }

  /**
   * Drops the in-memory vectors of a slab opened by range (queries then read them by range);
   * returns the bytes freed. Reads under way keep what they already hold. Nothing while held
   * (`hold`).
   */
  shed(): number {
    if (!this.#vectors || !this.#body || this.#holds > 0) return 0;
    this.#vectors = undefined;
    this.#built = undefined;
    return this.vectorBytes;
  }

  /** Whether the slab stores SQ8 codes of its vectors (ANN slabs written since they were added). */
  get hasCodes(): boolean {
    return this.#sq8 !== undefined;
  }

  /** Bytes of the codes (what promoteCodes adds to memory), 0 without codes. */
  get codeBytes(): number {
    return this.#sq8 ? this.count * this.dimension : 0;
  }

  /**
   * Whether a read by range costs about a local disk's read, rather than a bucket's round trip:
   * then a query may read codes and then vectors, two rounds, where it would otherwise read
   * vectors once.
   */
  get readsNearby(): boolean {
    return this.#body?.nearby ?? true;
  }

  /** Whether the codes of a slab opened by range are in memory. */
  get codesResident(): boolean {
    return this.#codes !== undefined;
  }

  /**
   * Reads the codes of a slab opened by range into memory (verified page by page), so queries of
   * it while its vectors are not in memory scan them in place. For a memory budget with room for
   * them but not for the vectors; shedCodes() undoes it.
   */
  promoteCodes(): Promise<void> {
    if (this.#codes || !this.#sq8 || !this.#body || this.#promotionStopped) return Promise.resolve();
    this.#codesPromoting ??= this.#promotionRead(this.#body, this.header.sections.codes!, this.codeBytes)
      .then((codes) => {
        this.#codes = codes;
      })
      .finally(() => (this.#codesPromoting = undefined));
    return this.#codesPromoting;
  }

  /** The codes' promotion under way, or a resolved promise (its failure leaves them read by range). */
  codesPromotion(): Promise<void> {
    return this.#codesPromoting?.catch(() => undefined) ?? Promise.resolve();
  }

  /** Drops the in-memory codes (queries then read them by range); returns the bytes freed. */
  shedCodes(): number {
    if (!this.#codes) return 0;
    this.#codes = undefined;
    return this.codeBytes;
  }

  /** The codes in memory (for the memory a shed lets go of), or undefined. */
  get residentCodes(): Uint8Array | undefined {
    return this.#codes;
  }

  /**
   * The `k` positions among `positions` whose vectors' codes score best for `query`, best first,
   * with their scores (the metric's: squared distance for euclidean) — approximate: the codes'
   * decoded vectors are scored, not the vectors. The codes are scanned
   * in place when in memory, else the ranges holding them are read (consecutive positions in one
   * read) through the page cache. Only for a slab with codes (hasCodes).
   */
  async topByCodes(positions: Int32Array, query: Float32Array, k: number, metric: Metric): Promise<{ positions: Int32Array; scores: Float32Array }> {
    const params = this.#sq8;
    if (!params) throw new Error(`slab ${this.id} stores no codes`);
    const d = this.dimension;
    const want = Math.min(k, positions.length);
    if (want === 0) return { positions: new Int32Array(0), scores: new Float32Array(0) };
    const at = this.header.sections.codes!;
    const resident = this.#codes ?? (this.#body ? undefined : this.bytes.subarray(at, at + this.codeBytes));
    if (resident) {
      const { labels, distances } = withoutPadding(scanCodes(resident, d, query, want, scanMetricOf(metric), params, positions));
      return { positions: labels, scores: distances };
    }
    const packed = new Uint8Array(positions.length * d);
    await this.#readRuns(positions, at, d, packed);
    const { labels, distances } = withoutPadding(scanCodes(packed, d, query, want, scanMetricOf(metric), params));
    for (let i = 0; i < labels.length; i++) labels[i] = positions[labels[i]!]!;
    return { positions: labels, scores: distances };
  }

  /**
   * The rows of `rowBytes` bytes at `positions` of the body section starting at file offset `at`,
   * packed in order into `into`: consecutive positions (IVF lists) are read as one range, straight
   * from the cached pages.
   */
  async #readRuns(positions: Int32Array, at: number, rowBytes: number, into: Uint8Array): Promise<void> {
    const reads: Promise<void>[] = [];
    for (let i = 0; i < positions.length;) {
      let j = i + 1;
      while (j < positions.length && positions[j] === positions[j - 1]! + 1) j++;
      const first = positions[i]!;
      reads.push(this.#body!.readInto(at + first * rowBytes, at + (first + j - i) * rowBytes, into.subarray(i * rowBytes, j * rowBytes)));
      i = j;
    }
    await Promise.all(reads);
  }

  /**
   * Version 1 slabs: reads the IVF layout of the slab's faiss index on the libuv pool (a compacted
   * million-row slab's index is hundreds of megabytes: reading it on the event loop would hold
   * every request). The engine calls this before a slab serves queries. Version 2 slabs store the
   * layout itself: nothing to do.
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

  /**
   * An IVF slab's centroids and inverted lists, or undefined. The entries of `rows` are slab rows;
   * for version 2 slabs list entry a is also position a of the vectors (lists are contiguous).
   */
  ivfLayout(): IvfLayout | undefined {
    if (!this.#ivf && !this.#annLoading && this.header.version === 1 && this.header.ann?.factory.startsWith('IVF')) {
      // Not loaded ahead (a reader used outside the engine): read it now, synchronously.
      const index = FaissIndex.deserialize(this.annBytes()!);
      this.#ivf = index.ivfLayout();
      index.dispose();
    }
    return this.#ivf;
  }

  /** Version 1: the serialized faiss index inside the slab (a view), or undefined. */
  annBytes(): Uint8Array | undefined {
    const info = this.header.ann;
    const at = this.header.sections.ann;
    return info && this.header.version === 1 && at !== undefined ? this.bytes.subarray(at, at + info.bytes) : undefined;
  }

  /**
   * The trained faiss index a later build may reuse: version 2's donor section (empty of vectors;
   * read by range when the slab is), version 1's whole index. Undefined for a flat slab.
   */
  async donorBytes(): Promise<Uint8Array | undefined> {
    const info = this.header.ann;
    if (!info) return undefined;
    if (this.header.version === 1) return this.annBytes();
    const at = this.header.sections.donor!;
    return this.#body ? this.#body.read(at, at + info.bytes) : this.bytes.subarray(at, at + info.bytes);
  }

  /**
   * The whole file (what a compaction reads): the bytes of a slab held whole, or as this process
   * built it while its vectors are in memory (shared memory, `copy` false); else a new copy of the
   * head this reader holds and the body — in memory when promoted, otherwise read in parallel
   * ranges, every page checked.
   */
  async wholeBytes(): Promise<{ bytes: Uint8Array; copy: boolean }> {
    if (!this.#body) return { bytes: this.bytes, copy: false };
    if (this.#built) return { bytes: this.#built, copy: false };
    return { bytes: await this.#copyWhole(this.#body), copy: true };
  }

  async #copyWhole(body: SlabBody): Promise<Uint8Array> {
    const { sections } = this.header;
    // Unshared: the copy's one user (a compaction) may transfer it to a worker and free it there.
    const out = new Uint8Array(new ArrayBuffer(sections.end + 4));
    await copyInSlices(out, this.bytes.subarray(0, sections.head! + 4), 0);
    const vectors = this.#vectors;
    if (vectors) {
      // The vectors from memory, the rest of the body (donor, LSNs, metadata…) from the store.
      await copyInSlices(out, new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength), sections.vectors);
      const rest = sections.vectors + align(vectors.byteLength, 8);
      if (rest < sections.end) await body.readRange(rest, sections.end, 8, undefined, out.subarray(rest, sections.end));
    } else {
      // Read in place: not a second copy of the body.
      await body.readAll(8, undefined, out.subarray(sections.vectors, sections.end));
    }
    // Every byte was checked (the head as a whole, the body page by page): the file's own final
    // checksum is copied rather than computed again over the whole file on the event loop.
    out.set(await body.readTrailer(), sections.end);
    return out;
  }

  /** Where vectors lie in the body: row order, or list order for version 2 ANN slabs. */
  get vectorOrder(): 'rows' | 'lists' {
    return this.#listRows ? 'lists' : 'rows';
  }

  /** The row whose vector is at `position`. */
  rowAt(position: number): number {
    return this.#listRows ? this.#listRows[position]! : position;
  }

  /** The position of `row`'s vector. */
  positionOf(row: number): number {
    return this.#listRows ? this.positions()[row]! : row;
  }

  /** Row → position of its vector (list order; for row order, the identity), built on first use. */
  positions(): Uint32Array {
    if (!this.#positions) {
      const positions = new Uint32Array(this.count);
      if (this.#listRows) for (let p = 0; p < this.count; p++) positions[this.#listRows[p]!] = p;
      else for (let row = 0; row < this.count; row++) positions[row] = row;
      this.#positions = positions;
    }
    return this.#positions;
  }

  /**
   * The vectors at `positions`. Held whole: the slab's own vectors, `at` = positions. By range:
   * the pages holding them are read (cached ones are not), and the vectors packed in order.
   */
  async gather(positions: Int32Array): Promise<GatheredVectors> {
    const resident = this.#vectors;
    if (resident) return { data: resident, at: positions, rowOf: (p) => this.rowAt(p) };
    const d = this.dimension;
    const data = new Float32Array(positions.length * d);
    const at = new Int32Array(positions.length);
    await this.#readRuns(positions, this.header.sections.vectors, 4 * d, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    for (let k = 0; k < at.length; k++) at[k] = k;
    return { data, at, rowOf: (k) => this.rowAt(positions[k]!) };
  }

  /** A copy of the row's vector (read by range when the slab is), or null for a tombstone. */
  async valuesAsync(row: number): Promise<Float32Array | null> {
    if (this.isTombstone(row)) return null;
    if (this.#vectors) return this.values(row);
    const { data } = await this.gather(Int32Array.of(this.positionOf(row)));
    return data;
  }

  /**
   * Columnar metadata, built on first use (the first filtered read of this slab). Synchronous:
   * for the write path, which resolves filters inside one log apply. Reads use
   * {@link SlabReader.metadataIndexAsync}.
   */
  metadataIndex(): MetadataIndex {
    this.#metadataIndex ??= this.#storedMetadataIndex() ?? new MetadataIndex(this.count, (row) => this.parseMetadata(row));
    return this.#metadataIndex;
  }

  /**
   * The columnar metadata: the slab's stored index when it has one (opened in place, at once),
   * else built in slices that yield to the event loop.
   */
  async metadataIndexAsync(): Promise<MetadataIndex> {
    await this.load(this.storesMetadataIndex ? 'mdIndex' : 'metadata');
    this.#metadataIndex ??= this.#storedMetadataIndex();
    if (this.#metadataIndex) return this.#metadataIndex;
    this.#metadataIndexBuild ??= MetadataIndex.build(this.count, (row) => this.parseMetadata(row)).then((index) => {
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
    const length = this.header.metadataIndex!.bytes;
    if (this.#body) {
      const section = this.#loaded.get('mdIndex');
      if (!section) throw new Error(`slab ${this.id}: its metadata index is not loaded (await load('mdIndex') first)`);
      return decodeMetadataIndex(section.bytes.subarray(0, length), this.count, this.id);
    }
    return decodeMetadataIndex(this.bytes.subarray(at, at + length), this.count, this.id);
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
    if (!this.#spOffsets) return undefined;
    const start = this.#spOffsets[row]!;
    const end = this.#spOffsets[row + 1]!;
    if (end === start) return undefined;
    return { indices: this.#spIndices.subarray(start, end), values: this.#spValues.subarray(start, end) };
  }

  /**
   * Memory this reader holds, roughly: the slab's bytes (whole, or the head), its decoded ids (a JS
   * string and an array slot each, estimated), the metadata memo, and what loading added beside
   * the bytes (a version 1 IVF layout, postings built for a slab stored without them, what filters
   * built beside its metadata index). Body pages
   * of a ranged reader are the page cache's, counted there. What a memory budget counts.
   */
  get memoryBytes(): number {
    const ivf = this.#ivf && this.header.version === 1 ? this.#ivf.centroids.byteLength + this.#ivf.offsets.byteLength + this.#ivf.rows.byteLength : 0;
    const builtPostings = this.#postings && this.header.postings === undefined ? postingsBytes(this.#postings) : 0;
    const ids = this.ids instanceof LazyIds ? this.ids.memoryBytes : this.count * ROW_OVERHEAD_BYTES;
    // Vectors being promoted count already: the budget reserved them when it started the read.
    const promoted = this.#built ? this.#built.byteLength : this.#body && (this.#vectors || this.#promoting) ? this.vectorBytes : 0;
    let sections = 0;
    for (const { bytes } of this.#loaded.values()) sections += bytes.byteLength;
    const codes = this.#body && (this.#codes || this.#codesPromoting) ? this.codeBytes : 0;
    const derived = this.#metadataIndex?.derivedBytes ?? 0;
    return this.bytes.byteLength + promoted + codes + sections + ids + ivf + builtPostings + derived + (this.#positions?.byteLength ?? 0);
  }

  /** Bytes of the slab file. */
  get fileBytes(): number {
    return this.header.sections.end + 4;
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
    this.#metadata ??= new Array<Metadata | undefined | null>(this.count).fill(null);
    const cached = this.#metadata[row];
    if (cached !== null) return cached;
    const parsed = this.parseMetadata(row);
    this.#metadata[row] = parsed;
    return parsed;
  }

  /**
   * Parses a row's metadata without memoizing it (building a columnar index, or a compaction's, reads
   * every row once).
   */
  parseMetadata(row: number): Metadata | undefined {
    const bytes = this.metadataBytes(row);
    return bytes.length === 0 ? undefined : (JSON.parse(decoder.decode(bytes)) as Metadata);
  }

  /** The row's metadata JSON as stored (a view; empty for none), for copying into another slab. */
  metadataBytes(row: number): Uint8Array {
    const offsets = this.#mdOffsets;
    if (!offsets) throw new Error(`slab ${this.id}: its metadata is not loaded (await load('metadata') first)`);
    const start = offsets[row]!;
    const end = Math.max(start, offsets[row + 1]!);
    const section = this.#loaded.get('metadata');
    return section ? section.bytes.subarray(start - section.at, end - section.at) : this.bytes.subarray(start, end);
  }

  #resident(): Float32Array {
    if (!this.#vectors) throw new Error(`slab ${this.id} is read by range: read its vectors with gather() or valuesAsync()`);
    return this.#vectors;
  }

  /** A view of the row's vector inside the slab (no copy), or null for a tombstone. Slabs held whole only. */
  vectorView(row: number): Float32Array | null {
    if (this.isTombstone(row)) return null;
    const d = this.dimension;
    const at = this.positionOf(row);
    return this.#resident().subarray(at * d, (at + 1) * d);
  }

  /** A copy of the row's vector, or null for a tombstone. Slabs held whole only. */
  values(row: number): Float32Array | null {
    return this.vectorView(row)?.slice() ?? null;
  }

  /**
   * The id section as stored: id `row` is bytes[offsets[row], offsets[row + 1]) (UTF-8, sorted).
   * For comparisons without decoding.
   */
  idBytes(): { bytes: Uint8Array; offsets: Uint32Array } {
    const { sections, count } = this.header;
    return { bytes: this.bytes, offsets: new Uint32Array(this.bytes.buffer, this.bytes.byteOffset + sections.ids, count + 1) };
  }

  /** Row index of `id`, or -1. */
  find(id: string): number {
    const row = this.lowerBound(id);
    return row < this.count && this.ids.at(row) === id ? row : -1;
  }

  /** First row whose id is >= `id` (count when none). */
  lowerBound(id: string): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids.at(mid)! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The row as stored (slabs held whole only: compaction reads them so). */
  row(row: number): SlabRow {
    const sparse = this.sparse(row);
    return { id: this.ids.at(row)!, lsn: this.lsns[row]!, values: this.values(row), ...(sparse ? { sparse } : {}), metadata: this.metadata(row) };
  }
}

/** The promotions of this process, chained: each starts when the one before it has ended. */
let promotions: Promise<unknown> = Promise.resolve();

/**
 * Runs `read` (a promotion's reads) after every promotion queued before it. Promotions of a
 * process read one slab at a time: a query's ranged reads then wait behind one slab's streams, not
 * behind every open slab's (a namespace of a dozen slabs whose codes all fit would otherwise start
 * a hundred reads at once). Reserved in the memory budget from the call on.
 */
function inPromotionLane<T>(read: () => Promise<T>): Promise<T> {
  const run = promotions.then(read, read);
  promotions = run.catch(() => undefined);
  return run;
}

/** Bytes checksummed between yields when a head is checked. */
const CHECK_SLICE = 4 * 1024 * 1024;

/** Bytes per ranged read of a head, several at once (a bucket serves each stream at about 100 MB/s). */
const HEAD_CHUNK = 4 * 1024 * 1024;

/**
 * `have` (the file's first bytes) extended to the first `length` bytes of the file, the rest read in
 * parallel ranges: in place where the store can (local disk), into one buffer that is not zeroed
 * first since every byte of it is read; otherwise each range is fetched and copied in.
 */
async function readMore(id: string, source: RangeSource, have: Uint8Array, length: number): Promise<Uint8Array> {
  if (have.length >= length) return have.subarray(0, length);
  const out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
  out.set(have, 0);
  const reads: Promise<void>[] = [];
  const short = (got: number, start: number, end: number) => new SlabCorruptionError(`slab ${id}: read ${got} of the ${end - start} bytes at ${start}`);
  const into = source.into;
  for (let start = have.length; start < length; start += HEAD_CHUNK) {
    const end = Math.min(length, start + HEAD_CHUNK);
    reads.push(
      into
        ? into(start, [out.subarray(start, end)]).then((got) => {
            if (got !== end - start) throw short(got ?? 0, start, end);
          })
        : source(start, end).then((part) => {
            if (!part || part.length !== end - start) throw short(part?.length ?? 0, start, end);
            out.set(part, start);
          }),
    );
  }
  await Promise.all(reads);
  return out;
}
