import type { SparseF32 } from '@conifer/core';

/**
 * The inverted index of a sparse-only slab: for every sparse dimension ("term") that any live row
 * uses, the rows that use it (ascending) and their values, cut into blocks of BLOCK_SIZE postings
 * whose largest and smallest value and last row are kept. A query reads only the lists of its own
 * terms, and the per-term and per-block bounds let it skip rows that cannot reach the top k
 * (sparse-search.ts in the router): the cost follows the query's terms, not the slab's size.
 *
 * Encoding (all little-endian 4-byte words, so every array is a typed-array view in place):
 *
 *   u32 termCount | u32 total | u32 blockCount | u32 blockSize
 *   terms       u32 × termCount           ascending
 *   termStart   u32 × (termCount + 1)     first posting of each term
 *   blockStart  u32 × (termCount + 1)     first block of each term
 *   termMax     f32 × termCount           largest value in the term's list
 *   termMin     f32 × termCount           smallest value (values may be negative)
 *   rows        u32 × total
 *   values      f32 × total
 *   blockLast   u32 × blockCount          last row of each block
 *   blockMax    f32 × blockCount
 *   blockMin    f32 × blockCount
 */
export const BLOCK_SIZE = 64;
const HEADER_WORDS = 4;

export interface Postings {
  readonly terms: Uint32Array;
  readonly termStart: Uint32Array;
  readonly blockStart: Uint32Array;
  readonly termMax: Float32Array;
  readonly termMin: Float32Array;
  readonly rows: Uint32Array;
  readonly values: Float32Array;
  readonly blockLast: Uint32Array;
  readonly blockMax: Float32Array;
  readonly blockMin: Float32Array;
  readonly blockSize: number;
}

/** What `encodePostings` will write: sizes first, since the slab builder lays out sections before filling them. */
export interface PostingsPlan {
  bytes: number;
  terms: number;
  total: number;
  blocks: number;
  counts: Map<number, number>;
}

export function planPostings(rows: number, sparseOf: (row: number) => SparseF32 | undefined): PostingsPlan {
  const counts = countTerms(rows, sparseOf);
  let total = 0;
  let blocks = 0;
  for (const n of counts.values()) {
    total += n;
    blocks += Math.ceil(n / BLOCK_SIZE);
  }
  const terms = counts.size;
  return { bytes: 4 * (HEADER_WORDS + terms + 2 * (terms + 1) + 2 * terms + 2 * total + 3 * blocks), terms, total, blocks, counts };
}

function countTerms(rows: number, sparseOf: (row: number) => SparseF32 | undefined): Map<number, number> {
  const counts = new Map<number, number>();
  for (let row = 0; row < rows; row++) {
    const sparse = sparseOf(row);
    if (!sparse) continue;
    for (let i = 0; i < sparse.indices.length; i++) {
      const term = sparse.indices[i]!;
      counts.set(term, (counts.get(term) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Writes the postings of `rows` rows (a row without sparse values, such as a tombstone, has none)
 * into `out`, which must be 4-byte aligned and exactly `plan.bytes` long.
 */
export function encodePostings(out: Uint8Array, plan: PostingsPlan, rows: number, sparseOf: (row: number) => SparseF32 | undefined): void {
  const { counts, total, blocks: blockCount } = plan;
  const termList = Uint32Array.from(counts.keys()).sort();
  const termCount = termList.length;
  const words = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >>> 2);
  words[0] = termCount;
  words[1] = total;
  words[2] = blockCount;
  words[3] = BLOCK_SIZE;
  const p = view(out);
  p.terms.set(termList);
  const slot = new Map<number, number>();
  let at = 0;
  let block = 0;
  for (let t = 0; t < termCount; t++) {
    const n = counts.get(termList[t]!)!;
    p.termStart[t] = at;
    p.blockStart[t] = block;
    slot.set(termList[t]!, t);
    at += n;
    block += Math.ceil(n / BLOCK_SIZE);
  }
  p.termStart[termCount] = at;
  p.blockStart[termCount] = block;
  // Rows are visited in ascending order, so each term's list comes out sorted by row.
  const next = Uint32Array.from(p.termStart.subarray(0, termCount));
  for (let row = 0; row < rows; row++) {
    const sparse = sparseOf(row);
    if (!sparse) continue;
    for (let i = 0; i < sparse.indices.length; i++) {
      const t = slot.get(sparse.indices[i]!)!;
      const k = next[t]!++;
      p.rows[k] = row;
      p.values[k] = sparse.values[i]!;
    }
  }
  for (let t = 0; t < termCount; t++) {
    let max = -Infinity;
    let min = Infinity;
    for (let k = p.termStart[t]!, b = p.blockStart[t]!; k < p.termStart[t + 1]!; k += BLOCK_SIZE, b++) {
      const end = Math.min(k + BLOCK_SIZE, p.termStart[t + 1]!);
      let bMax = -Infinity;
      let bMin = Infinity;
      for (let j = k; j < end; j++) {
        const v = p.values[j]!;
        if (v > bMax) bMax = v;
        if (v < bMin) bMin = v;
      }
      p.blockLast[b] = p.rows[end - 1]!;
      p.blockMax[b] = bMax;
      p.blockMin[b] = bMin;
      if (bMax > max) max = bMax;
      if (bMin < min) min = bMin;
    }
    p.termMax[t] = max;
    p.termMin[t] = min;
  }
}

/** Typed-array views over encoded postings (no copies); `bytes` must be 4-byte aligned. */
export function view(bytes: Uint8Array): Postings {
  const header = new Uint32Array(bytes.buffer, bytes.byteOffset, HEADER_WORDS);
  const [termCount, total, blockCount, blockSize] = [header[0]!, header[1]!, header[2]!, header[3]!];
  let at = bytes.byteOffset + 4 * HEADER_WORDS;
  const u32 = (n: number) => {
    const array = new Uint32Array(bytes.buffer, at, n);
    at += 4 * n;
    return array;
  };
  const f32 = (n: number) => {
    const array = new Float32Array(bytes.buffer, at, n);
    at += 4 * n;
    return array;
  };
  const terms = u32(termCount);
  const termStart = u32(termCount + 1);
  const blockStart = u32(termCount + 1);
  const termMax = f32(termCount);
  const termMin = f32(termCount);
  const rows = u32(total);
  const values = f32(total);
  const blockLast = u32(blockCount);
  const blockMax = f32(blockCount);
  const blockMin = f32(blockCount);
  if (at - bytes.byteOffset !== bytes.byteLength) throw new Error(`postings: ${bytes.byteLength} bytes, the counts need ${at - bytes.byteOffset}`);
  return { terms, termStart, blockStart, termMax, termMin, rows, values, blockLast, blockMax, blockMin, blockSize };
}

/** Position of `term` in the postings' term list, or -1. */
export function findTerm(postings: Postings, term: number): number {
  const terms = postings.terms;
  let lo = 0;
  let hi = terms.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = terms[mid]!;
    if (at === term) return mid;
    if (at < term) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Postings built in memory, for a sparse-only slab written without them. */
export function buildPostings(rows: number, sparseOf: (row: number) => SparseF32 | undefined): Postings {
  const plan = planPostings(rows, sparseOf);
  const out = new Uint8Array(plan.bytes);
  encodePostings(out, plan, rows, sparseOf);
  return view(out);
}
