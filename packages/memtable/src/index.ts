export * from './memtable.ts';
