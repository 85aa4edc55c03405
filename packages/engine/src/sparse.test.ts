import { compareHits, InvalidArgumentError, sparseMatch } from '@conifer/core';
import { MemoryObjectStore } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import type { SparseInput } from './data-plane.ts';
import { Engine } from './engine.ts';
import { toSparse } from './records.ts';

const index = { id: 'idx_sparse', dimension: 0, metric: 'dotproduct' as const, vectorType: 'sparse' as const };
const config = { tickMs: 3_600_000, gcGraceMs: 0, memtableMaxRecords: 150, compaction: { trigger: 2, maxMerge: 4 } };

/** A seeded generator of skewed sparse vectors (a few common terms, a long tail). */
function generator(seed: number) {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return (terms: number): SparseInput => {
    const chosen = new Map<number, number>();
    while (chosen.size < terms) chosen.set(Math.floor(400 ** random()), Math.round(random() * 100) / 10 - 1);
    return { indices: [...chosen.keys()], values: [...chosen.values()] };
  };
}

describe('sparse-only index in the engine', () => {
  it('answers queries as brute force over the live records, across memtable, flushes, compactions and a restart', async () => {
    const store = new MemoryObjectStore();
    const sparse = generator(11);
    const model = new Map<string, { sparse: SparseInput; metadata: { g: number } }>();
    let engine = new Engine({ store, config });
    const check = async () => {
      for (let q = 0; q < 15; q++) {
        const query = sparse(1 + (q % 6));
        const filter = q % 3 === 0 ? { g: { $eq: q % 4 } } : undefined;
        const querySparse = toSparse(query)!;
        const expected = [...model.entries()]
          .filter(([, r]) => !filter || r.metadata.g === filter.g.$eq)
          .flatMap(([id, r]) => {
            const score = sparseMatch(querySparse, toSparse(r.sparse)!);
            return score === undefined ? [] : [{ id, score }];
          })
          .sort(compareHits('dotproduct'))
          .slice(0, 7);
        const got = await engine.query(index, 'ns', { sparseVector: query, topK: 7, filter, includeValues: true });
        expect(got.matches.map((m) => ({ id: m.id, score: m.score }))).toEqual(expected);
        for (const m of got.matches) expect(m.values).toEqual([]);
      }
    };
    try {
      for (let batch = 0; batch < 12; batch++) {
        const records = Array.from({ length: 50 }, (_, i) => {
          const id = `r${(batch * 37 + i * 11) % 400}`;
          return { id, values: [], sparseValues: sparse(3 + (i % 20)), metadata: { g: i % 4 } };
        });
        await engine.upsert(index, 'ns', records);
        for (const r of records) model.set(r.id, { sparse: r.sparseValues, metadata: r.metadata });
        const victim = `r${(batch * 53) % 400}`;
        await engine.delete(index, 'ns', { ids: [victim] });
        model.delete(victim);
        if (batch % 4 === 3) await check();
      }
      await engine.update(index, 'ns', { id: 'r11', sparseValues: { indices: [1, 2], values: [5, 5] } });
      if (model.has('r11')) model.set('r11', { ...model.get('r11')!, sparse: { indices: [1, 2], values: [5, 5] } });
      await engine.flush(index, 'ns');
      const internals = await engine.describeNamespace(index, 'ns');
      expect(internals.slabs.length).toBeGreaterThan(0);
      await check();
      // Querying by id searches with that record's sparse vector.
      const [someId, some] = [...model.entries()][3]!;
      const byId = await engine.query(index, 'ns', { id: someId, topK: 1 });
      expect(byId.matches[0]!.score).toBeGreaterThanOrEqual(sparseMatch(toSparse(some.sparse)!, toSparse(some.sparse)!)! - 1e-9);
      expect((await engine.namespaceStats(index, 'ns')).recordCount).toBe(model.size);
      await engine.close();
      engine = new Engine({ store, config });
      await check();
      const fetched = await engine.fetch(index, 'ns', [someId]);
      expect(fetched.records[someId]).toMatchObject({ id: someId, values: [], metadata: some.metadata });
    } finally {
      await engine.close();
    }
  });

  it('refuses dense values and records without sparse values, whole', async () => {
    const engine = new Engine({ store: new MemoryObjectStore(), config });
    try {
      const dense = await engine.upsert(index, 'ns', [{ id: 'a', values: [1, 2], sparseValues: { indices: [1], values: [1] } }]).catch((e: unknown) => e);
      expect(dense).toBeInstanceOf(InvalidArgumentError);
      expect(String(dense)).toContain('records[0].values: a sparse index stores no dense values');
      const missing = await engine
        .upsert(index, 'ns', [
          { id: 'a', values: [], sparseValues: { indices: [1], values: [1] } },
          { id: 'b', values: [] },
        ])
        .catch((e: unknown) => e);
      expect(String(missing)).toContain('records[1].sparseValues: required on a sparse index');
      expect((await engine.listNamespaces(index)).length).toBe(0);
      const query = await engine.query(index, 'ns', { vector: [1], topK: 1 }).catch((e: unknown) => e);
      expect(String(query)).toContain('vector: a sparse index stores no dense values');
      const noSparse = await engine.query(index, 'ns', { vector: [], topK: 1 }).catch((e: unknown) => e);
      expect(String(noSparse)).toContain('sparseVector: required on a sparse index');
      // A dense index still needs its dense values.
      const denseIndex = { id: 'idx_dense', dimension: 2, metric: 'dotproduct' as const };
      const noValues = await engine.upsert(denseIndex, 'ns', [{ id: 'a', values: [], sparseValues: { indices: [1], values: [1] } }]).catch((e: unknown) => e);
      expect(String(noValues)).toContain('records[0].values: required: this index stores dense vectors of dimension 2');
    } finally {
      await engine.close();
    }
  });
});
