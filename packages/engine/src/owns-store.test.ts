import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsObjectStore, withParallelReads } from '@conifer/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';

describe('an engine that owns its store', () => {
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('closes it on close(), through the wrappers around it: no slab file stays open', async () => {
    dir = await mkdtemp(join(tmpdir(), 'conifer-owns-store-'));
    const index = { id: 'idx_owns', dimension: 64, metric: 'euclidean' as const };
    const vector = (i: number) => Float32Array.from({ length: 64 }, (_, d) => Math.sin(i * 0.37 + d));
    const writer = new Engine({ store: new FsObjectStore(dir), config: { compaction: { trigger: 100, maxMerge: 8 } } });
    for (let b = 0; b < 20; b++) {
      await writer.upsert(
        index,
        '',
        Array.from({ length: 1000 }, (_, r) => ({ id: String(b * 1000 + r), values: vector(b * 1000 + r) })),
      );
    }
    await writer.flush(index, '');
    await writer.close();

    // Reopened, its slab (larger than what the page cache reads whole) is read by range: the
    // local store keeps the file open for those reads.
    const local = new FsObjectStore(dir);
    const reader = new Engine({ store: withParallelReads(local), config: { memoryBudgetBytes: 64 * 2 ** 20 }, ownsStore: true });
    const { matches } = await reader.query(index, '', { vector: vector(4321), topK: 1 });
    expect(matches[0]?.id).toBe('4321');
    expect(local.keptHandles).toBeGreaterThan(0);
    await reader.close();
    expect(local.keptHandles).toBe(0);
  });
});
