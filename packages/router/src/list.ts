import type { IdList } from '@conifer/slab';
import { clearedLsn, type Snapshot } from './snapshot.ts';

/** One sorted stream of ids from one layer, with the liveness of each id in that layer. */
interface Cursor {
  ids: IdList;
  at: number;
  /** Whether the layer's version of ids[i] is live (not a tombstone, not cleared). */
  live(i: number): boolean;
}

export interface ListPageResult {
  ids: string[];
  /** The last id returned when more ids follow, to pass back as `after`. */
  next?: string;
}

/**
 * Lists live ids that start with `prefix`, in ascending order, strictly after `after`. A k-way
 * merge over the layers' sorted id streams: for an id present in several layers the newest layer
 * (first cursor in recency order) decides whether it is live. Stops after `limit` ids, so a page
 * costs O(limit × layers), not a scan of the namespace.
 */
export function listIds(snapshot: Snapshot, options: { prefix: string; limit: number; after?: string | undefined }): ListPageResult {
  const { prefix, limit, after } = options;
  const cleared = clearedLsn(snapshot);
  const from = after !== undefined && after >= prefix ? after : prefix;
  const skipEqual = after !== undefined && after >= prefix;
  const cursors: Cursor[] = [];

  for (const memtable of snapshot.memtables) {
    const ids: string[] = [];
    for (const [id] of memtable.entries()) if (id.startsWith(prefix) && (skipEqual ? id > from : id >= from)) ids.push(id);
    ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    cursors.push({
      ids,
      at: 0,
      live: (i) => {
        const entry = memtable.get(ids[i]!)!;
        return entry.values !== null && entry.lsn >= cleared;
      },
    });
  }
  for (const { reader } of snapshot.slabs) {
    let at = reader.lowerBound(from);
    if (skipEqual && reader.ids.at(at) === from) at++;
    cursors.push({ ids: reader.ids, at, live: (i) => cleared === 0 && !reader.isTombstone(i) });
  }

  const out: string[] = [];
  for (;;) {
    let min: string | undefined;
    for (const c of cursors) {
      const id = c.ids.at(c.at);
      if (id !== undefined && (min === undefined || id < min)) min = id;
    }
    if (min === undefined || !min.startsWith(prefix)) break;
    let decided = false;
    let live = false;
    for (const c of cursors) {
      if (c.ids.at(c.at) !== min) continue;
      if (!decided) {
        live = c.live(c.at);
        decided = true;
      }
      c.at++;
    }
    if (!live) continue;
    if (out.length === limit) return { ids: out, next: out[out.length - 1]! };
    out.push(min);
  }
  return { ids: out };
}
