import { ManualClock, mulberry32 } from '@conifer/core';
import { MemoryObjectStore } from '@conifer/storage';
import { MERGED_ROW_BYTES } from '@conifer/index-builder';
import { buildSlab, PageCache, SlabReader, type SlabRow } from '@conifer/slab';
import { describe, expect, it } from 'vitest';
import { compactionWorkingBytes } from './compaction-scheduler.ts';
import { resolveEngineConfig } from './config.ts';
import { Engine } from './engine.ts';
import { ReleasedMemory } from './released-memory.ts';
import { ResidentSet, type Resident, type ResidentMemory } from './resident-set.ts';

const DIM = 16;

async function slabBytes(count: number, seed: number): Promise<Uint8Array> {
  const rand = mulberry32(seed);
  const rows: SlabRow[] = Array.from({ length: count }, (_, i) => ({
    id: `r${String(i).padStart(6, '0')}`,
    lsn: i + 1,
    values: Float32Array.from({ length: DIM }, () => rand()),
    metadata: undefined,
  }));
  return (await buildSlab(rows, { dimension: DIM, level: 1 })).bytes;
}

/** A reader of `bytes` opened by range (every body read goes to the source). */
function ranged(bytes: Uint8Array, key: string): Promise<SlabReader> {
  return SlabReader.open('s', (start, end) => Promise.resolve(bytes.slice(start, Math.min(end, bytes.length))), {
    cache: new PageCache(0, { wholeUpTo: 0 }),
    cacheKey: key,
  });
}

describe('the largest slab a compaction writes', () => {
  it('is a quarter of the memory budget unless set', () => {
    expect(resolveEngineConfig({ memoryBudgetBytes: 3 * 2 ** 30 }).compaction).toEqual({ trigger: 4, maxMerge: 8, maxSlabBytes: 768 * 2 ** 20 });
    expect(resolveEngineConfig({ memoryBudgetBytes: 2 ** 30, compaction: { trigger: 2, maxMerge: 8, maxSlabBytes: 5 } }).compaction.maxSlabBytes).toBe(5);
  });
});

describe('a compaction’s working memory', () => {
  it('is estimated from its inputs: a copy of each one not held whole, then the merged vectors and faiss’s copy, or the output', async () => {
    const bytes = await slabBytes(20_000, 1);
    const whole = await SlabReader.load('w', bytes);
    const byRange = await ranged(bytes, 'r');
    expect(whole.holdsWholeFile).toBe(true);
    expect(byRange.holdsWholeFile).toBe(false);
    const vectors = 20_000 * DIM * 4;
    const merged = (slabs: number) => Math.max(2 * slabs * vectors, slabs * bytes.length) + slabs * 20_000 * MERGED_ROW_BYTES;
    expect(compactionWorkingBytes([whole])).toBe(merged(1));
    expect(compactionWorkingBytes([byRange])).toBe(merged(1) + bytes.length);
    expect(compactionWorkingBytes([whole, byRange])).toBe(merged(2) + bytes.length);
  });

  it('counts against the memory budget: a trim sheds promoted vectors to make room for it', async () => {
    const reader = await ranged(await slabBytes(20_000, 2), 'p');
    let compacting = 0;
    const resident: Resident = {
      memory: (): ResidentMemory => ({ memtables: 0, slabs: reader.memoryBytes, fixed: 0, compactions: compacting }),
      busy: true, // a namespace compacting is busy: a trim never closes it, only sheds
      slabReaders: () => [reader],
    };
    const clock = new ManualClock();
    await reader.promote();
    const promoted = reader.memoryBytes;
    // Room for the promoted vectors, not for them and a compaction as large as the slab.
    const set = new ResidentSet<Resident>(clock, { budgetBytes: Math.ceil(promoted / 0.8), idleMs: 0 }, () => Promise.resolve());
    set.open('ns', () => Promise.resolve(resident));
    await new Promise((r) => setImmediate(r));
    set.trim();
    expect(reader.resident).toBe(true);
    compacting = compactionWorkingBytes([reader]);
    set.trim();
    expect(reader.resident).toBe(false);
    expect(set.stats().shed).toBe(1);
    expect(set.stats().memory.compactions).toBe(compacting);
  });
});

describe('a slab a merge reads in place', () => {
  it('is not shed while the merge holds it: that would free nothing while the budget counted it freed', async () => {
    const reader = await ranged(await slabBytes(20_000, 6), 'h');
    await reader.promote();
    const release = reader.hold();
    expect(reader.shed()).toBe(0);
    expect(reader.resident).toBe(true);
    release();
    release(); // twice is once
    expect(reader.shed()).toBe(reader.vectorBytes);
    expect(reader.resident).toBe(false);
  });
});

describe('memory let go of and not yet collected', () => {
  it('is tracked when a trim sheds vectors, and promotions leave it room until it is collected or too old', async () => {
    const reader = await ranged(await slabBytes(20_000, 3), 'q');
    let compacting = 0;
    const resident: Resident = {
      memory: (): ResidentMemory => ({ memtables: 0, slabs: reader.memoryBytes, fixed: 0, compactions: compacting }),
      busy: true,
      slabReaders: () => [reader],
    };
    const clock = new ManualClock();
    const released = new ReleasedMemory(clock, 1000);
    await reader.promote();
    const set = new ResidentSet<Resident>(clock, { budgetBytes: Math.ceil(reader.memoryBytes / 0.8), idleMs: 0 }, () => Promise.resolve(), released);
    set.open('ns', () => Promise.resolve(resident));
    await new Promise((r) => setImmediate(r));
    const vectors = reader.residentVectors!;
    compacting = compactionWorkingBytes([reader]);
    set.trim(); // sheds: the vectors' buffer is garbage now, not yet freed
    expect(reader.resident).toBe(false);
    expect(set.stats().released).toBe(vectors.byteLength);
    compacting = 0; // the compaction ended: the budget has room again…
    set.trim();
    await reader.promotion();
    expect(reader.resident).toBe(false); // …but not while the shed vectors may still be in memory
    clock.advance(1001);
    set.trim();
    await reader.promotion();
    expect(reader.resident).toBe(true);
    expect(set.stats().released).toBe(0);
  });
});

describe('a namespace opening among many', () => {
  it('has its own slabs promoted without a pass over every other open one', async () => {
    let visits = 0;
    const idle = (): Resident => ({
      memory: (): ResidentMemory => {
        visits++;
        return { memtables: 0, slabs: 1024, fixed: 0, compactions: 0 };
      },
      busy: false,
      slabReaders: () => [],
    });
    const set = new ResidentSet<Resident>(new ManualClock(), { budgetBytes: 2 ** 30, idleMs: 0 }, () => Promise.resolve());
    for (let i = 0; i < 200; i++) set.open(`idle-${i}`, () => Promise.resolve(idle()));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const reader = await ranged(await slabBytes(2_000, 5), 'n');
    const fresh: Resident = {
      memory: (): ResidentMemory => ({ memtables: 0, slabs: reader.memoryBytes, fixed: 0, compactions: 0 }),
      busy: false,
      slabReaders: () => [reader],
    };
    visits = 0;
    set.open('fresh', () => Promise.resolve(fresh));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    await reader.promotion();
    expect(reader.resident).toBe(true);
    expect(visits).toBe(0); // each of thousands of opens used to measure (and sort) all the others
  });
});

describe('promotions while a compaction runs', () => {
  it('leave room for the next merge as large as the running one', async () => {
    const reader = await ranged(await slabBytes(20_000, 4), 'c');
    const vectors = reader.vectorBytes;
    let compacting = 0;
    const resident: Resident = {
      memory: (): ResidentMemory => ({ memtables: 0, slabs: reader.memoryBytes, fixed: 0, compactions: compacting }),
      busy: true,
      slabReaders: () => [reader],
    };
    // Room for the vectors beside one merge of their size, not beside two.
    const budgetBytes = Math.ceil((reader.memoryBytes + 2.5 * vectors) / 0.85);
    const set = new ResidentSet<Resident>(new ManualClock(), { budgetBytes, idleMs: 0 }, () => Promise.resolve());
    compacting = vectors;
    set.open('ns', () => Promise.resolve(resident));
    await new Promise((r) => setImmediate(r));
    set.trim();
    await reader.promotion();
    expect(reader.resident).toBe(false);
    compacting = 0; // the chain of merges ended
    set.trim();
    await reader.promotion();
    expect(reader.resident).toBe(true);
  });
});

describe('a compaction starting', () => {
  it('trims at once: promoted vectors are shed before the merge reads its inputs, not at the next tick', async () => {
    const dim = 16;
    const rows = 2_000;
    const random = mulberry32(5);
    // Ticks an hour apart: any shed below is the compaction's own trim.
    const engine = new Engine({
      store: new MemoryObjectStore(),
      config: { memoryBudgetBytes: 1_000_000, tickMs: 3_600_000, memtableMaxRecords: rows, compaction: { trigger: 4, maxMerge: 4, maxSlabBytes: 2 ** 30 } },
      pages: new PageCache(0, { wholeUpTo: 0 }),
    });
    const index = { id: 'idx_room', dimension: dim, metric: 'euclidean' as const };
    const batch = async (b: number) => {
      const records = Array.from({ length: rows }, (_, i) => ({ id: `r${b}-${i}`, values: Array.from({ length: dim }, () => random() - 0.5) }));
      await engine.upsert(index, '', records);
      await engine.flush(index, '');
    };
    for (let b = 0; b < 3; b++) await batch(b); // three flat slabs, held as built: no compaction due yet
    engine.trimMemory(); // within the budget: nothing to shed
    const before = engine.memory();
    expect(before.memory.slabs).toBeGreaterThan(3 * rows * dim * 4); // their vectors are in memory
    expect(before.shed).toBe(0);
    await batch(3); // the fourth slab: a compaction of all four, whose working memory does not fit beside them
    while ((await engine.describeNamespace(index, '')).compactionDue) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await engine.describeNamespace(index, '')).slabs).toHaveLength(1);
    expect(engine.memory().shed).toBeGreaterThan(0);
    await engine.close();
  });
});
