import { rm } from 'node:fs/promises';
import { Conifer } from '@conifer/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, tempDataDir, type ServerProcess } from './server-process.ts';

/**
 * kill -9 of a real server process (the `npm start` entry point) during concurrent upserts over
 * HTTP. Each round kills the server at a different point: at a random moment, and exactly inside
 * each step of the write path through failpoints (durable-but-unacknowledged append, between slab
 * and manifest of a flush, between slab and manifest of a compaction, in the middle of GC). After
 * each restart every acknowledged write must be present with at least its acknowledged version,
 * and the index must still accept writes.
 */
const INDEX = 'crash';
const DIM = 8;
const WRITERS = 12;
const BATCH = 25;
const HOT_IDS = ['hot-a', 'hot-b', 'hot-c', 'hot-d'];
// Tiny thresholds: flushes, compactions and GC run constantly while the writers write.
const ENGINE_ENV = {
  CONIFER_MEMTABLE_MAX_RECORDS: '150',
  CONIFER_MEMTABLE_MAX_AGE_MS: '200',
  CONIFER_COMPACTION_TRIGGER: '2',
  CONIFER_GC_GRACE_MS: '0',
};

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/**
 * Per "ns/id": every version sent, and the LSN of each acknowledged one. Concurrent writers of one
 * id are ordered by LSN (server order), not by version (client order), so the surviving version
 * must be the acknowledged one with the highest LSN, or a durable write that was in flight.
 */
interface IdWrites {
  sent: Set<number>;
  acked: Map<number, number>; // version → lsn
}
type Acked = Map<string, IdWrites>;

function writesOf(acked: Acked, key: string): IdWrites {
  let w = acked.get(key);
  if (!w) acked.set(key, (w = { sent: new Set(), acked: new Map() }));
  return w;
}

/** Writes from WRITERS concurrent clients until the server dies (or `killAfterAcks` is reached). */
async function writeUntilDeath(server: ServerProcess, versionBase: number, killAfterAcks?: number): Promise<Acked> {
  const client = new Conifer({ url: server.url, apiKey: server.apiKey });
  const acked: Acked = new Map();
  let version = versionBase;
  let acks = 0;
  let dead = false;
  void server.exited.then(() => (dead = true));
  const writer = async (w: number) => {
    for (let seq = 0; !dead; seq++) {
      const ns = seq % 3 === 0 ? 'other' : '';
      const v = ++version;
      const records = Array.from({ length: BATCH }, (_, i) => ({
        id: i === 0 ? HOT_IDS[(w + seq) % HOT_IDS.length]! : `w${w}-s${seq}-r${i}-v${versionBase}`,
        values: [v, w, seq, i, 1, 2, 3, 4],
        metadata: { writer: w, version: v },
      }));
      for (const r of records) writesOf(acked, `${ns}/${r.id}`).sent.add(v);
      let lsn: number;
      try {
        ({ lsn } = await client.index(INDEX).namespace(ns).upsert(records));
      } catch {
        return; // the server died under this request: not acknowledged
      }
      for (const r of records) writesOf(acked, `${ns}/${r.id}`).acked.set(v, lsn);
      if (killAfterAcks !== undefined && ++acks === killAfterAcks) server.child.kill('SIGKILL');
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  const { signal } = await server.exited;
  expect(signal).toBe('SIGKILL');
  return acked;
}

async function verifyAcked(server: ServerProcess, acked: Acked): Promise<void> {
  const client = new Conifer({ url: server.url, apiKey: server.apiKey });
  const byNs = new Map<string, string[]>();
  for (const [key, writes] of acked) {
    if (writes.acked.size === 0) continue;
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    // Push, never copy: a slow failpoint round acknowledges hundreds of thousands of ids.
    let ids = byNs.get(ns);
    if (!ids) byNs.set(ns, (ids = []));
    ids.push(key.slice(slash + 1));
  }
  for (const [ns, ids] of byNs) {
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      const { records } = await client.index(INDEX).namespace(ns).fetch(chunk);
      for (const id of chunk) {
        expect(records[id], `acknowledged ${ns}/${id} lost`).toBeDefined();
        const writes = acked.get(`${ns}/${id}`)!;
        const stored = records[id]!.values[0]!;
        expect(writes.sent.has(stored), `${ns}/${id} holds version ${stored}, which was never written`).toBe(true);
        const newestAcked = [...writes.acked].reduce((a, b) => (b[1] > a[1] ? b : a));
        const storedLsn = writes.acked.get(stored);
        // An acknowledged version survives only if no later acknowledged write replaced it.
        if (storedLsn !== undefined)
          expect(storedLsn, `${ns}/${id}: version ${stored} (LSN ${storedLsn}) shadows acknowledged version ${newestAcked[0]} (LSN ${newestAcked[1]})`).toBe(
            newestAcked[1],
          );
      }
    }
  }
}

describe('kill -9 of the server during concurrent upserts', () => {
  it('loses no acknowledged write, at a random moment and inside every step of the write path', async () => {
    const dataDir = await tempDataDir();
    dirs.push(dataDir);
    let server = await startServer({ dataDir, env: ENGINE_ENV });
    await new Conifer({ url: server.url, apiKey: server.apiKey }).createIndex({ name: INDEX, dimension: DIM, metric: 'euclidean' });

    const rounds: { failpoints?: string; killAfterAcks?: number }[] = [
      { killAfterAcks: 60 },
      { failpoints: 'log:after-append@40' },
      { failpoints: 'flush:after-slab@2' },
      { failpoints: 'flush:after-manifest@3' },
      { failpoints: 'compaction:after-slab@1' },
      { failpoints: 'compaction:after-manifest@2' },
      { failpoints: 'gc:mid@2' },
      { killAfterAcks: 150 },
    ];
    const everAcked: Acked = new Map();
    for (const [round, { failpoints, killAfterAcks }] of rounds.entries()) {
      if (round > 0) server = await startServer({ dataDir, env: { ...ENGINE_ENV, ...(failpoints ? { CONIFER_FAILPOINTS: failpoints } : {}) } });
      const acked = await writeUntilDeath(server, (round + 1) * 1_000_000, killAfterAcks);
      if (failpoints) expect(server.output()).toContain(`failpoint ${failpoints.split('@')[0]}`);
      for (const [k, v] of acked) everAcked.set(k, v);
      const restarted = await startServer({ dataDir, env: ENGINE_ENV });
      try {
        await verifyAcked(restarted, acked);
      } finally {
        restarted.child.kill('SIGTERM');
        await restarted.exited;
      }
    }
    // Everything acknowledged in any round is still there at the end (nothing lost to later GC).
    const last = await startServer({ dataDir, env: ENGINE_ENV });
    try {
      const newest = new Map([...everAcked].filter(([key]) => !HOT_IDS.some((h) => key.endsWith(`/${h}`))));
      await verifyAcked(last, newest);
      expect(newest.size).toBeGreaterThan(1000);
    } finally {
      last.child.kill('SIGTERM');
      await last.exited;
    }
  });
});
