import type { AnnHeader } from './ann.ts';
import { yieldToEventLoop } from './yield.ts';
import { align, checksum, FLAG_TOMBSTONE, SLAB_FORMAT_VERSION, SLAB_MAGIC, type SlabHeader, type SlabRow } from './format.ts';

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
const EMPTY = new Uint8Array(0);
const YIELD_EVERY = 4096;

/**
 * Serializes rows into a slab. Rows may come in any order; ids must be unique (the caller keeps
 * only the newest version of each id). Returns the bytes and the header that describes them.
 */
export async function buildSlab(
  rows: readonly SlabRow[],
  options: { dimension: number; level: number; ann?: { header: AnnHeader; bytes: Uint8Array } | undefined },
): Promise<{ bytes: Uint8Array; header: SlabHeader }> {
  const { dimension, level, ann } = options;
  const sorted = sortRows(rows);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.id === sorted[i - 1]!.id) throw new Error(`duplicate id in slab: ${sorted[i]!.id}`);
  }
  const count = sorted.length;
  const idBytes: Uint8Array[] = new Array(count);
  const mdBytes: Uint8Array[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const r = sorted[i]!;
    idBytes[i] = encoder.encode(r.id);
    mdBytes[i] = r.metadata && Object.keys(r.metadata).length > 0 ? encoder.encode(JSON.stringify(r.metadata)) : EMPTY;
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
  }
  const sparseEntries = sorted.reduce((n, r) => n + (r.sparse?.indices.length ?? 0), 0);
  let minLsn = Number.MAX_SAFE_INTEGER;
  let maxLsn = 0;
  let tombstones = 0;
  for (const r of sorted) {
    minLsn = Math.min(minLsn, r.lsn);
    maxLsn = Math.max(maxLsn, r.lsn);
    if (r.values === null) tombstones++;
    else if (r.values.length !== dimension) throw new Error(`row ${r.id} has ${r.values.length} dimensions, slab has ${dimension}`);
  }
  if (count === 0) minLsn = 0;

  // Two passes over the layout: the header's length depends on the offsets it records.
  const layout = (headerLength: number) => {
    const lsns = align(SLAB_MAGIC.length + 4 + headerLength, 8);
    const flags = lsns + 8 * count;
    const vectors = align(flags + count, 4);
    const ids = vectors + 4 * count * dimension;
    const idData = ids + 4 * (count + 1);
    const metadata = align(idData + idBytes.reduce((n, b) => n + b.length, 0), 4);
    const mdData = metadata + 4 * (count + 1);
    const sparse = align(mdData + mdBytes.reduce((n, b) => n + b.length, 0), 4);
    const annAt = align(sparse + 4 * (count + 1) + 8 * sparseEntries, 8);
    const end = align(annAt + (ann?.bytes.length ?? 0), 4);
    return { lsns, flags, vectors, ids, metadata, sparse, ann: annAt, end };
  };
  const makeHeader = (sections: SlabHeader['sections']): SlabHeader => ({
    version: SLAB_FORMAT_VERSION,
    dimension,
    count,
    tombstones,
    sparseEntries,
    ...(ann ? { ann: { ...ann.header, bytes: ann.bytes.length } } : {}),
    minLsn,
    maxLsn,
    level,
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

  const out = new Uint8Array(sections.end + 4);
  const view = new DataView(out.buffer);
  out.set(SLAB_MAGIC, 0);
  view.setUint32(SLAB_MAGIC.length, headerJson.length, true);
  out.set(headerJson, SLAB_MAGIC.length + 4);

  const lsns = new Float64Array(out.buffer, sections.lsns, count);
  const flags = new Uint8Array(out.buffer, sections.flags, count);
  const vectors = new Float32Array(out.buffer, sections.vectors, count * dimension);
  const idOffsets = new Uint32Array(out.buffer, sections.ids, count + 1);
  const mdOffsets = new Uint32Array(out.buffer, sections.metadata, count + 1);
  const spOffsets = new Uint32Array(out.buffer, sections.sparse, count + 1);
  const spIndices = new Uint32Array(out.buffer, sections.sparse + 4 * (count + 1), sparseEntries);
  const spValues = new Float32Array(out.buffer, sections.sparse + 4 * (count + 1) + 4 * sparseEntries, sparseEntries);
  let spAt = 0;
  let idAt = sections.ids + 4 * (count + 1);
  let mdAt = sections.metadata + 4 * (count + 1);
  for (let i = 0; i < count; i++) {
    const row = sorted[i]!;
    lsns[i] = row.lsn;
    if (row.values === null) flags[i] = FLAG_TOMBSTONE;
    else vectors.set(row.values, i * dimension);
    idOffsets[i] = idAt;
    out.set(idBytes[i]!, idAt);
    idAt += idBytes[i]!.length;
    mdOffsets[i] = mdAt;
    out.set(mdBytes[i]!, mdAt);
    mdAt += mdBytes[i]!.length;
    spOffsets[i] = spAt;
    if (row.sparse) {
      spIndices.set(row.sparse.indices, spAt);
      spValues.set(row.sparse.values, spAt);
      spAt += row.sparse.indices.length;
    }
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
  }
  spOffsets[count] = spAt;
  if (ann) out.set(ann.bytes, sections.ann);
  idOffsets[count] = idAt;
  mdOffsets[count] = mdAt;
  view.setUint32(sections.end, checksum(out.subarray(0, sections.end)), true);
  return { bytes: out, header };
}
