import { MemoryObjectStore } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';

/**
 * A restarted single node (the only writer there is) compacts what it left uncompacted as soon as
 * a read opens the namespace; a cluster's writer does not take over a namespace it only reads.
 */
const index = { id: 'idx_sole', dimension: 2, metric: 'euclidean' as const };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function leaveFourFlatSlabs(store: MemoryObjectStore): Promise<void> {
  // A trigger no level reaches: every flush stays its own L0 slab.
  const writer = new Engine({ store, config: { compaction: { trigger: 100, maxMerge: 100 }, tickMs: 3_600_000 } });
  for (let batch = 0; batch < 4; batch++) {
    await writer.upsert(
      index,
      'ns',
      Array.from({ length: 5 }, (_, i) => ({ id: `r${batch * 5 + i}`, values: [batch, i] })),
    );
    await writer.flush(index, 'ns');
  }
  expect((await writer.describeNamespace(index, 'ns')).slabs).toHaveLength(4);
  await writer.close();
}

describe('sole writer', () => {
  for (const soleWriter of [true, false]) {
    it(soleWriter ? 'compacts a namespace a read opened, without a write' : 'leaves a namespace it only reads to its owner', async () => {
      const store = new MemoryObjectStore();
      await leaveFourFlatSlabs(store);
      const engine = new Engine({ store, config: { soleWriter, compaction: { trigger: 2, maxMerge: 8 }, tickMs: 20, indexIdleMs: 0, gcGraceMs: 0 } });
      try {
        const before = await engine.query(index, 'ns', { vector: [1, 1], topK: 20 });
        expect(before.matches).toHaveLength(20);
        let slabs = 4;
        for (let wait = 0; wait < 100 && slabs === 4; wait++) {
          await sleep(20);
          slabs = (await engine.describeNamespace(index, 'ns')).slabs.length;
        }
        if (soleWriter) {
          expect(slabs).toBeLessThan(4);
          const after = await engine.query(index, 'ns', { vector: [1, 1], topK: 20 });
          expect(after.matches.map((m) => [m.id, m.score])).toEqual(before.matches.map((m) => [m.id, m.score]));
        } else {
          expect(slabs).toBe(4);
        }
      } finally {
        await engine.close();
      }
    });
  }
});
