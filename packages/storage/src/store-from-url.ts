import { fileURLToPath } from 'node:url';
import { FsObjectStore } from './fs-store.ts';
import { MemoryObjectStore } from './memory-store.ts';
import type { ObjectStore } from './object-store.ts';

/** Cloud schemes the design names, whose adapters are still to be written. */
const PLANNED_SCHEMES: Record<string, string> = { 's3:': 'S3', 'gs:': 'Google Cloud Storage', 'az:': 'Azure Blob Storage' };

/**
 * Opens the object store a URL names (a `--storage` flag, an env variable):
 * - `file:///var/lib/conifer` or a plain path (absolute, or relative to the working directory) → local disk;
 * - `memory://` → a fresh, empty in-memory store (each call gets its own).
 *
 * @example openObjectStore('file:///var/lib/conifer') // FsObjectStore rooted at /var/lib/conifer
 */
export function openObjectStore(url: string): ObjectStore {
  // Two or more letters, so that a Windows drive ("C:\data") reads as a path, not a scheme.
  const scheme = /^([a-z][a-z0-9+.-]+:)/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (url.trim() === '') throw new Error('object store URL is empty');
    return new FsObjectStore(url);
  }
  if (scheme === 'memory:') return new MemoryObjectStore();
  if (scheme === 'file:') {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (err) {
      throw new Error(`invalid file URL ${JSON.stringify(url)}: expected file:///absolute/path`, { cause: err });
    }
    return new FsObjectStore(path);
  }
  const planned = PLANNED_SCHEMES[scheme];
  if (planned) throw new Error(`the ${planned} object store adapter (${scheme}//) is not available yet; use file:// or memory://`);
  throw new Error(`unsupported object store URL ${JSON.stringify(url)}: expected file:///path, a plain path or memory://`);
}
