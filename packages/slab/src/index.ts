export {
  align,
  checksum,
  FLAG_TOMBSTONE,
  SLAB_FORMAT_VERSION,
  SLAB_MAGIC,
  SLAB_PAGE_SIZE,
  SlabCorruptionError,
  type SlabHeader,
  type SlabRow,
} from './format.ts';
export { buildSlab, buildSlabFrom, sortRows, type RowTexts, type SlabAnn, type SlabRowSource } from './builder.ts';
export { SlabReader, type GatheredVectors, type IdList, type LazySection } from './reader.ts';
export { PageCache, type PageCacheOptions, type PageCacheStats } from './page-cache.ts';
export type { RangeSource } from './slab-body.ts';
export { rowsFromMemtable } from './flush.ts';
export { Bitset } from './bitset.ts';
export { sortedDistinct } from './sort-positions.ts';
export { MetadataIndex, type RowTest } from './metadata-index.ts';
export {
  CALIBRATION_MARGIN,
  faissMetricOf,
  knobFor,
  knobForRanks,
  knobForShare,
  nlistOf,
  normalizeRows,
  type AnnHeader,
  type CalibrationPoint,
} from './ann.ts';
export { yieldToEventLoop } from './yield.ts';
export { compareStoredIds } from './stored-ids.ts';
export { isShared, sharedArray, toShared } from './shared-bytes.ts';
export { exactTopRows } from './exact-scan.ts';
export { ListAssigner } from './list-assigner.ts';
export type { IvfLayout } from '@conifer/faiss';
export { BLOCK_SIZE, buildPostings, findTerm, type Postings } from './postings.ts';
