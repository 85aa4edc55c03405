import { utf8Length, type Metadata, type SparseF32 } from '@conifer/core';
import type { AnnHeader } from './ann.ts';
import { MetadataIndex } from './metadata-index.ts';
import { BLOCK_SIZE, encodePostings, planPostings } from './postings.ts';
import { encodeMetadataIndex } from './metadata-index-codec.ts';
import { sharedArray } from './shared-bytes.ts';
import { yieldToEventLoop } from './yield.ts';
import { encodeSq8, Sq8Trainer, type IvfLayout, type Sq8Params } from '@conifer/faiss';
import { align, checksum, FLAG_TOMBSTONE, SLAB_FORMAT_VERSION, SLAB_MAGIC, SLAB_PAGE_SIZE, type SlabHeader, type SlabRow } from './format.ts';

/**
 * Rows in slab order (ascending id). An ANN index built over a slab's rows must use this order.
 * Already sorted input (a compaction's merge output) is returned as is, without sorting again.
 */
export function sortRows(rows: readonly SlabRow[]): SlabRow[] {
  let sorted = true;
  for (let i = 1; i < rows.length && sorted; i++) sorted = rows[i - 1]!.id < rows[i]!.id;
  return sorted ? (rows as SlabRow[]) : [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const encoder = new TextEncoder();
const ENCODE_CHUNK_CHARS = 1 << 22;
const YIELD_EVERY = 4096;

/**
 * The UTF-8 bytes of `texts` end to end, and where each one starts. One encode per few megabytes
 * of joined text rather than one per row: a flush of 10,000 rows otherwise allocates 20,000 small
 * arrays on the event loop. Ids are ASCII (the API requires it) and metadata JSON mostly is, and
 * then a text's start is its character offset; otherwise each text's own length is measured.
 */
export function encodeAll(texts: readonly string[], chunkChars = ENCODE_CHUNK_CHARS): { chunks: Uint8Array[]; length: number; starts: Uint32Array } {
  const starts = new Uint32Array(texts.length);
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (let first = 0; first < texts.length;) {
    // Chunks bound the joined string (a million rows of large metadata would pass V8's limit).
    let end = first;
    let chars = 0;
    while (end < texts.length && (end === first || chars + texts[end]!.length <= chunkChars)) chars += texts[end++]!.length;
    const joined = end - first === 1 ? texts[first]! : texts.slice(first, end).join('');
    const bytes = encoder.encode(joined);
    const ascii = bytes.length === joined.length;
    for (let i = first; i < end; i++) {
      starts[i] = length;
      length += ascii ? texts[i]!.length : utf8Length(texts[i]!);
    }
    chunks.push(bytes);
    first = end;
  }
  return { chunks, length, starts };
}

/**
 * A slab's ANN index as the builder stores it: the calibration, the IVF layout over the slab's rows
 * in id order (every row in exactly one list), and the trained empty faiss index a later build may
 * reuse (its `donor`).
 */
export interface SlabAnn {
  header: AnnHeader;
  layout: IvfLayout;
  donor: Uint8Array;
}

/**
 * One text per row, end to end as a slab stores them (ids, metadata JSON): what the builder lays
 * out and copies. `starts[row]` is where a row's bytes begin, relative to the first.
 */
export interface RowTexts {
  /** Bytes of all rows' texts. */
  readonly length: number;
  readonly starts: Uint32Array;
  /** Writes every row's bytes, end to end, into `out` from `at`. */
  writeTo(out: Uint8Array, at: number): void;
}

/**
 * Rows in slab order (ascending id, unique) as the builder reads them, one at a time: a
 * compaction hands the builder its merged inputs this way, ids and metadata copied as stored,
 * rather than as an object per row (see @conifer/index-builder's merge).
 */
export interface SlabRowSource {
  readonly count: number;
  readonly ids: RowTexts;
  /** Metadata JSON per row; empty for none (an empty object is stored as none). */
  readonly metadataTexts: RowTexts;
  lsn(row: number): number;
  /** The row's vector (read, not kept), or null for a tombstone. */
  vector(row: number): Float32Array | null;
  sparse(row: number): SparseF32 | undefined;
  /** The row's metadata as its stored text parses (undefined for an empty text); not kept. */
  metadata(row: number): Metadata | undefined;
}

/** Encoded texts (see encodeAll) as RowTexts. */
function encodedTexts(encoded: { chunks: Uint8Array[]; length: number; starts: Uint32Array }): RowTexts {
  return {
    length: encoded.length,
    starts: encoded.starts,
    writeTo(out, at) {
      let to = at;
      for (const chunk of encoded.chunks) {
        out.set(chunk, to);
        to += chunk.length;
      }
    },
  };
}

/** Rows (any order) as a source: sorted, checked unique, ids and metadata encoded. */
async function rowSource(rows: readonly SlabRow[]): Promise<SlabRowSource> {
  const sorted = sortRows(rows);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.id === sorted[i - 1]!.id) throw new Error(`duplicate id in slab: ${sorted[i]!.id}`);
  }
  const count = sorted.length;
  const idTexts: string[] = new Array(count);
  const mdTexts: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const r = sorted[i]!;
    idTexts[i] = r.id;
    mdTexts[i] = r.metadata && Object.keys(r.metadata).length > 0 ? JSON.stringify(r.metadata) : '';
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
  }
  return {
    count,
    ids: encodedTexts(encodeAll(idTexts)),
    metadataTexts: encodedTexts(encodeAll(mdTexts)),
    lsn: (row) => sorted[row]!.lsn,
    vector: (row) => sorted[row]!.values,
    sparse: (row) => sorted[row]!.sparse,
    // Over the rows as the slab stores them: an empty metadata object is stored (and read) as none.
    metadata: (row) => (mdTexts[row] === '' ? undefined : sorted[row]!.metadata),
  };
}

/** How to build a slab: see {@link buildSlab}. */
export interface SlabBuildOptions {
  dimension: number;
  level: number;
  ann?: SlabAnn | undefined;
  metadataIndex?: boolean;
  /** False: the slab's buffer does not ask for huge pages (see sharedArray). */
  hugePages?: boolean;
}

/**
 * Serializes rows into a slab (format version 2, see format.ts). Rows may come in any order; ids
 * must be unique (the caller keeps only the newest version of each id). Returns the bytes and the
 * header that describes them. With `metadataIndex`, the slab also stores its columnar metadata
 * index (compaction outputs, built in a worker thread; flushes leave it to the first filtered
 * read).
 */
export async function buildSlab(rows: readonly SlabRow[], options: SlabBuildOptions): Promise<{ bytes: Uint8Array; header: SlabHeader }> {
  return buildSlabFrom(await rowSource(rows), options);
}

/** {@link buildSlab} over rows in slab order, read one at a time from `source`. */
export async function buildSlabFrom(source: SlabRowSource, options: SlabBuildOptions): Promise<{ bytes: Uint8Array; header: SlabHeader }> {
  const { dimension, level, ann } = options;
  const count = source.count;
  const idBytes = source.ids;
  const mdBytes = source.metadataTexts;
  const nlist = ann ? ann.layout.offsets.length - 1 : 0;
  if (ann && (ann.layout.rows.length !== count || ann.layout.centroids.length !== nlist * dimension)) {
    throw new Error(`ANN layout covers ${ann.layout.rows.length} rows and ${ann.layout.centroids.length / dimension} centroids, slab has ${count} rows`);
  }
  let sparseEntries = 0;
  let minLsn = Number.MAX_SAFE_INTEGER;
  let maxLsn = 0;
  let tombstones = 0;
  // An ANN slab also stores its vectors' SQ8 codes, for queries of it while its vectors are not in
  // memory: the quantizer is trained in this pass over the rows.
  const trainer = ann && dimension > 0 ? new Sq8Trainer(dimension) : undefined;
  for (let row = 0; row < count; row++) {
    const lsn = source.lsn(row);
    minLsn = Math.min(minLsn, lsn);
    maxLsn = Math.max(maxLsn, lsn);
    sparseEntries += source.sparse(row)?.indices.length ?? 0;
    const values = source.vector(row);
    if (values === null) tombstones++;
    else if (values.length !== dimension) throw new Error(`row ${row} of the slab has ${values.length} dimensions, slab has ${dimension}`);
    else trainer?.add(values);
  }
  if (count === 0) minLsn = 0;
  const mdIndex = options.metadataIndex ? encodeMetadataIndex(await MetadataIndex.build(count, (row) => source.metadata(row))) : undefined;

  const sq8: Sq8Params | undefined = trainer?.params();

  // A sparse-only slab (no dense part) carries the inverted index its queries read.
  const postings = dimension === 0 ? planPostings(count, (row) => source.sparse(row)) : undefined;

  // Two passes over the layout: the header's length depends on the offsets it records.
  const layout = (headerLength: number) => {
    // The head: what opening a slab reads.
    const flags = align(SLAB_MAGIC.length + 4 + headerLength, 8);
    const ids = align(flags + count, 4);
    const idData = ids + 4 * (count + 1);
    const sparse = align(idData + idBytes.length, 4);
    // Sparse vectors take no room in a slab without any.
    let end = align(sparse + (sparseEntries > 0 ? 4 * (count + 1) + 8 * sparseEntries : 0), 8);
    const optional: { ivf?: number; mdIndex?: number; postings?: number; donor?: number; codes?: number } = {};
    if (ann) {
      optional.ivf = end;
      end = align(end + 4 * nlist * dimension + 4 * (nlist + 1) + 4 * count, 8);
    }
    if (postings) {
      optional.postings = align(end, 8);
      end = align(optional.postings + postings.bytes, 4);
    }
    const pageCrcs = align(end, 4);
    // The body, whose length is known before its offset: vectors, the donor, then the sections
    // a reader loads on first use (LSNs, metadata, the metadata index).
    const vectorBytes = 4 * count * dimension;
    const donorBytes = ann?.donor.length ?? 0;
    let bodyLength = align(vectorBytes, 8) + align(donorBytes, 8);
    const codesAt = bodyLength;
    if (sq8) bodyLength += align(count * dimension, 8);
    const lsnsAt = bodyLength;
    bodyLength += 8 * count;
    const metadataAt = bodyLength;
    bodyLength = align(bodyLength + 4 * (count + 1) + mdBytes.length, 8);
    const mdIndexAt = bodyLength;
    if (mdIndex) bodyLength = align(bodyLength + mdIndex.length, 4);
    const head = pageCrcs + 4 * Math.ceil(bodyLength / SLAB_PAGE_SIZE);
    const vectors = align(head + 4, 64);
    if (ann) optional.donor = vectors + align(vectorBytes, 8);
    if (sq8) optional.codes = vectors + codesAt;
    if (mdIndex) optional.mdIndex = vectors + mdIndexAt;
    return { lsns: vectors + lsnsAt, flags, vectors, ids, metadata: vectors + metadataAt, sparse, ...optional, pageCrcs, head, end: vectors + bodyLength };
  };
  const makeHeader = (sections: SlabHeader['sections']): SlabHeader => ({
    version: SLAB_FORMAT_VERSION,
    dimension,
    count,
    tombstones,
    sparseEntries,
    ...(ann ? { ann: { ...ann.header, bytes: ann.donor.length, nlist } } : {}),
    ...(mdIndex ? { metadataIndex: { bytes: mdIndex.length } } : {}),
    ...(sq8 ? { codes: { kind: 'sq8' as const, min: [...sq8.min], step: [...sq8.step] } } : {}),
    ...(postings ? { postings: { bytes: postings.bytes, terms: postings.terms, blockSize: BLOCK_SIZE } } : {}),
    minLsn,
    maxLsn,
    level,
    pageSize: SLAB_PAGE_SIZE,
    sections,
  });
  let headerJson = encoder.encode(JSON.stringify(makeHeader(layout(0))));
  let sections = layout(headerJson.length);
  for (;;) {
    const next = encoder.encode(JSON.stringify(makeHeader(sections)));
    const nextSections = layout(next.length);
    headerJson = next;
    if (JSON.stringify(nextSections) === JSON.stringify(sections)) break;
    sections = nextSections;
  }
  const header = makeHeader(sections);

  const out = sharedArray(sections.end + 4, options);
  const view = new DataView(out.buffer);
  out.set(SLAB_MAGIC, 0);
  view.setUint32(SLAB_MAGIC.length, headerJson.length, true);
  out.set(headerJson, SLAB_MAGIC.length + 4);

  const lsns = new Float64Array(out.buffer, sections.lsns, count);
  const flags = new Uint8Array(out.buffer, sections.flags, count);
  const vectors = new Float32Array(out.buffer, sections.vectors, count * dimension);
  const codes = sq8 ? new Uint8Array(out.buffer, sections.codes!, count * dimension) : undefined;
  // ANN slabs store vectors in list order: the position of each row.
  const positionOf = ann ? new Uint32Array(count) : undefined;
  if (ann && positionOf) {
    const listRows = ann.layout.rows;
    const placed = new Uint8Array(count);
    for (let p = 0; p < count; p++) {
      const row = listRows[p]!;
      if (row < 0 || row >= count || placed[row] !== 0) throw new Error(`ANN layout places row ${row} twice or out of range`);
      placed[row] = 1;
      positionOf[row] = p;
    }
  }
  const idOffsets = new Uint32Array(out.buffer, sections.ids, count + 1);
  const mdOffsets = new Uint32Array(out.buffer, sections.metadata, count + 1);
  const spOffsets = sparseEntries > 0 ? new Uint32Array(out.buffer, sections.sparse, count + 1) : new Uint32Array(count + 1);
  const spIndices = new Uint32Array(out.buffer, sections.sparse + 4 * (count + 1), sparseEntries);
  const spValues = new Float32Array(out.buffer, sections.sparse + 4 * (count + 1) + 4 * sparseEntries, sparseEntries);
  let spAt = 0;
  const idAt = sections.ids + 4 * (count + 1);
  const mdAt = sections.metadata + 4 * (count + 1);
  for (let i = 0; i < count; i++) {
    lsns[i] = source.lsn(i);
    const values = source.vector(i);
    if (values === null) flags[i] = FLAG_TOMBSTONE;
    else {
      const at = (positionOf ? positionOf[i]! : i) * dimension;
      vectors.set(values, at);
      if (codes) encodeSq8(values, sq8!, codes.subarray(at, at + dimension));
    }
    idOffsets[i] = idAt + idBytes.starts[i]!;
    mdOffsets[i] = mdAt + mdBytes.starts[i]!;
    spOffsets[i] = spAt;
    const sparse = source.sparse(i);
    if (sparse) {
      spIndices.set(sparse.indices, spAt);
      spValues.set(sparse.values, spAt);
      spAt += sparse.indices.length;
    }
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
  }
  spOffsets[count] = spAt;
  idBytes.writeTo(out, idAt);
  mdBytes.writeTo(out, mdAt);
  if (ann) {
    const { centroids, offsets, rows: listRows } = ann.layout;
    const at = sections.ivf!;
    new Float32Array(out.buffer, at, nlist * dimension).set(centroids);
    new Uint32Array(out.buffer, at + 4 * nlist * dimension, nlist + 1).set(offsets);
    new Uint32Array(out.buffer, at + 4 * nlist * dimension + 4 * (nlist + 1), count).set(listRows);
    out.set(ann.donor, sections.donor!);
  }
  if (mdIndex) out.set(mdIndex, sections.mdIndex!);
  if (postings) encodePostings(out.subarray(sections.postings!, sections.postings! + postings.bytes), postings, count, (row) => source.sparse(row));
  idOffsets[count] = idAt + idBytes.length;
  mdOffsets[count] = mdAt + mdBytes.length;
  // Page checksums of the body, then the head's checksum (over them too), then the whole file's.
  const pageCrcs = new Uint32Array(out.buffer, sections.pageCrcs, (sections.head - sections.pageCrcs) / 4);
  for (let page = 0; page < pageCrcs.length; page++) {
    const from = sections.vectors + page * SLAB_PAGE_SIZE;
    pageCrcs[page] = checksum(out.subarray(from, Math.min(sections.end, from + SLAB_PAGE_SIZE)));
    if (page % 256 === 255) await yieldToEventLoop();
  }
  view.setUint32(sections.head, checksum(out.subarray(0, sections.head)), true);
  view.setUint32(sections.end, checksum(out.subarray(0, sections.end)), true);
  return { bytes: out, header };
}
