import { mulberry32, SYSTEM_CLOCK } from '@conifer/core';
import { buildSlab, PageCache, SlabReader, type SlabRow } from '@conifer/slab';
import { sourceOf, testAnn } from '@conifer/slab/testing';
import { describe, expect, it } from 'vitest';
import { ResidentSet, type Resident } from './resident-set.ts';

/**
 * How the memory budget treats slabs with SQ8 codes (ADR 0016): codes are read into memory before
 * any vectors, vectors with what is left (a slab whose vectors arrive drops its codes), and over
 * budget vectors go first, then codes, before a namespace closes.
 */
const DIM = 16;
const ROWS = 6_000;

async function annSlab(name: string, seed: number): Promise<SlabReader> {
  const rand = mulberry32(seed);
  const rows: SlabRow[] = Array.from({ length: ROWS }, (_, i) => ({
    id: `${name}-${String(i).padStart(5, '0')}`,
    lsn: i + 1,
    values: Float32Array.from({ length: DIM }, () => rand()),
    metadata: undefined,
  }));
  const nlist = 8;
  const ann = testAnn(
    ROWS,
    DIM,
    nlist,
    Array.from({ length: ROWS }, (_, i) => Math.floor((i * nlist) / ROWS)),
  );
  const { bytes } = await buildSlab(rows, { dimension: DIM, level: 1, ann });
  return SlabReader.open(name, sourceOf(bytes), { cache: new PageCache(0, { wholeUpTo: 0 }), cacheKey: name });
}

/** A namespace holding these slabs: what it holds is what its readers hold. */
function namespaceOf(readers: SlabReader[]): Resident {
  return {
    busy: false,
    slabReaders: () => readers,
    memory: () => ({ memtables: 0, slabs: readers.reduce((n, r) => n + r.memoryBytes, 0), fixed: 0, compactions: 0 }),
  };
}

/** Waits for the promotions a trim started (codes or vectors) to land, and what landing starts. */
async function promoted(readers: SlabReader[]): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await Promise.all(readers.flatMap((r) => [r.promotion(), r.codesPromotion()]));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('a memory budget over slabs with codes', () => {
  it('keeps codes before vectors, and sheds vectors before codes', async () => {
    const readers = [await annSlab('a', 1), await annSlab('b', 2)];
    const resident = namespaceOf(readers);
    const heads = resident.memory().slabs;
    const codes = readers.reduce((n, r) => n + r.codeBytes, 0);
    const vectors = readers.reduce((n, r) => n + r.vectorBytes, 0);
    expect(codes * 4).toBe(vectors);
    const set = new ResidentSet<Resident>(SYSTEM_CLOCK, { budgetBytes: 0, idleMs: 0 }, () => Promise.resolve());
    const entry = set.open('ns', () => Promise.resolve(resident));
    await entry.pending;
    set.lease(entry)(); // a request used it (and let it go)

    // Room for the heads and every slab's codes, not for one slab's vectors: codes only.
    set.setBudget(Math.ceil((heads + codes + readers[0]!.vectorBytes / 2) / 0.85));
    set.trim();
    await promoted(readers);
    expect(readers.map((r) => [r.codesResident, r.resident])).toEqual([
      [true, false],
      [true, false],
    ]);

    // Room for everything: vectors come in, and each slab then drops its codes.
    set.setBudget(Number.MAX_SAFE_INTEGER);
    set.trim();
    await promoted(readers);
    expect(readers.map((r) => [r.codesResident, r.resident])).toEqual([
      [false, true],
      [false, true],
    ]);
    expect(resident.memory().slabs).toBe(heads + vectors);

    // Over budget by one slab's vectors: vectors are shed first (the namespace's, all of them),
    // then codes come back for every slab and vectors for what is left: one slab's.
    const budget = Math.ceil((heads + vectors / 2 + codes) / 0.85);
    set.setBudget(budget);
    set.trim();
    await promoted(readers);
    expect(readers.filter((r) => r.resident)).toHaveLength(1);
    expect(readers.every((r) => r.resident !== r.codesResident)).toBe(true);
    expect(resident.memory().slabs).toBeLessThanOrEqual(budget * 0.85);

    // Room for the heads only: the codes go too, and the namespace stays open under its lease.
    const release = set.lease(entry);
    set.setBudget(heads + 1);
    set.trim();
    expect(readers.every((r) => !r.resident && !r.codesResident)).toBe(true);
    expect(set.stats().open).toBe(1);
    release();
  });
});
