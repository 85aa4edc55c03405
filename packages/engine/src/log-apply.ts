import type { Metadata } from '@conifer/core';
import type { LogEntry } from '@conifer/log';
import type { Memtable } from '@conifer/memtable';
import { getRecord, type Snapshot } from '@conifer/router';

/** What applying one log entry reports back to the writer. */
export type ApplyResult = { matched: number };

/**
 * Applies one durable log entry to the active memtable, in LSN order (the log calls it, and replay
 * does the same). An update is resolved against the state just before its LSN (`snapshot`), so a
 * replay reproduces it exactly.
 */
export function applyLogEntry(entry: LogEntry, mem: Memtable, snapshot: () => Snapshot): ApplyResult {
  const { lsn, op } = entry;
  switch (op.kind) {
    case 'put':
      for (const r of op.records) mem.put(lsn, r.id, r.values, r.metadata, r.sparse);
      return { matched: op.records.length };
    case 'delete':
      for (const id of op.ids) mem.delete(lsn, id);
      return { matched: op.ids.length };
    case 'deleteAll':
      mem.deleteAll(lsn);
      return { matched: 0 };
    case 'update': {
      let matched = 0;
      for (const id of op.ids) {
        const current = getRecord(snapshot(), id);
        if (!current) continue;
        const metadata: Metadata | undefined = op.setMetadata ? { ...current.metadata, ...op.setMetadata } : current.metadata;
        mem.put(lsn, id, op.values ?? current.values, metadata, op.sparse ?? current.sparse);
        matched++;
      }
      if (matched === 0) mem.noop(lsn);
      return { matched };
    }
  }
}
