export { clearedLsn, commonRows, computeShadows, provisionalShadows, scanMemtables, shadowedLater, type SlabLayer, type Snapshot } from './snapshot.ts';
export { TopK } from './top-k.ts';
export { searchSnapshot, DEFAULT_EXACT_BUDGET, type SearchRequest, type Hit } from './search.ts';
export { searchPostings } from './sparse-search.ts';
export { getRecord, locateRecord, slabRecord, loadFilterSections, countLive, matchingIds, type LiveRecord, type RecordLocation } from './lookup.ts';
export { listIds, type ListPageResult } from './list.ts';
export { attachRowGroups } from './row-groups.ts';
