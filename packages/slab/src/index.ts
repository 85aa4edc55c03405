export * from './format.ts';
export { buildSlab, sortRows } from './builder.ts';
export { SlabReader } from './reader.ts';
export * from './manifest.ts';
export * from './compaction.ts';
export { rowsFromMemtable } from './flush.ts';
export { Bitset } from './bitset.ts';
export { MetadataIndex } from './metadata-index.ts';
export * from './ann.ts';
