export { type MemEntry, Memtable } from './memtable.ts';
export type { ArenaChunk } from './vector-arena.ts';
