import { rm } from 'node:fs/promises';
import { Conifer } from '@conifer/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, EMULATOR_STARTUP_TIMEOUT_MS, freshPrefix, startBackends, type BackendName, type Backends } from './emulators.ts';
import { startServer, tempDataDir, type ServerProcess } from './server-process.ts';

/**
 * The real server (`apps/server/src/main.ts`, what `npm start` runs) on each cloud backend,
 * configured the way docs/storage.md tells users to: `CONIFER_STORAGE=<cloud URL>` plus the cloud's
 * own standard variables (`AWS_ENDPOINT_URL_S3` and keys; `STORAGE_EMULATOR_HOST`;
 * `AZURE_STORAGE_CONNECTION_STRING`), nothing passed to a constructor. Small memtables make flushes
 * happen, so a restart finds log objects that the manifest already covers but that are still
 * retained (the state in which a Blob service that ignores `startFrom` used to make a namespace
 * unreadable). Each backend: write, SIGTERM and restart, then concurrent writes cut by SIGKILL and
 * restart; after each restart every acknowledged record is there with its values and metadata, a
 * query finds records by their own vectors, and the index takes new writes.
 */
let backends: Backends;
const dirs: string[] = [];

beforeAll(async () => {
  backends = await startBackends();
}, EMULATOR_STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await backends?.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const INDEX = 'cloud';
const DIM = 4;
/** Distinct for every i, exact in float32. */
const vec = (i: number): number[] => [i, i % 13, (7 * i) % 31, 1];
const ENGINE_ENV = { CONIFER_MEMTABLE_MAX_RECORDS: '400', CONIFER_COMPACTION_TRIGGER: '2' };

interface Expected {
  values: number[];
  metadata: Record<string, string | number>;
}

async function stop(server: ServerProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  server.child.kill(signal);
  const exit = await server.exited;
  if (signal === 'SIGTERM') expect(exit, `clean shutdown:\n${server.output()}`).toEqual({ code: 0, signal: null });
  else expect(exit.signal).toBe('SIGKILL');
}

/** Every expected record is there, exactly; none of `gone` is; a query by a record's own vector finds it first. */
async function verify(server: ServerProcess, expected: Map<string, Expected>, gone: Iterable<string> = []): Promise<void> {
  const ns = new Conifer({ url: server.url, apiKey: server.apiKey }).index(INDEX);
  const ids = [...expected.keys()];
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const { records } = await ns.fetch(chunk);
    for (const id of chunk) {
      expect(records[id], `acknowledged record ${id} is missing`).toBeDefined();
      expect(records[id]!.values, id).toEqual(expected.get(id)!.values);
      expect(records[id]!.metadata, id).toEqual(expected.get(id)!.metadata);
    }
  }
  const absent = [...gone];
  if (absent.length > 0) expect(Object.keys((await ns.fetch(absent)).records)).toEqual([]);
  for (const id of ids.filter((_, i) => i % Math.ceil(ids.length / 5) === 0)) {
    const { matches } = await ns.query({ vector: expected.get(id)!.values, topK: 3 });
    expect(matches[0]?.id, `query by ${id}'s own vector`).toBe(id);
  }
}

describe.each(BACKENDS)('the server on %s, configured only by its documented environment', (name: BackendName) => {
  it('keeps every acknowledged record across a SIGTERM restart and a SIGKILL in the middle of writes', async () => {
    const { emulator } = backends.byName.get(name)!;
    const dataDir = await tempDataDir();
    dirs.push(dataDir);
    const env = { ...emulator.env, CONIFER_STORAGE: emulator.storageUrl(freshPrefix('server')), ...ENGINE_ENV };
    const expected = new Map<string, Expected>();
    const gone = new Set<string>();

    // 1. 2,000 records in batches, some deleted and some updated, then a clean stop.
    let server = await startServer({ dataDir, env });
    const client = new Conifer({ url: server.url, apiKey: server.apiKey });
    await client.createIndex({ name: INDEX, dimension: DIM, metric: 'euclidean' });
    const ns = client.index(INDEX);
    for (let b = 0; b < 20; b++) {
      const records = Array.from({ length: 100 }, (_, j) => {
        const i = b * 100 + j;
        return { id: `r${i}`, values: vec(i), metadata: { batch: b, name: `record ${i}` } };
      });
      await ns.upsert(records);
      for (const r of records) expected.set(r.id, { values: r.values, metadata: r.metadata });
    }
    const deleted = Array.from({ length: 50 }, (_, i) => `r${i * 40}`);
    await ns.deleteMany(deleted);
    for (const id of deleted) {
      expected.delete(id);
      gone.add(id);
    }
    for (const i of [7, 777, 1999]) {
      await ns.update({ id: `r${i}`, setMetadata: { batch: -1 } });
      expected.get(`r${i}`)!.metadata.batch = -1;
    }
    await stop(server, 'SIGTERM');

    server = await startServer({ dataDir, env });
    await verify(server, expected, gone);

    // 2. Concurrent writers of new records, cut by SIGKILL after 30 acknowledged batches.
    const writer = new Conifer({ url: server.url, apiKey: server.apiKey }).index(INDEX);
    let acks = 0;
    let dead = false;
    const killed = server.exited.then(() => (dead = true));
    await Promise.all(
      Array.from({ length: 6 }, async (_, w) => {
        for (let seq = 0; !dead; seq++) {
          const records = Array.from({ length: 50 }, (_, j) => {
            const i = 10_000 + w * 100_000 + seq * 50 + j;
            return { id: `w${i}`, values: vec(i), metadata: { writer: w, seq } };
          });
          try {
            await writer.upsert(records);
          } catch {
            return; // the server died under this request: not acknowledged
          }
          for (const r of records) expected.set(r.id, { values: r.values, metadata: r.metadata });
          if (++acks === 30) server.child.kill('SIGKILL');
        }
      }),
    );
    await killed;
    await stop(server, 'SIGKILL');

    server = await startServer({ dataDir, env });
    try {
      await verify(server, expected, gone);
      // Still writable after the crash, and the write is visible at once.
      const { lsn } = await new Conifer({ url: server.url, apiKey: server.apiKey })
        .index(INDEX)
        .upsert([{ id: 'after', values: vec(999_999), metadata: { batch: 0 } }]);
      expect(lsn).toBeGreaterThan(0);
      expected.set('after', { values: vec(999_999), metadata: { batch: 0 } });
      await verify(server, new Map([['after', expected.get('after')!]]));
    } finally {
      await stop(server, 'SIGTERM');
    }
  });
});
