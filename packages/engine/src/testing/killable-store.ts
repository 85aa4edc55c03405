import { ObjectStoreError, type ObjectStore } from '@conifer/storage';

/**
 * Simulates a process crash for in-process tests: after `kill()`, every call through this wrapper
 * fails, so an abandoned engine's background work (a flush, a compaction, GC) can no longer touch
 * storage — as if its process had died at that instant. Operations already handed to the real
 * store complete, like a write that reached the disk just before the crash. This is a fault
 * wrapper over a real adapter, not a replacement for one.
 */
export function killable(store: ObjectStore): { store: ObjectStore; kill: () => void } {
  let dead = false;
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      if (dead) return Promise.reject(new ObjectStoreError('permanent', 'process killed (test crash)'));
      return fn(...args);
    };
  return {
    store: {
      get: guard((key) => store.get(key)),
      getRange: guard((key, start, end) => store.getRange(key, start, end)),
      head: guard((key) => store.head(key)),
      put: guard((key, data) => store.put(key, data)),
      putIfAbsent: guard((key, data) => store.putIfAbsent(key, data)),
      putIfMatch: guard((key, data, etag) => store.putIfMatch(key, data, etag)),
      delete: guard((key) => store.delete(key)),
      list: guard((prefix, options) => store.list(prefix, options)),
    },
    kill: () => {
      dead = true;
    },
  };
}
