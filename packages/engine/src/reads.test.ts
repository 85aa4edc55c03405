import { MemoryObjectStore } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';

describe('engine reads', () => {
  const index = { id: 'idx_reads', dimension: 3, metric: 'euclidean' as const };
  const records = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ id: `r${from + i}`, values: [from + i, 1, 2], metadata: { n: from + i } }));

  it('prices a query on the namespace size the console shows, from the snapshot alone', async () => {
    const engine = new Engine({ store: new MemoryObjectStore(), config: { tickMs: 60_000 } });
    try {
      // Empty: nothing to read.
      expect((await engine.query(index, 'ns', { vector: [1, 2, 3], topK: 1 })).namespaceBytes).toBe(0);
      // Slabs and a memtable, with overwrites and a delete in between.
      await engine.upsert(index, 'ns', records(0, 50));
      await engine.flush(index, 'ns');
      await engine.upsert(index, 'ns', records(25, 50));
      await engine.delete(index, 'ns', { ids: ['r1'] });
      const described = await engine.describeNamespace(index, 'ns');
      expect(described.slabs.length).toBeGreaterThan(0);
      expect(described.memtable.bytes).toBeGreaterThan(0);
      const expected = described.memtable.bytes + described.slabs.reduce((sum, s) => sum + s.bytes, 0);
      expect((await engine.query(index, 'ns', { vector: [1, 2, 3], topK: 3 })).namespaceBytes).toBe(expected);
      // A query by the id of a missing record finds nothing but still read the namespace.
      const lsn = described.writtenLsn;
      expect(await engine.query(index, 'ns', { id: 'missing', topK: 3 })).toEqual({ matches: [], namespaceBytes: expected, indexedLsn: lsn });
    } finally {
      await engine.close();
    }
  });

  it('pages by id: `next` is the last id of a page, `after` starts past it', async () => {
    const engine = new Engine({ store: new MemoryObjectStore(), config: { tickMs: 60_000 } });
    try {
      await engine.upsert(index, '', records(0, 5));
      const first = await engine.list(index, '', { limit: 2 });
      // Every read says which LSN it reflects: the one upsert is LSN 1.
      expect(first).toEqual({ ids: ['r0', 'r1'], next: 'r1', indexedLsn: 1 });
      expect(await engine.list(index, '', { limit: 2, after: 'r3' })).toEqual({ ids: ['r4'], indexedLsn: 1 });
      const byMetadata = await engine.fetchByMetadata(index, '', { filter: { n: { $gte: 2 } }, limit: 2 });
      expect(byMetadata.records.map((r) => r.id)).toEqual(['r2', 'r3']);
      expect(byMetadata.next).toBe('r3');
      const last = await engine.fetchByMetadata(index, '', { filter: { n: { $gte: 2 } }, limit: 2, after: 'r3' });
      expect(last).toEqual({ records: [{ id: 'r4', values: [4, 1, 2], metadata: { n: 4 } }], indexedLsn: 1 });
    } finally {
      await engine.close();
    }
  });

  it('answers a reopened namespace with overwritten and deleted ids before its slabs are compared, and counts it exactly', async () => {
    const store = new MemoryObjectStore();
    const first = new Engine({ store, config: { tickMs: 60_000 } });
    // Three slabs, each overwriting or deleting some ids of the older ones.
    await first.upsert(index, 'ns', records(0, 40));
    await first.flush(index, 'ns');
    await first.upsert(
      index,
      'ns',
      records(20, 40).map((r) => ({ ...r, values: [1000 + r.values[0]!, 1, 2] })),
    );
    await first.flush(index, 'ns');
    await first.delete(index, 'ns', { ids: ['r0', 'r25', 'r59'] });
    await first.flush(index, 'ns');
    await first.close();

    const engine = new Engine({ store, config: { tickMs: 60_000 } });
    try {
      // The first reads open the namespace on provisional layers: an old version near the query
      // (r30 at x = 30) must not come back, nor a deleted id.
      const got = await engine.query(index, 'ns', { vector: [30, 1, 2], topK: 5 });
      expect(got.matches.map((m) => m.id)).toEqual(['r19', 'r18', 'r17', 'r16', 'r15']);
      const deleted = await engine.fetchByMetadata(index, 'ns', { filter: { n: { $in: [0, 25, 59, 26] } }, limit: 10 });
      expect(deleted.records.map((r) => [r.id, r.values[0]])).toEqual([['r26', 1026]]);
      // 60 ids written, 3 deleted.
      expect((await engine.namespaceStats(index, 'ns')).recordCount).toBe(57);
    } finally {
      await engine.close();
    }
  });

  it('names the field at fault in a structured path', async () => {
    const engine = new Engine({ store: new MemoryObjectStore(), config: { tickMs: 60_000 } });
    try {
      const error = await engine
        .upsert(index, '', [
          { id: 'a', values: [1, 2, 3] },
          { id: 'b', values: [1, 2] },
        ])
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: 'records[1].values: Vector dimension 2 does not match the dimension of the index 3',
        issues: [{ path: ['records', 1, 'values'], message: 'Vector dimension 2 does not match the dimension of the index 3' }],
      });
      await expect(engine.query(index, '', { vector: [1], topK: 1 })).rejects.toMatchObject({ issues: [{ path: ['vector'] }] });
      await expect(engine.query(index, '', { vector: [1, 2, 3], sparseVector: { indices: [1], values: [1] }, topK: 1 })).rejects.toMatchObject({
        issues: [{ path: ['sparseVector'] }],
      });
    } finally {
      await engine.close();
    }
  });
});
