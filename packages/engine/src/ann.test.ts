import { compareHits, compileFilter, makeScorer, mulberry32, type Filter, type Metric } from '@conifer/core';
import { MemoryObjectStore } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import type { EngineConfig } from './config.ts';
import { Engine } from './engine.ts';

/**
 * The ANN tier end to end: compaction turns flat L0 slabs into an IVF slab calibrated for 0.95
 * recall@10, and queries through it (the planner forced onto the ANN path) reach that recall
 * against brute force, unfiltered and with filters keeping 1%, 10%, 50% and 99% of the rows.
 */
const DIM = 32;
const N = 24_000;

/** A Gaussian mixture: 48 centres, points spread around them. */
function dataset(seed: number, n: number) {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: 48 }, () => Array.from({ length: DIM }, () => gauss() * 4));
  return Array.from({ length: n }, () => {
    const c = centres[Math.floor(rand() * centres.length)]!;
    return c.map((x) => x + gauss());
  });
}

/** An engine in memory whose queries always take the ANN path (`exactBudget: 0`), ticks out of the way. */
function annEngine(config: Pick<EngineConfig, 'memtableMaxRecords' | 'compaction' | 'ann'>): Engine {
  return new Engine({ store: new MemoryObjectStore(), config: { ...config, exactBudget: 0, tickMs: 60_000 } });
}

for (const metric of ['euclidean', 'cosine'] as const) {
  describe(`ANN slabs (${metric})`, () => {
    it('meet the recall target with and without filters', async () => {
      // The last 40 points of the same mixture are held out as queries (never indexed).
      const all = dataset(7, N + 40);
      const vectors = all.slice(0, N);
      const queries = all.slice(N);
      const engine = annEngine({
        memtableMaxRecords: 8_000,
        compaction: { trigger: 2, maxMerge: 4 },
        ann: { minRows: 10_000, recallTarget: 0.95, calibrationQueries: 100 },
      });
      const index = { id: 'idx_ann', dimension: DIM, metric: metric as Metric };
      for (let i = 0; i < N; i += 1000) {
        await engine.upsert(
          index,
          '',
          vectors.slice(i, i + 1000).map((values, j) => ({ id: `r${i + j}`, values, metadata: { bucket: (i + j) % 100 } })),
        );
      }
      await engine.flush(index, '');
      const internals = await engine.describeNamespace(index, '');
      const annSlab = internals.slabs.find((s) => s.index.startsWith('IVF'));
      expect(annSlab, JSON.stringify(internals.slabs)).toBeDefined();
      // The calibrated knob for 0.95 is well below exhaustive search: the index really prunes.
      const nlist = Number(/^IVF(\d+)/.exec(annSlab!.index)![1]);
      const knob = annSlab!.calibration!.points.find((p) => p.recall >= 0.95)!.value;
      expect(knob).toBeLessThan(nlist / 4);

      const score = (q: number[]) => makeScorer(metric, Float32Array.from(q));
      const stored = vectors.map((v) => Float32Array.from(v));
      /** Rows deleted so far: never returned, and not in the truth. */
      const deleted = new Set<number>();
      const recallOf = async (filter: Filter | undefined) => {
        const predicate = compileFilter(filter);
        const eligible = stored.flatMap((_, i) => (!deleted.has(i) && predicate({ bucket: i % 100 }) ? [i] : []));
        let hits = 0;
        let total = 0;
        for (const q of queries) {
          const s = score(q);
          const truth = eligible
            .map((i) => ({ id: `r${i}`, score: s(stored[i]!, 0) }))
            .sort(compareHits(metric))
            .slice(0, 10);
          const got = await engine.query(index, '', { vector: q, topK: 10, filter });
          expect(got.matches).toHaveLength(truth.length);
          const ids = new Set(got.matches.map((m) => m.id));
          hits += truth.filter((t) => ids.has(t.id)).length;
          total += truth.length;
          for (const m of got.matches) {
            const row = Number(m.id.slice(1));
            expect(deleted.has(row), m.id).toBe(false);
            // Scores are exact (rescored from the slab's vectors), so they match brute force.
            expect(m.score).toBeCloseTo(s(stored[row]!, 0), 4);
          }
        }
        return hits / total;
      };
      expect(await recallOf(undefined)).toBeGreaterThanOrEqual(0.95);
      for (const keep of [1, 10, 50, 99]) {
        expect(await recallOf({ bucket: { $lt: keep } }), `recall with ${keep}% of rows`).toBeGreaterThanOrEqual(0.95);
      }
      // A third of the rows deleted and flushed: the ANN slab's rows are partly live, and a broad
      // filter's row test checks both (eligibleRows estimates their count). Wrapped in $and, the
      // same filter takes the bitmap path.
      for (let i = 0; i < N; i += 3) deleted.add(i);
      const ids = [...deleted].map((i) => `r${i}`);
      for (let i = 0; i < ids.length; i += 1000) await engine.delete(index, '', { ids: ids.slice(i, i + 1000) });
      await engine.flush(index, '');
      for (const filter of [{ bucket: { $lt: 50 } }, { bucket: { $gte: 1 } }] as Filter[]) {
        for (const f of [filter, { $and: [filter] }]) expect(await recallOf(f), JSON.stringify(f)).toBeGreaterThanOrEqual(0.95);
      }
      await engine.close();
    }, 120_000);
  });
}

describe('indexing flat slabs', () => {
  it('gives a lone flat slab too large to scan cheaply an ANN index once the namespace settles', async () => {
    const vectors = dataset(11, 6_000);
    const engine = new Engine({
      store: new MemoryObjectStore(),
      // One flush, nothing to merge it with: without indexing it would stay flat.
      config: { memtableMaxRecords: 100_000, exactBudget: 4096, tickMs: 60_000 },
    });
    const index = { id: 'idx_flat', dimension: DIM, metric: 'euclidean' as const };
    await engine.upsert(
      index,
      '',
      vectors.map((values, i) => ({ id: `r${i}`, values })),
    );
    await engine.flush(index, '');
    const slabs = (await engine.describeNamespace(index, '')).slabs;
    expect(slabs.map((s) => [s.level, s.records, s.index.startsWith('IVF')])).toEqual([[1, 6_000, true]]);
    const got = await engine.query(index, '', { vector: vectors[42]!, topK: 1 });
    expect(got.matches[0]?.id).toBe('r42');
    await engine.close();
  }, 60_000);

  it('indexes a flushed slab too large to scan once its flush is done, without waiting for quiet', async () => {
    const vectors = dataset(13, 6_000);
    const engine = new Engine({
      store: new MemoryObjectStore(),
      // A full memtable flushes itself; no merge is ever due, and the idle timer never fires: only
      // indexing after the flush can give the slab its index.
      config: { memtableMaxRecords: 6_000, exactBudget: 4096, tickMs: 60_000, indexIdleMs: 3_600_000, compaction: { trigger: 1_000_000, maxMerge: 8 } },
    });
    const index = { id: 'idx_flushed', dimension: DIM, metric: 'euclidean' as const };
    await engine.upsert(
      index,
      '',
      vectors.map((values, i) => ({ id: `r${i}`, values })),
    );
    let slabs = (await engine.describeNamespace(index, '')).slabs;
    for (const deadline = Date.now() + 30_000; !slabs.some((s) => s.index.startsWith('IVF')) && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      slabs = (await engine.describeNamespace(index, '')).slabs;
    }
    expect(slabs.map((s) => [s.level, s.records, s.index.startsWith('IVF')])).toEqual([[1, 6_000, true]]);
    const got = await engine.query(index, '', { vector: vectors[42]!, topK: 1 });
    expect(got.matches[0]?.id).toBe('r42');
    await engine.close();
  }, 60_000);

  it('groups a large memtable by the namespace quantizer and meets the recall target, before its flush and after', async () => {
    const all = dataset(21, 16_000 + 40);
    const queries = all.slice(16_000);
    const engine = new Engine({
      store: new MemoryObjectStore(),
      // The first 9,000 rows become an IVF slab; the next 7,000 stay in the memtable (grouped by
      // the slab's quantizer), then flush.
      config: {
        memtableMaxRecords: 100_000,
        exactBudget: 0,
        tickMs: 60_000,
        indexIdleMs: 3_600_000,
        compaction: { trigger: 1_000_000, maxMerge: 8 },
        ann: { minRows: 8_000, recallTarget: 0.95, calibrationQueries: 100 },
      },
    });
    const index = { id: 'idx_grouped', dimension: DIM, metric: 'euclidean' as const };
    const upsert = (from: number, to: number) =>
      engine.upsert(
        index,
        '',
        all.slice(from, to).map((values, i) => ({ id: `r${from + i}`, values, metadata: { bucket: (from + i) % 100 } })),
      );
    await upsert(0, 9_000);
    await engine.flush(index, '');
    for (
      const deadline = Date.now() + 30_000;
      !(await engine.describeNamespace(index, '')).slabs.some((s) => s.index.startsWith('IVF')) && Date.now() < deadline;
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (let from = 9_000; from < 16_000; from += 1_000) await upsert(from, from + 1_000);
    const grouped = async () => (await engine.describeNamespace(index, '')).memtable.grouped;
    for (const deadline = Date.now() + 30_000; (await grouped()) < 7_000 && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await grouped()).toBe(7_000);
    const recall = async (filter?: Filter) => {
      const predicate = compileFilter(filter);
      let found = 0;
      for (const query of queries) {
        const score = makeScorer('euclidean', Float32Array.from(query));
        const truth = all
          .slice(0, 16_000)
          .flatMap((v, i) => (predicate({ bucket: i % 100 }) ? [{ id: `r${i}`, score: score(Float32Array.from(v), 0) }] : []))
          .sort(compareHits('euclidean'))
          .slice(0, 10);
        const got = new Set((await engine.query(index, '', { vector: query, topK: 10, filter })).matches.map((m) => m.id));
        found += truth.filter((t) => got.has(t.id)).length;
      }
      return found / (10 * queries.length);
    };
    expect(await recall()).toBeGreaterThanOrEqual(0.95);
    await engine.flush(index, '');
    expect(await recall()).toBeGreaterThanOrEqual(0.95);
    expect(await recall({ bucket: { $lt: 30 } })).toBeGreaterThanOrEqual(0.95);
    await engine.close();
  }, 60_000);

  it('leaves a flat slab that is cheap to scan as it is', async () => {
    const engine = new Engine({ store: new MemoryObjectStore(), config: { memtableMaxRecords: 100_000, tickMs: 60_000 } });
    const index = { id: 'idx_small', dimension: DIM, metric: 'euclidean' as const };
    await engine.upsert(
      index,
      '',
      dataset(12, 2_000).map((values, i) => ({ id: `r${i}`, values })),
    );
    await engine.flush(index, '');
    expect((await engine.describeNamespace(index, '')).slabs.map((s) => [s.level, s.index])).toEqual([[0, 'flat']]);
    await engine.close();
  });
});

describe('several ANN slabs', () => {
  /**
   * Three IVF slabs of 8,000 rows. Each probes for its share of the namespace (fewer lists than
   * recall@10 on its own would need); a query whose neighbours all sit in one slab must still get
   * the target recall — that slab probes on once the top k shows it holds them.
   */
  for (const layout of ['spread', 'crowded'] as const) {
    it(`meet the recall target when neighbours are ${layout === 'spread' ? 'spread over the slabs' : 'crowded into one slab'}`, async () => {
      const rand = mulberry32(5);
      const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
      const centres = Array.from({ length: 48 }, () => Array.from({ length: DIM }, () => gauss() * 4));
      const point = (c: number) => centres[c]!.map((x) => x + gauss());
      const perSlab = 8_000;
      // Spread: every slab draws from every centre. Crowded: slab s holds centres 16s..16s+15 only.
      const centreOf = (i: number) => (layout === 'spread' ? Math.floor(rand() * 48) : Math.floor(i / perSlab) * 16 + Math.floor(rand() * 16));
      const vectors = Array.from({ length: 3 * perSlab }, (_, i) => point(centreOf(i)));
      const queries = Array.from({ length: 60 }, () => point(Math.floor(rand() * 48)));
      // Slabs never merge: each flush stays a slab of its own and is indexed alone.
      const engine = annEngine({
        memtableMaxRecords: 100_000,
        compaction: { trigger: 100, maxMerge: 2 },
        ann: { minRows: 5_000, recallTarget: 0.95, calibrationQueries: 100 },
      });
      const index = { id: `idx_${layout}`, dimension: DIM, metric: 'euclidean' as const };
      for (let s = 0; s < 3; s++) {
        const slice = vectors.slice(s * perSlab, (s + 1) * perSlab);
        await engine.upsert(
          index,
          '',
          slice.map((values, j) => ({ id: `r${s * perSlab + j}`, values })),
        );
        await engine.flush(index, '');
      }
      const slabs = (await engine.describeNamespace(index, '')).slabs;
      expect(
        slabs.map((s) => s.index.startsWith('IVF')),
        JSON.stringify(slabs),
      ).toEqual([true, true, true]);

      let hits = 0;
      for (const q of queries) {
        const s = makeScorer('euclidean', Float32Array.from(q));
        const truth = vectors
          .map((v, i) => ({ id: `r${i}`, score: s(Float32Array.from(v), 0) }))
          .sort(compareHits('euclidean'))
          .slice(0, 10);
        const got = new Set((await engine.query(index, '', { vector: q, topK: 10 })).matches.map((m) => m.id));
        hits += truth.filter((t) => got.has(t.id)).length;
      }
      expect(hits / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
      await engine.close();
    }, 120_000);
  }
});
