import { readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { threadId } from 'node:worker_threads';
import { mulberry32 } from '@conifer/core';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSlab, exactTopRows, SlabReader, type SlabRow } from '@conifer/slab';
import { FaissIndex } from '@conifer/faiss';
import { DEFAULT_ANN_POLICY } from './ann-build.ts';
import { runCompactionJob, type CompactionJob } from './compaction-job.ts';
import { Compactor } from './compactor.ts';
import { threadName, threadNiceness } from './thread-priority.ts';

const rand = mulberry32(7);

function rows(ids: string[], lsn: number, dim: number): SlabRow[] {
  return ids.map((id) => ({ id, lsn, values: Float32Array.from({ length: dim }, () => rand()), metadata: { n: lsn } }));
}

async function slab(id: string, slabRows: SlabRow[], dim: number) {
  return { id, bytes: (await buildSlab(slabRows, { dimension: dim, level: 0 })).bytes };
}

/** A job merging one small slab of `ids` (dimension 4). */
async function tinyJob(name: string, ids: string[]): Promise<CompactionJob> {
  const dim = 4;
  return { inputs: [await slab(name, rows(ids, 1, dim), dim)], dropTombstones: true, dimension: dim, metric: 'cosine', level: 1, ann: DEFAULT_ANN_POLICY };
}

const compactors: Compactor[] = [];
function compactor(options: ConstructorParameters<typeof Compactor>[0] = {}): Compactor {
  const c = new Compactor(options);
  compactors.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(compactors.splice(0).map((c) => c.close()));
});

describe('Compactor', () => {
  it('runs a job in a worker thread with the same output as running it inline', async () => {
    const dim = 4;
    const older = await slab('a', rows(['1', '2', '3', '5'], 1, dim), dim);
    const newer = await slab('b', [...rows(['2', '4'], 2, dim), { id: '3', lsn: 2, values: null, metadata: undefined }], dim);
    const job: CompactionJob = { inputs: [older, newer], dropTombstones: true, dimension: dim, metric: 'cosine', level: 1, ann: DEFAULT_ANN_POLICY };
    const inline = await runCompactionJob(job);
    const pooled = await compactor().run(job);
    expect(inline.threadId).toBe(threadId);
    expect(pooled.threadId).not.toBe(threadId);
    expect(pooled.header).toEqual(inline.header);
    expect(Buffer.from(pooled.bytes).equals(Buffer.from(inline.bytes))).toBe(true);
    const merged = new SlabReader('out', pooled.bytes);
    // Newest version wins, the tombstone is dropped with the row it hid.
    expect(merged.ids).toEqual(['1', '2', '4', '5']);
    expect(merged.metadata(1)).toEqual({ n: 2 });
    // The caller's input buffers are not taken away (they are copied to shared memory).
    expect(older.bytes.byteLength).toBeGreaterThan(0);
    expect(new SlabReader('a', older.bytes).count).toBe(4);
  });

  it.runIf(process.platform === 'linux')('runs workers and V8 helper threads at the configured niceness, the event loop at its own', async () => {
    const dim = 4;
    const job: CompactionJob = {
      inputs: [await slab('a', rows(['1', '2'], 1, dim), dim)],
      dropTombstones: true,
      dimension: dim,
      metric: 'cosine',
      level: 1,
      ann: DEFAULT_ANN_POLICY,
    };
    const before = getPriority(0);
    const out = await compactor({ niceness: 7 }).run(job);
    expect(out.niceness).toBe(Math.max(7, before)); // measured by the worker thread itself
    expect(getPriority(0)).toBe(before); // this thread, the event loop, is untouched
    const helpers = readdirSync('/proc/self/task')
      .map(Number)
      .filter((tid) => threadName(tid) === 'V8Worker');
    expect(helpers.length).toBeGreaterThan(0);
    for (const tid of helpers) expect(threadNiceness(tid)).toBeGreaterThanOrEqual(7);
    expect(threadNiceness(process.pid)).toBe(before);
    expect(() => new Compactor({ niceness: 20 })).toThrow(/niceness/);
    expect(() => new Compactor({ niceness: 1.5 })).toThrow(/niceness/);
  });

  it('stops a worker idle for idleMs and starts a new one for the next job; idleMs 0 keeps it', async () => {
    const job = await tinyJob('a', ['1', '2']);
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const retiring = compactor({ idleMs: 1000 }); // long enough that a loaded CI machine still reuses it at once
    const first = await retiring.run(job);
    const soon = await retiring.run(job); // within idleMs of the first: the same worker
    await wait(1500);
    const later = await retiring.run(job);
    expect(soon.threadId).toBe(first.threadId);
    expect(later.threadId).not.toBe(first.threadId);
    expect(Buffer.from(later.bytes).equals(Buffer.from(first.bytes))).toBe(true);

    const keeping = compactor({ idleMs: 0 });
    const a = await keeping.run(job);
    await wait(300);
    expect((await keeping.run(job)).threadId).toBe(a.threadId);
    expect(() => new Compactor({ idleMs: -1 })).toThrow(/idleMs/);
    expect(() => new Compactor({ idleMs: 0.5 })).toThrow(/idleMs/);
  }, 30_000); // four worker starts, each loading faiss: seconds on a loaded machine

  it('stops a worker as soon as a job with retireAfterBytes of input is done, not before; smaller jobs keep it', async () => {
    const small = await tinyJob('a', ['1', '2']);
    const large = await tinyJob('b', ['1', '2', '3', '4', '5', '6']);
    const bytes = large.inputs[0]!.bytes.byteLength;
    expect(small.inputs[0]!.bytes.byteLength).toBeLessThan(bytes);
    const pool = compactor({ idleMs: 0, retireAfterBytes: bytes });
    const first = await pool.run(small);
    expect((await pool.run(small)).threadId).toBe(first.threadId);
    const big = await pool.run(large); // retired once done: its output is still handed back whole
    expect(big.threadId).toBe(first.threadId);
    expect(big.header?.count).toBe(6);
    expect((await pool.run(small)).threadId).not.toBe(first.threadId);
  }, 30_000);

  it('builds and calibrates an ANN index in the worker', async () => {
    const dim = 8;
    const ids = (from: number) => Array.from({ length: 600 }, (_, i) => String(from + i).padStart(6, '0'));
    const inputs = [await slab('a', rows(ids(0), 1, dim), dim), await slab('b', rows(ids(600), 2, dim), dim)];
    const out = await compactor().run({
      inputs,
      dropTombstones: true,
      dimension: dim,
      metric: 'euclidean',
      level: 1,
      ann: { ...DEFAULT_ANN_POLICY, minRows: 1000 },
    });
    expect(out.annBuild?.factory).toMatch(/^IVF\d+,Flat$/);
    const reader = new SlabReader('out', out.bytes);
    expect(reader.count).toBe(1200);
    expect(reader.header.ann?.calibration.length).toBeGreaterThan(0);
    // The slab's lists hold every row once, and row 5's list is the one its nearest centroid heads.
    const ivf = reader.ivfLayout()!;
    expect([...ivf.rows].sort((a, b) => a - b)).toEqual(Array.from({ length: 1200 }, (_, i) => i));
    const row5 = reader.vectorView(5)!;
    const nearest = exactTopRows(ivf.centroids, dim, row5, 1, 'euclidean', undefined)[0]!;
    expect([...ivf.rows.subarray(ivf.offsets[nearest]!, ivf.offsets[nearest + 1]!)]).toContain(5);
    // The donor is the trained index, empty: a later build adds its own rows to it.
    const donor = FaissIndex.deserialize((await reader.donorBytes())!);
    expect(donor.ntotal).toBe(0);
    donor.dispose();
  });

  it('moves an input the job owns to its worker and frees it with the job; inputs it does not own, or that share a buffer, stay the caller’s', async () => {
    const dim = 4;
    const a = await slab('a', rows(['1', '2', '4'], 1, dim), dim);
    const b = await slab('b', rows(['2', '3'], 2, dim), dim);
    const job = (inputs: CompactionJob['inputs']): CompactionJob => ({
      inputs,
      dropTombstones: true,
      dimension: dim,
      metric: 'cosine',
      level: 1,
      ann: DEFAULT_ANN_POLICY,
    });
    const expected = await runCompactionJob(job([a, b]));
    expect(a.bytes.byteLength).toBeGreaterThan(0); // shared inputs are never taken
    const runners: [string, (j: CompactionJob) => Promise<{ bytes: Uint8Array }>][] = [
      ['worker', (j) => compactor().run(j)],
      ['inline', (j) => compactor({ inline: true }).run(j)],
    ];
    for (const [mode, run] of runners) {
      const owned = { id: 'a', bytes: Uint8Array.from(a.bytes), owned: true };
      const notOwned = { id: 'b', bytes: Uint8Array.from(b.bytes) };
      const out = await run(job([owned, notOwned]));
      expect(Buffer.from(out.bytes).equals(Buffer.from(expected.bytes)), mode).toBe(true);
      expect(owned.bytes.byteLength, mode).toBe(0); // detached: moved to the worker, or freed inline
      expect(notOwned.bytes.byteLength, mode).toBe(b.bytes.byteLength);
      // Owned, but a view of a larger buffer (a pooled read): moving it would take the rest too.
      const pool = new Uint8Array(a.bytes.byteLength + 16);
      pool.set(a.bytes, 16);
      const view = { id: 'a', bytes: pool.subarray(16), owned: true };
      const fromView = await run(job([view, notOwned]));
      expect(Buffer.from(fromView.bytes).equals(Buffer.from(expected.bytes)), mode).toBe(true);
      expect(pool.byteLength, mode).toBe(a.bytes.byteLength + 16);
    }
  });

  it('fails a job whose input is corrupt and keeps serving the next ones', async () => {
    const c = compactor();
    const good = await slab('a', rows(['x', 'y'], 1, 2), 2);
    const bad = { id: 'bad', bytes: Uint8Array.from(good.bytes) };
    bad.bytes[0] = 0;
    const job = (inputs: CompactionJob['inputs']): CompactionJob => ({
      inputs,
      dropTombstones: false,
      dimension: 2,
      metric: 'dotproduct',
      level: 1,
      ann: DEFAULT_ANN_POLICY,
    });
    await expect(c.run(job([good, bad]))).rejects.toThrow(/slab bad: bad magic/);
    expect((await c.run(job([good]))).header?.count).toBe(2);
  });

  it('queues jobs beyond its workers and runs every one', async () => {
    const c = compactor({ workers: 1 });
    const jobs = await Promise.all(
      [0, 1, 2, 3].map(async (n) => {
        const input = await slab(`s${n}`, rows([`id${n}`], n + 1, 2), 2);
        return c.run({ inputs: [input], dropTombstones: false, dimension: 2, metric: 'euclidean', level: 1, ann: DEFAULT_ANN_POLICY });
      }),
    );
    expect(jobs.map((j) => new SlabReader('o', j.bytes).ids.at(0))).toEqual(['id0', 'id1', 'id2', 'id3']);
    expect(new Set(jobs.map((j) => j.threadId)).size).toBe(1);
  });

  it('returns no slab when every row is dropped, and refuses work once closed', async () => {
    const c = compactor();
    const onlyTombstone = await slab('t', [{ id: 'gone', lsn: 3, values: null, metadata: undefined }], 2);
    const out = await c.run({ inputs: [onlyTombstone], dropTombstones: true, dimension: 2, metric: 'euclidean', level: 1, ann: DEFAULT_ANN_POLICY });
    expect(out.header).toBeUndefined();
    await c.close();
    await expect(
      c.run({ inputs: [onlyTombstone], dropTombstones: true, dimension: 2, metric: 'euclidean', level: 1, ann: DEFAULT_ANN_POLICY }),
    ).rejects.toThrow(/closed/);
  });
});
