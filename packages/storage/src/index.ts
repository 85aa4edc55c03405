export * from './object-store.ts';
export { MemoryObjectStore } from './memory-store.ts';
export { FsObjectStore } from './fs-store.ts';
export { openObjectStore } from './store-from-url.ts';
