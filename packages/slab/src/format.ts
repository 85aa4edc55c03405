import { crc32 } from 'node:zlib';
import type { Metadata, SparseF32 } from '@conifer/core';
import type { AnnHeader } from './ann.ts';

/**
 * Slab format v1: an immutable, self-describing file of rows sorted by id.
 *
 *   "CNFSLAB1" | u32 headerLength | header JSON | pad to 8
 *   lsns      f64 × count                      (LSN of each row's version)
 *   flags     u8 × count, pad to 4             (bit 0: tombstone)
 *   vectors   f32 × count × dim                (zeros for tombstones)
 *   idOffsets u32 × (count + 1) | id bytes (UTF-8), pad to 4
 *   mdOffsets u32 × (count + 1) | metadata bytes (JSON per row, empty = none), pad to 4
 *   spOffsets u32 × (count + 1) | sparse indices u32 × total | sparse values f32 × total, pad to 8
 *   ann       serialized faiss index (compacted slabs only; see ann.ts), pad to 4
 *   mdIndex   optional, 8-aligned: the columnar metadata index (compacted slabs; see
 *             metadata-index-codec.ts), pad to 4. Readers that predate it skip it: the header
 *             records every section's offset, and the checksum sits at sections.end.
 *   postings  optional, 8-aligned: the inverted index of a sparse-only slab (dimension 0; see
 *             postings.ts), pad to 4
 *   u32 crc32 of everything before it
 *
 * Sections are aligned so a reader can view them in place with typed arrays (no copies). Rows
 * are sorted by id, so fetch is a binary search and listing / merging is a sorted walk.
 */
export const SLAB_MAGIC = new TextEncoder().encode('CNFSLAB1');
export const SLAB_FORMAT_VERSION = 1;
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
  /** The ANN index stored in the slab, if any, and its calibration. */
  ann?: AnnHeader & { bytes: number };
  /** The stored metadata index, if any: its length in bytes (it starts at sections.mdIndex). */
  metadataIndex?: { bytes: number };
  /** The stored inverted index of a sparse-only slab: its length, term count and block size. */
  postings?: { bytes: number; terms: number; blockSize: number };
  /** Byte offsets of the sections, from the start of the file. */
  sections: {
    lsns: number;
    flags: number;
    vectors: number;
    ids: number;
    metadata: number;
    sparse: number;
    ann: number;
    mdIndex?: number;
    postings?: number;
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
