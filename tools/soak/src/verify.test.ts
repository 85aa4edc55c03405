import { mulberry32 } from '@conifer/core';
import { describe, expect, it } from 'vitest';
import type { Problem } from './checks.ts';
import { MemoryApi } from './memory-api.ts';
import { NamespaceModel, type Write } from './model.ts';
import { verifyAll, type VerifyTarget } from './verify.ts';
import { deleteFilter, INDEXES, keyId, metadata, metadataPatch, namespacesOf, Rng, vector, type NamespaceSpec } from './workload.ts';

/**
 * The end check against an in-memory server that did exactly what the model says, then against
 * the same server with one thing corrupted behind the model's back: each corruption must be
 * reported, precisely.
 */
async function setUp(options: { seed: number; unknownEvery?: number } = { seed: 1 }) {
  const rng = new Rng(mulberry32(options.seed));
  const api = new MemoryApi(new Map(INDEXES.map((i) => [i.name, i.metric])));
  const targets: VerifyTarget[] = [0, 1].flatMap((client) =>
    namespacesOf(client).map((spec) => ({ spec, model: new NamespaceModel(spec.index.name, spec.name) })),
  );
  let version = 0;
  for (let step = 0; step < 400; step++) {
    const { spec, model } = rng.pick(targets);
    const keys = Array.from({ length: 40 }, (_, k) => keyId(spec, k));
    let write: Write;
    const r = rng.float();
    if (r < 0.5)
      write = {
        kind: 'upsert',
        records: rng.sample(keys, rng.int(1, 8)).map((id) => ({ id, values: vector(rng, spec.index.dimension), metadata: metadata(rng, ++version, 0) })),
      };
    else if (r < 0.75) write = { kind: 'update', id: rng.pick(keys), values: vector(rng, spec.index.dimension), setMetadata: metadataPatch(rng, ++version) };
    else if (r < 0.9) write = { kind: 'delete', ids: rng.sample(keys, 3) };
    else if (r < 0.97) write = { kind: 'deleteByFilter', filter: deleteFilter(rng) };
    else write = spec.name === '' ? { kind: 'deleteAll' } : { kind: 'deleteNamespace' };
    // Now and then the answer is lost: the server applied the write or not, the model knows neither.
    const unknown = options.unknownEvery !== undefined && step % options.unknownEvery === 0;
    const applied = !unknown || rng.chance(0.5);
    if (applied) await send(api, spec, write);
    model.apply(write, unknown ? 'unknown' : 'acknowledged');
  }
  return { api, targets };
}

async function send(api: MemoryApi, spec: NamespaceSpec, write: Write): Promise<void> {
  const [index, ns] = [spec.index.name, spec.name];
  switch (write.kind) {
    case 'upsert':
      return api.upsert(index, ns, write.records);
    case 'update':
      await api.update(index, ns, write);
      return;
    case 'delete':
      return api.deleteIds(index, ns, write.ids);
    case 'deleteByFilter':
      return api.deleteByFilter(index, ns, write.filter);
    case 'deleteAll':
      return api.deleteAll(index, ns);
    case 'deleteNamespace':
      return api.deleteNamespace(index, ns).catch(() => undefined);
  }
}

async function check(api: MemoryApi, targets: VerifyTarget[]) {
  const problems: (Problem & { namespace: string })[] = [];
  const counts = await verifyAll(targets, [api], (target, found) => problems.push(...found.map((p) => ({ ...p, namespace: target.spec.name }))));
  return { problems, counts };
}

/** A record the model is sure of, and where it lives. */
function presentRecord(api: MemoryApi, targets: VerifyTarget[]) {
  for (const { spec, model } of targets) {
    const id = model.presentIds().sort()[0];
    if (id !== undefined) return { spec, id, record: api.data.get(spec.index.name)!.get(spec.name)!.get(id)! };
  }
  throw new Error('no record');
}

describe('the end check', () => {
  it('passes a server that holds exactly what was acknowledged, and counts what it checked', async () => {
    const { api, targets } = await setUp();
    const { problems, counts } = await check(api, targets);
    expect(problems).toEqual([]);
    expect(counts.recordsChecked).toBeGreaterThan(100);
    expect(counts.deletedIdsChecked).toBeGreaterThan(10);
    expect(counts.namespacesChecked + counts.deletedNamespacesChecked).toBe(targets.length);
    expect(counts.queriesChecked).toBeGreaterThan(targets.length);
  });

  it('passes whichever way writes with lost answers went', async () => {
    for (const seed of [2, 3, 4, 5]) {
      const { api, targets } = await setUp({ seed, unknownEvery: 7 });
      expect((await check(api, targets)).problems).toEqual([]);
    }
  });

  it('reports an acknowledged record the server lost', async () => {
    const { api, targets } = await setUp();
    const { spec, id } = presentRecord(api, targets);
    api.data.get(spec.index.name)!.get(spec.name)!.delete(id);
    const { problems } = await check(api, targets);
    expect(problems.map((p) => [p.check, p.id, p.namespace])).toEqual(
      expect.arrayContaining([
        ['list: id missing', id, spec.name],
        ['fetch: record missing', id, spec.name],
      ]),
    );
    expect(problems.every((p) => p.id === id || p.check.includes('record count'))).toBe(true);
  });

  it('reports a value off by one float32 step and a metadata field changed', async () => {
    const { api, targets } = await setUp();
    const { id, record } = presentRecord(api, targets);
    record.values[0] = Math.fround(record.values[0]! + 2 ** -20);
    let { problems } = await check(api, targets);
    expect(problems.filter((p) => p.check === 'fetch: wrong or unexpected record').map((p) => p.id)).toEqual([id]);

    const again = await setUp();
    const target = presentRecord(again.api, again.targets);
    target.record.metadata = { ...target.record.metadata, n: -1 };
    ({ problems } = await check(again.api, again.targets));
    expect(problems.map((p) => [p.check, p.id])).toEqual([['fetch: wrong or unexpected record', target.id]]);
  });

  it('reports a deleted record that came back, an id never written, and a deleted namespace that came back', async () => {
    const { api, targets } = await setUp();
    const deleted = targets.find((t) => t.model.ids().some((id) => t.model.possible(id)[0] === null) && t.model.existence()[0])!;
    const gone = deleted.model.ids().find((id) => deleted.model.possible(id)[0] === null)!;
    const ns = api.data.get(deleted.spec.index.name)!.get(deleted.spec.name)!;
    ns.set(gone, { values: Array(deleted.spec.index.dimension).fill(1), metadata: { color: 'red' } });
    ns.set('stranger', { values: Array(deleted.spec.index.dimension).fill(1), metadata: {} });
    let { problems } = await check(api, targets);
    expect(problems.map((p) => [p.check, p.id])).toEqual(
      expect.arrayContaining([
        ['list: deleted id listed', gone],
        ['list: id never written here', 'stranger'],
        ['fetch: wrong or unexpected record', gone],
      ]),
    );

    const again = await setUp();
    const dropped = again.targets.find((t) => t.spec.name !== '' && t.model.presentIds().length > 0)!;
    await again.api.deleteNamespace(dropped.spec.index.name, dropped.spec.name);
    dropped.model.apply({ kind: 'deleteNamespace' }, 'acknowledged');
    expect((await check(again.api, again.targets)).problems).toEqual([]);
    again.api.data.get(dropped.spec.index.name)!.set(dropped.spec.name, new Map());
    ({ problems } = await check(again.api, again.targets));
    expect(problems.map((p) => [p.check, p.namespace])).toEqual([['end: listNamespaces: namespace exists', dropped.spec.name]]);
  });

  it('reports a query that misses a record', async () => {
    const { api, targets } = await setUp();
    const query = api.query.bind(api);
    api.query = async (index, namespace, request) => (await query(index, namespace, request)).slice(1);
    const { problems } = await check(api, targets);
    expect(problems.some((p) => p.check.startsWith('query: eligible record missing'))).toBe(true);
    expect(problems.some((p) => p.check === 'end: query by own vector')).toBe(true);
  });
});
