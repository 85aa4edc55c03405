import { crc32 } from 'node:zlib';
import type { Metadata, SparseF32 } from '@conifer/core';
import type { AnnHeader } from './ann.ts';

/**
 * Slab format: an immutable, self-describing file of rows sorted by id. Version 2 (written now)
 * splits the file in a *head*, which a reader loads when it opens the slab, and a *body*, which it
 * reads by range: vectors as queries need them, other sections whole on first use.
 *
 *   "CNFSLAB1" | u32 headerLength | header JSON | pad to 8
 *   head:
 *   flags     u8 × count, pad to 4             (bit 0: tombstone)
 *   idOffsets u32 × (count + 1) | id bytes (UTF-8), pad to 4
 *   sparse    only when some row has one: spOffsets u32 × (count + 1) | indices u32 × total |
 *             values f32 × total; pad to 8
 *   ivf       optional (ANN slabs): centroids f32 × nlist × dim | listOffsets u32 × (nlist + 1) |
 *             listRows u32 × count, pad to 8. The body stores the vectors of list 0, then list 1,
 *             …: position p holds the vector of row listRows[p], so a probed list is one range.
 *   postings  optional, 8-aligned: the inverted index of a sparse-only slab (see postings.ts)
 *   pageCrcs  u32 × pages: crc32 of each `pageSize` bytes of the body (the last page shorter)
 *   u32 crc32 of the file up to here (sections.head)
 *   body, 64-aligned:
 *   vectors   f32 × count × dim                (zeros for tombstones; row order, or list order
 *                                               for ANN slabs), pad to 8
 *   donor     optional (ANN slabs): the trained, empty faiss index (quantizer and code trainer)
 *             that a later build of the namespace may reuse instead of training; pad to 8
 *   codes     optional (ANN slabs): u8 × count × dim, each vector's SQ8 code in the vectors' order
 *             (header.codes has the per-dimension min and step); pad to 8. A query of a slab
 *             whose vectors are not in memory scans the probed lists' codes (a quarter of the
 *             bytes) and rescores the best candidates from their vectors.
 *   lsns      f64 × count                      (LSN of each row's version)
 *   metadata  mdOffsets u32 × (count + 1) | metadata bytes (JSON per row, empty = none), pad to 8
 *   mdIndex   optional: the columnar metadata index (see metadata-index-codec.ts), pad to 4
 *   u32 crc32 of everything before it (sections.end)
 *
 * Offsets stored inside sections (idOffsets, mdOffsets) are from the start of the file. A ranged
 * reader checks the head against its checksum and each body page it reads against its page
 * checksum, so a corrupted range is found before it is served. Whole-file readers check the final
 * checksum. Version 1 slabs (lsns, flags, vectors, ids, metadata, sparse, a serialized faiss index,
 * mdIndex, postings, checksum; no head or pages) are still read, whole.
 *
 * Sections are aligned so a reader can view them in place with typed arrays (no copies). Rows
 * are sorted by id, so fetch is a binary search and listing / merging is a sorted walk.
 */
export const SLAB_MAGIC = new TextEncoder().encode('CNFSLAB1');
export const SLAB_FORMAT_VERSION = 2;
/** Bytes per checksummed page of a slab body: the unit of ranged reads and of the page cache. */
export const SLAB_PAGE_SIZE = 64 * 1024;
export const FLAG_TOMBSTONE = 1;

export interface SlabHeader {
  version: number;
  dimension: number;
  count: number;
  tombstones: number;
  minLsn: number;
  maxLsn: number;
  level: number;
  /** Non-zero entries over all rows' sparse vectors. */
  sparseEntries: number;
  /**
   * The slab's ANN index and its calibration. `bytes`: the serialized faiss index (version 1) or
   * the trained empty index kept for reuse (version 2, the donor section); `nlist`: version 2's
   * list count (the ivf section).
   */
  ann?: AnnHeader & { bytes: number; nlist?: number };
  /** The stored metadata index, if any: its length in bytes (it starts at sections.mdIndex). */
  metadataIndex?: { bytes: number };
  /** The stored inverted index of a sparse-only slab: its length, term count and block size. */
  postings?: { bytes: number; terms: number; blockSize: number };
  /**
   * Version 2 ANN slabs written since SQ8 codes were added: the codes' quantizer (a vector's code
   * c decodes to min[j] + step[j] · c[j]); the codes start at sections.codes. Older slabs have none.
   */
  codes?: { kind: 'sq8'; min: number[]; step: number[] };
  /** Version 2: bytes per body page (each has a checksum in the pageCrcs section). */
  pageSize?: number;
  /**
   * Byte offsets of the sections, from the start of the file. Version 1 has `ann` (the faiss
   * index); version 2 has `ivf`, `pageCrcs`, `head` (where the head's checksum sits; the body
   * follows, 64-aligned, at `vectors`) and `donor`.
   */
  sections: {
    lsns: number;
    flags: number;
    vectors: number;
    ids: number;
    metadata: number;
    sparse: number;
    ann?: number;
    ivf?: number;
    mdIndex?: number;
    postings?: number;
    pageCrcs?: number;
    head?: number;
    donor?: number;
    codes?: number;
    end: number;
  };
}

export interface SlabRow {
  id: string;
  lsn: number;
  /** null for a tombstone. */
  values: Float32Array | null;
  sparse?: SparseF32 | undefined;
  metadata: Metadata | undefined;
}

export function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** crc32 of `bytes`; pass the previous slice's result to checksum a file slice by slice. */
export function checksum(bytes: Uint8Array, previous = 0): number {
  return crc32(bytes, previous);
}

export class SlabCorruptionError extends Error {
  override name = 'SlabCorruptionError';
}
