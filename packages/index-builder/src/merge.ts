import { yieldToEventLoop, type SlabReader, type SlabRow } from '@conifer/slab';

/** Rows merged between two yields to the event loop. */
const YIELD_EVERY = 4096;

/**
 * Merges slabs (oldest first) into one row set in ascending id order: a k-way merge of the slabs'
 * sorted rows (no global sort), where for an id present in several slabs the newest slab's
 * version wins. Tombstones are kept unless `dropTombstones`, because they may still hide versions
 * in older slabs. Yields to the event loop every few thousand rows so queries keep being served
 * while a large compaction runs.
 */
export async function mergeSlabRows(readers: readonly SlabReader[], dropTombstones: boolean): Promise<SlabRow[]> {
  const at = readers.map(() => 0);
  const out: SlabRow[] = [];
  for (let step = 1; ; step++) {
    let min: string | undefined;
    for (let r = 0; r < readers.length; r++) {
      const id = readers[r]!.ids.at(at[r]!);
      if (id !== undefined && (min === undefined || id < min)) min = id;
    }
    if (min === undefined) return out;
    let winner = -1;
    for (let r = 0; r < readers.length; r++) {
      if (readers[r]!.ids.at(at[r]!) !== min) continue;
      winner = r; // readers are oldest first: the last one holding `min` is the newest
    }
    const reader = readers[winner]!;
    const row = at[winner]!;
    for (let r = 0; r < readers.length; r++) if (readers[r]!.ids.at(at[r]!) === min) at[r]!++;
    if (!(dropTombstones && reader.isTombstone(row))) {
      // Views, not copies: the builder copies each vector once into the new slab.
      const sparse = reader.sparse(row);
      out.push({ id: min, lsn: reader.lsns[row]!, values: reader.vectorView(row), ...(sparse ? { sparse } : {}), metadata: reader.metadata(row) });
    }
    if (step % YIELD_EVERY === 0) await yieldToEventLoop();
  }
}
