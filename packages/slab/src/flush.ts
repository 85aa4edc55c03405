import type { Memtable } from '@conifer/memtable';
import type { SlabRow } from './format.ts';

/** The rows a frozen memtable becomes when flushed: every entry, tombstones included. */
export function rowsFromMemtable(memtable: Memtable): SlabRow[] {
  const rows: SlabRow[] = [];
  for (const [id, entry] of memtable.entries()) {
    rows.push({ id, lsn: entry.lsn, values: entry.values, ...(entry.sparse ? { sparse: entry.sparse } : {}), metadata: entry.metadata });
  }
  return rows;
}
