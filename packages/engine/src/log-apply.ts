import type { Metadata } from '@conifer/core';
import type { LogEntry } from '@conifer/log';
import type { Memtable } from '@conifer/memtable';
import { locateRecord, type Snapshot } from '@conifer/router';
import type { UpdateReads } from './update-reads.ts';

/** What applying one log entry reports back to the writer. */
export type ApplyResult = { matched: number };

/**
 * Applies one durable log entry to the active memtable, in LSN order (the log calls it, and replay
 * does the same). An update is resolved against the state just before its LSN (`snapshot`), so a
 * replay reproduces it exactly; the vectors it keeps from slabs read by range come from `reads`.
 */
export function applyLogEntry(entry: LogEntry, mem: Memtable, snapshot: () => Snapshot, reads: UpdateReads): ApplyResult {
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
        const at = locateRecord(snapshot(), id);
        if (!at) continue;
        const current = 'record' in at ? at.record : { metadata: at.reader.metadata(at.row), sparse: at.reader.sparse(at.row) };
        const metadata: Metadata | undefined = op.setMetadata ? { ...current.metadata, ...op.setMetadata } : current.metadata;
        // The vector it keeps: a slab read by range had it read ahead (UpdateReads).
        const values = op.values ?? ('record' in at ? at.record.values : at.reader.resident ? at.reader.values(at.row) : reads.values(at.reader, at.row));
        if (!values) throw new Error(`the vector of ${id} (slab ${'reader' in at ? at.reader.id : ''}) was not read ahead`);
        mem.put(lsn, id, values, metadata, op.sparse ?? current.sparse);
        matched++;
      }
      if (matched === 0) mem.noop(lsn);
      return { matched };
    }
  }
}
