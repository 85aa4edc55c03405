import {
  compareHits,
  compileFilter,
  float32ArrayToNumbers,
  makeScorer,
  sparseDot,
  sparseToWire,
  toSparseF32,
  type Filter,
  type Metadata,
  type Metric,
  type SparseF32,
} from '@conifer/core';
import { MemoryObjectStore } from '@conifer/storage';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';
import { PageCache, SLAB_PAGE_SIZE } from '@conifer/slab';
import type { IndexHandle } from './data-plane.ts';
import { killable } from './testing/killable-store.ts';

/**
 * The engine against a reference model: random sequences of writes, reads, forced flushes
 * (which trigger compactions with a low trigger), clean restarts and crashes. After every read the
 * engine must agree exactly with brute force over the model — same ids, same scores, same order.
 */
const DIM = 3;
const NAMESPACES = ['', 'ns-a'];
const IDS = ['a', 'ab', 'abc', 'b', 'ba', 'c', 'cd', 'd', 'e', 'f'];
const GENRES = ['drama', 'comedy', 'news'];

interface ModelRecord {
  values: Float32Array;
  sparse: SparseF32 | undefined;
  metadata: Metadata | undefined;
}
type Model = Map<string, Map<string, ModelRecord>>;
type Sparse = { indices: number[]; values: number[] };

const valueArb = fc.integer({ min: -4, max: 4 }).map((n) => n / 2);
const vectorArb = fc.array(valueArb, { minLength: DIM, maxLength: DIM }).filter((v) => v.some((x) => x !== 0));
const metadataArb: fc.Arbitrary<Metadata | undefined> = fc.option(
  fc.record({ genre: fc.constantFrom(...GENRES), year: fc.integer({ min: 2000, max: 2005 }), tags: fc.subarray(['x', 'y', 'z']) }, { requiredKeys: [] }),
  { nil: undefined },
);
const filterArb: fc.Arbitrary<Filter> = fc.oneof(
  fc.constantFrom(...GENRES).map((g) => ({ genre: g })),
  fc.integer({ min: 2000, max: 2005 }).map((y) => ({ year: { $gte: y } })),
  fc.constantFrom('x', 'y', 'z').map((t) => ({ tags: { $in: [t] } })),
  fc
    .record({ a: fc.constantFrom(...GENRES), b: fc.integer({ min: 2000, max: 2005 }) })
    .map(({ a, b }) => ({ $or: [{ genre: { $ne: a } }, { year: { $lt: b } }] })),
  fc.boolean().map((e) => ({ genre: { $exists: e } })),
);
const sparseArb: fc.Arbitrary<Sparse | undefined> = fc.option(
  fc
    .uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 })
    .chain((indices) => fc.array(valueArb, { minLength: indices.length, maxLength: indices.length }).map((values) => ({ indices, values }))),
  { nil: undefined },
);
const nsArb = fc.constantFrom(...NAMESPACES);
const idArb = fc.constantFrom(...IDS);

type Command =
  | {
      kind: 'upsert';
      ns: string;
      /** A memory trim is started while the upsert runs. */
      duringTrim?: boolean;
      records: { id: string; values: number[]; sparseValues: Sparse | undefined; metadata: Metadata | undefined }[];
    }
  | { kind: 'update'; ns: string; id: string; values?: number[] | undefined; sparseValues?: Sparse | undefined; setMetadata?: Metadata | undefined }
  | { kind: 'updateByFilter'; ns: string; filter: Filter; setMetadata: Metadata }
  | { kind: 'fetchByMetadata'; ns: string; filter: Filter; limit: number }
  | { kind: 'delete'; ns: string; ids: string[] }
  | { kind: 'deleteByFilter'; ns: string; filter: Filter }
  | { kind: 'deleteAll'; ns: string }
  | {
      kind: 'query';
      ns: string;
      vector?: number[] | undefined;
      sparseVector?: Sparse | undefined;
      id?: string | undefined;
      topK: number;
      filter?: Filter | undefined;
    }
  | { kind: 'fetch'; ns: string; ids: string[] }
  | { kind: 'list'; ns: string; prefix: string; limit: number }
  | { kind: 'stats' }
  | { kind: 'flush'; ns: string }
  | { kind: 'restart' }
  | { kind: 'crash' }
  /** A memory trim: closes (in the background) what the budget says should not stay open. */
  | { kind: 'trim' }
  /** A query with a trim started while it runs. */
  | { kind: 'queryDuringTrim'; ns: string; vector: number[]; topK: number; filter?: Filter | undefined };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('upsert' as const),
      ns: nsArb,
      duringTrim: fc.boolean(),
      records: fc.array(fc.record({ id: idArb, values: vectorArb, sparseValues: sparseArb, metadata: metadataArb }), { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('update' as const),
      ns: nsArb,
      id: idArb,
      values: fc.option(vectorArb, { nil: undefined }),
      sparseValues: sparseArb,
      setMetadata: fc.option(fc.record({ genre: fc.constantFrom(...GENRES) }), { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('updateByFilter' as const),
      ns: nsArb,
      filter: filterArb,
      setMetadata: fc.record({ year: fc.integer({ min: 2000, max: 2005 }) }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fetchByMetadata' as const), ns: nsArb, filter: filterArb, limit: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), ns: nsArb, ids: fc.uniqueArray(idArb, { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteByFilter' as const), ns: nsArb, filter: filterArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteAll' as const), ns: nsArb }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('query' as const),
      ns: nsArb,
      vector: vectorArb,
      sparseVector: sparseArb,
      topK: fc.integer({ min: 1, max: 12 }),
      filter: fc.option(filterArb, { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('query' as const), ns: nsArb, id: idArb, topK: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fetch' as const), ns: nsArb, ids: fc.uniqueArray(idArb, { minLength: 1, maxLength: 4 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('list' as const),
      ns: nsArb,
      prefix: fc.constantFrom('', 'a', 'ab', 'b', 'z'),
      limit: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'stats' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flush' as const), ns: nsArb }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'trim' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('queryDuringTrim' as const),
      ns: nsArb,
      vector: vectorArb,
      topK: fc.integer({ min: 1, max: 12 }),
      filter: fc.option(filterArb, { nil: undefined }),
    }),
  },
);

function nsModel(model: Model, ns: string): Map<string, ModelRecord> {
  let m = model.get(ns);
  if (!m) model.set(ns, (m = new Map()));
  return m;
}

function bruteForce(
  records: Map<string, ModelRecord>,
  metric: Metric,
  vector: Float32Array,
  sparse: SparseF32 | undefined,
  topK: number,
  filter: Filter | undefined,
) {
  const score = makeScorer(metric, vector);
  const predicate = compileFilter(filter);
  const hits = [...records]
    .filter(([, r]) => predicate(r.metadata))
    .map(([id, r]) => ({ id, score: score(r.values, 0) + (sparse && r.sparse ? sparseDot(sparse, r.sparse) : 0) }));
  return hits.sort(compareHits(metric)).slice(0, topK);
}

interface Tuning {
  memtableMaxRecords: number;
  trigger: number;
  maxMerge: number;
  /** 0 closes every namespace no request holds at each trim; a few KiB some; the largest none. */
  memoryBudgetBytes: number;
  /**
   * Every slab read by range (vectors in memory only while trims promote them) through a page cache
   * of this many bytes, or undefined: the default (small slabs held whole).
   */
  rangedPageCache: number | undefined;
  /** A single node's promotion, or a cluster writer's (only what reads use). */
  promoteSlabs: 'always' | 'whenRead';
}
// Small, random thresholds: several overlapping slabs of different levels coexist, so shadowing,
// tombstones and newest-wins across slabs are exercised, not only the memtable.
const tuningArb: fc.Arbitrary<Tuning> = fc.record({
  memtableMaxRecords: fc.integer({ min: 2, max: 10 }),
  trigger: fc.integer({ min: 2, max: 5 }),
  maxMerge: fc.integer({ min: 2, max: 4 }),
  memoryBudgetBytes: fc.constantFrom(0, 4096, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  rangedPageCache: fc.constantFrom(undefined, 0, SLAB_PAGE_SIZE),
  promoteSlabs: fc.constantFrom('always' as const, 'whenRead' as const),
});

/** Namespaces trims closed, over every run: the trim commands must have closed some. */
const trims = { closed: 0 };

/** Trims at every step of the microtask queue (up to 200) until `op` settles: at each stage of its open, write or read. */
async function trimWhile(engine: Engine, op: Promise<unknown>): Promise<void> {
  let settled = false;
  op.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let step = 0; step < 200 && !settled; step++) {
    trims.closed += engine.trimMemory();
    await Promise.resolve();
  }
}

async function runScenario(metric: Metric, tuning: Tuning, commands: Command[]): Promise<void> {
  const disk = new MemoryObjectStore();
  const index: IndexHandle = { id: 'idx_test', dimension: DIM, metric };
  const config = {
    memtableMaxRecords: tuning.memtableMaxRecords,
    gcGraceMs: 0,
    tickMs: 60_000,
    compaction: { trigger: tuning.trigger, maxMerge: Math.max(tuning.trigger, tuning.maxMerge) },
    memoryBudgetBytes: tuning.memoryBudgetBytes,
    promoteSlabs: tuning.promoteSlabs,
  };
  let handle = killable(disk);
  const newEngine = () =>
    new Engine({
      store: handle.store,
      config,
      ...(tuning.rangedPageCache !== undefined ? { pages: new PageCache(tuning.rangedPageCache, { wholeUpTo: 0 }) } : {}),
    });
  let engine = newEngine();
  const model: Model = new Map();
  /** Namespaces that exist: created by an upsert. */
  const existing = new Set<string>();
  const toModelSparse = (sv: Sparse | undefined) => (sv && sv.indices.length > 0 ? toSparseF32(sv) : undefined);
  const wire = (r: ModelRecord) => ({
    values: float32ArrayToNumbers(r.values),
    ...(r.sparse ? { sparseValues: sparseToWire(r.sparse) } : {}),
    ...(r.metadata ? { metadata: r.metadata } : {}),
  });

  for (const cmd of commands) {
    switch (cmd.kind) {
      case 'upsert': {
        const upserted = engine.upsert(index, cmd.ns, cmd.records);
        if (cmd.duringTrim) await trimWhile(engine, upserted);
        await upserted;
        existing.add(cmd.ns);
        const m = nsModel(model, cmd.ns);
        for (const r of cmd.records) {
          m.set(r.id, {
            values: Float32Array.from(r.values),
            sparse: toModelSparse(r.sparseValues),
            metadata: r.metadata && Object.keys(r.metadata).length > 0 ? r.metadata : undefined,
          });
        }
        break;
      }
      case 'update': {
        if (cmd.values === undefined && cmd.setMetadata === undefined && cmd.sparseValues === undefined) break;
        const result = await engine.update(index, cmd.ns, cmd);
        const m = nsModel(model, cmd.ns);
        const current = m.get(cmd.id);
        expect(result.matchedRecords).toBe(current ? 1 : 0);
        if (current) {
          m.set(cmd.id, {
            values: cmd.values ? Float32Array.from(cmd.values) : current.values,
            sparse: toModelSparse(cmd.sparseValues) ?? current.sparse,
            metadata: cmd.setMetadata ? { ...current.metadata, ...cmd.setMetadata } : current.metadata,
          });
        }
        break;
      }
      case 'updateByFilter': {
        const result = await engine.update(index, cmd.ns, { filter: cmd.filter, setMetadata: cmd.setMetadata });
        const m = nsModel(model, cmd.ns);
        const predicate = compileFilter(cmd.filter);
        let matched = 0;
        for (const [id, r] of [...m]) {
          if (!predicate(r.metadata)) continue;
          m.set(id, { ...r, metadata: { ...r.metadata, ...cmd.setMetadata } });
          matched++;
        }
        expect(result.matchedRecords).toBe(matched);
        break;
      }
      case 'fetchByMetadata': {
        const got: { id: string }[] = [];
        let token: string | undefined;
        for (let page = 0; page < 50; page++) {
          const res = await engine.fetchByMetadata(index, cmd.ns, { filter: cmd.filter, limit: cmd.limit, after: token });
          expect(res.records.length).toBeLessThanOrEqual(cmd.limit);
          got.push(...res.records);
          token = res.next;
          if (!token) break;
        }
        const m = nsModel(model, cmd.ns);
        const predicate = compileFilter(cmd.filter);
        const want = [...m]
          .filter(([, r]) => predicate(r.metadata))
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([id, r]) => ({ id, ...wire(r) }));
        expect(got).toEqual(want);
        break;
      }
      case 'delete':
        await engine.delete(index, cmd.ns, { ids: cmd.ids });
        for (const id of cmd.ids) nsModel(model, cmd.ns).delete(id);
        break;
      case 'deleteByFilter': {
        await engine.delete(index, cmd.ns, { filter: cmd.filter });
        const m = nsModel(model, cmd.ns);
        const predicate = compileFilter(cmd.filter);
        for (const [id, r] of [...m]) if (predicate(r.metadata)) m.delete(id);
        break;
      }
      case 'deleteAll':
        await engine.delete(index, cmd.ns, { deleteAll: true });
        nsModel(model, cmd.ns).clear();
        break;
      case 'query': {
        const m = nsModel(model, cmd.ns);
        const sparseVector = metric === 'dotproduct' ? cmd.sparseVector : undefined;
        if (cmd.sparseVector && metric !== 'dotproduct' && cmd.vector) {
          await expect(engine.query(index, cmd.ns, { vector: cmd.vector, sparseVector: cmd.sparseVector, topK: cmd.topK })).rejects.toMatchObject({
            code: 'INVALID_ARGUMENT',
          });
        }
        const got = await engine.query(index, cmd.ns, {
          vector: cmd.vector,
          sparseVector,
          id: cmd.id,
          topK: cmd.topK,
          filter: cmd.filter,
          includeValues: true,
          includeMetadata: true,
        });
        const vector = cmd.id !== undefined ? m.get(cmd.id)?.values : Float32Array.from(cmd.vector!);
        const want = vector ? bruteForce(m, metric, vector, toModelSparse(sparseVector), cmd.topK, cmd.filter) : [];
        expect(got.matches.map((h) => [h.id, h.score])).toEqual(want.map((h) => [h.id, h.score]));
        for (const hit of got.matches) {
          const { values, sparseValues, metadata } = hit;
          expect({ values, ...(sparseValues ? { sparseValues } : {}), ...(metadata ? { metadata } : {}) }).toEqual(wire(m.get(hit.id)!));
        }
        break;
      }
      case 'trim':
        trims.closed += engine.trimMemory();
        break;
      case 'queryDuringTrim': {
        const pending = engine.query(index, cmd.ns, { vector: cmd.vector, topK: cmd.topK, filter: cmd.filter, includeMetadata: true });
        await trimWhile(engine, pending);
        const got = await pending;
        const want = bruteForce(nsModel(model, cmd.ns), metric, Float32Array.from(cmd.vector), undefined, cmd.topK, cmd.filter);
        expect(got.matches.map((h) => [h.id, h.score])).toEqual(want.map((h) => [h.id, h.score]));
        break;
      }
      case 'fetch': {
        const got = await engine.fetch(index, cmd.ns, cmd.ids);
        const m = nsModel(model, cmd.ns);
        const want = Object.fromEntries(cmd.ids.filter((id) => m.has(id)).map((id) => [id, { id, ...wire(m.get(id)!) }]));
        expect(got.records).toEqual(want);
        break;
      }
      case 'list': {
        const ids: string[] = [];
        let token: string | undefined;
        for (let page = 0; page < 50; page++) {
          const got = await engine.list(index, cmd.ns, { prefix: cmd.prefix, limit: cmd.limit, after: token });
          expect(got.ids.length).toBeLessThanOrEqual(cmd.limit);
          ids.push(...got.ids);
          token = got.next;
          if (!token) break;
        }
        const want = [...nsModel(model, cmd.ns).keys()].filter((id) => id.startsWith(cmd.prefix)).sort();
        expect(ids).toEqual(want);
        break;
      }
      case 'stats': {
        const got = await engine.listNamespaces(index);
        const want = [...existing].map((name) => ({ name, recordCount: nsModel(model, name).size }));
        const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
        expect([...got].sort(byName)).toEqual(want.sort(byName));
        break;
      }
      case 'flush':
        await engine.flush(index, cmd.ns);
        break;
      case 'restart':
        await engine.close();
        handle = killable(disk);
        engine = newEngine();
        break;
      case 'crash':
        handle.kill();
        engine.abandon();
        handle = killable(disk);
        engine = newEngine();
        break;
    }
  }
  await engine.close();
}

describe('engine against a reference model', () => {
  for (const metric of ['cosine', 'euclidean', 'dotproduct'] as const) {
    it(`agrees with brute force over random operation sequences (${metric})`, async () => {
      await fc.assert(
        fc.asyncProperty(tuningArb, fc.array(commandArb, { minLength: 1, maxLength: 80 }), (tuning, commands) => runScenario(metric, tuning, commands)),
        { numRuns: 150 },
      );
      expect(trims.closed).toBeGreaterThan(0);
    }, 120_000);
  }
});

describe('slabs read by range under the memory budget', () => {
  it('promotes their vectors when the budget has room and sheds them when it has not, answering alike', async () => {
    const store = new MemoryObjectStore();
    const index: IndexHandle = { id: 'idx_ranged', dimension: DIM, metric: 'euclidean' };
    const records = Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, values: [i % 7, i % 11, i % 13] }));
    const ranged = (memoryBudgetBytes: number) =>
      new Engine({ store, config: { memoryBudgetBytes, tickMs: 60_000 }, pages: new PageCache(0, { wholeUpTo: 0 }) });
    const query = { vector: records[42]!.values, topK: 3 };

    // No room: the slab a flush just built holds its vectors until a trim sheds them.
    const tight = ranged(0);
    await tight.upsert(index, 'ns', records);
    await tight.flush(index, 'ns');
    const fresh = await tight.query(index, 'ns', query);
    tight.trimMemory();
    expect(tight.memory().shed).toBeGreaterThan(0);
    expect(await tight.query(index, 'ns', query)).toEqual(fresh);
    expect((await tight.fetch(index, 'ns', ['r42'])).records.r42!.values).toEqual(records[42]!.values);
    await tight.close();

    // Room: a reopened namespace's vectors are read back into memory, and answers do not change.
    const roomy = ranged(Number.MAX_SAFE_INTEGER);
    expect(await roomy.query(index, 'ns', query)).toEqual(fresh);
    await roomy.warm(index, 'ns');
    expect(roomy.memory().promoted).toBeGreaterThan(0);
    expect(await roomy.query(index, 'ns', query)).toEqual(fresh);
    await roomy.close();
  });

  it('promotes, for a cluster writer (promoteSlabs: whenRead), only the namespaces reads use', async () => {
    const store = new MemoryObjectStore();
    const index: IndexHandle = { id: 'idx_writer', dimension: DIM, metric: 'euclidean' };
    const records = Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, values: [i % 7, i % 11, i % 13] }));
    const seed = new Engine({ store, config: { tickMs: 60_000 } });
    await seed.upsert(index, 'written', records);
    await seed.upsert(index, 'read', records);
    await seed.close();
    const opened = async (promoteSlabs: 'always' | 'whenRead') => {
      const engine = new Engine({
        store,
        config: { memoryBudgetBytes: Number.MAX_SAFE_INTEGER, tickMs: 60_000, promoteSlabs },
        pages: new PageCache(0, { wholeUpTo: 0 }),
      });
      // Opened by a write: its slabs are offered for promotion once the write is answered.
      await engine.upsert(index, 'written', [{ id: 'new', values: [1, 2, 3] }]);
      await new Promise((resolve) => setImmediate(resolve));
      engine.trimMemory();
      return engine;
    };
    const always = await opened('always');
    expect(always.memory().promoted).toBeGreaterThan(0);
    await always.close();

    const writer = await opened('whenRead');
    expect(writer.memory().promoted).toBe(0);
    // A read (no query node live, the writer answers it) makes the namespace worth promoting.
    const query = { vector: records[42]!.values, topK: 3 };
    const before = await writer.query(index, 'read', query);
    await new Promise((resolve) => setImmediate(resolve));
    writer.trimMemory();
    expect(writer.memory().promoted).toBeGreaterThan(0);
    expect(await writer.query(index, 'read', query)).toEqual(before);
    await writer.close();
  });
});
