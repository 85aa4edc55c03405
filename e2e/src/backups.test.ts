import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Pinecone } from '@pinecone-database/pinecone';
import { afterAll, describe, expect, it } from 'vitest';
import { freePortRange, startServer, tempDataDir, type ServerProcess } from './server-process.ts';

/**
 * Backups and restore against the server as `npm start` runs it: driven by Pinecone's own
 * TypeScript client, then kill -9 in the middle of taking a backup and of a restore (failpoints
 * `backup:after-pin`, `restore:after-slab`). After the restart the interrupted backup is Failed
 * with its pins released, the interrupted restore runs again to completion, and the source and
 * other indexes hold what they held.
 */
const DIM = 4;
const spec = { serverless: { cloud: 'aws' as const, region: 'us-east-1' } };
const NAMESPACES = ['alpha', 'beta', 'gamma'];
const vec = (i: number) => [i, i + 1, i + 2, i + 3];

const dirs: string[] = [];
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/**
 * Each data directory keeps its ports across restarts (the client caches index hosts by name):
 * the main port and, after it, the indexes' own ports — a range below the ephemeral ports, so no
 * other test's server or client connection can hold one of them.
 */
const ports = new Map<string, { first: number; last: number }>();

async function start(dataDir: string, env: Record<string, string> = {}): Promise<{ server: ServerProcess; pc: Pinecone }> {
  if (!ports.has(dataDir)) ports.set(dataDir, await freePortRange(12));
  const { first, last } = ports.get(dataDir)!;
  const server = await startServer({
    dataDir,
    env: { CONIFER_GC_GRACE_MS: '0', CONIFER_PORT: String(first), CONIFER_INDEX_PORTS: `${first + 1}-${last}`, ...env },
  });
  servers.push(server);
  return { server, pc: new Pinecone({ apiKey: server.apiKey, controllerHostUrl: server.url, maxRetries: 0 }) };
}

/** Three namespaces of `per` records each, each flushed to a slab of its own by the backup. */
async function fill(pc: Pinecone, name: string, per: number): Promise<void> {
  await pc.createIndex({ name, dimension: DIM, metric: 'euclidean', spec, waitUntilReady: true });
  for (const ns of NAMESPACES) {
    await pc
      .index(name)
      .namespace(ns)
      .upsert({ records: Array.from({ length: per }, (_, i) => ({ id: `${ns}-${i}`, values: vec(i), metadata: { i } })) });
  }
}

async function counts(pc: Pinecone, name: string): Promise<Record<string, number>> {
  const stats = await pc.index(name).describeIndexStats();
  return Object.fromEntries(Object.entries(stats.namespaces ?? {}).map(([ns, s]) => [ns, s.recordCount]));
}

async function finished(pc: Pinecone, jobId: string) {
  for (let i = 0; i < 400; i++) {
    const job = await pc.describeRestoreJob(jobId);
    if (job.status === 'Completed' || job.status === 'Failed') return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`restore job ${jobId} did not finish`);
}

async function pinsIn(dataDir: string): Promise<string[]> {
  const root = join(dataDir, 'objects', '_backups');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

describe('backups with the official Pinecone client', () => {
  it('creates, lists, describes, restores and deletes backups', async () => {
    const dataDir = await tempDataDir();
    dirs.push(dataDir);
    const { pc } = await start(dataDir);
    await fill(pc, 'source', 20);

    const backup = await pc.createBackup({ indexName: 'source', name: 'first', description: 'all of it' });
    expect(backup).toMatchObject({ sourceIndexName: 'source', name: 'first', description: 'all of it', status: 'Ready', dimension: DIM, metric: 'euclidean' });
    expect(backup).toMatchObject({ recordCount: 60, namespaceCount: 3, cloud: 'aws', region: 'us-east-1' });
    expect((await pc.listBackups({ indexName: 'source' })).data?.map((b) => b.backupId)).toEqual([backup.backupId]);
    expect((await pc.listBackups({})).data?.map((b) => b.backupId)).toEqual([backup.backupId]);
    expect(await pc.describeBackup(backup.backupId)).toMatchObject({ backupId: backup.backupId, status: 'Ready' });

    await pc
      .index('source')
      .namespace('alpha')
      .upsert({ records: [{ id: 'after-backup', values: vec(99) }] });
    const restore = await pc.createIndexFromBackup({ backupId: backup.backupId, name: 'restored', tags: { from: 'backup' } });
    expect(restore.restoreJobId).toBeTruthy();
    expect(restore.indexId).toBeTruthy();
    const job = await finished(pc, restore.restoreJobId);
    expect(job).toMatchObject({
      backupId: backup.backupId,
      targetIndexName: 'restored',
      targetIndexId: restore.indexId,
      status: 'Completed',
      percentComplete: 100,
    });
    expect(job.createdAt).toBeInstanceOf(Date);
    expect(job.completedAt).toBeInstanceOf(Date);
    expect((await pc.listRestoreJobs({})).data.map((j) => j.restoreJobId)).toEqual([restore.restoreJobId]);

    expect(await counts(pc, 'restored')).toEqual({ alpha: 20, beta: 20, gamma: 20 });
    const query = await pc
      .index('restored')
      .namespace('beta')
      .query({ vector: vec(7), topK: 1, includeMetadata: true });
    expect(query.matches[0]).toMatchObject({ id: 'beta-7', metadata: { i: 7 } });
    expect((await pc.describeIndex('restored')).tags).toEqual({ from: 'backup' });

    await pc.deleteIndex('source');
    await pc.deleteBackup(backup.backupId);
    await expect(pc.describeBackup(backup.backupId)).rejects.toMatchObject({ name: 'PineconeNotFoundError' });
    expect(await pinsIn(dataDir)).toEqual([]);
    expect(await counts(pc, 'restored')).toEqual({ alpha: 20, beta: 20, gamma: 20 });
  });
});

describe('backups and restores across kill -9', () => {
  it('fails an interrupted backup cleanly, and completes an interrupted restore after the restart', async () => {
    const dataDir = await tempDataDir();
    dirs.push(dataDir);
    let { pc } = await start(dataDir);
    await fill(pc, 'source', 30);
    await fill(pc, 'bystander', 5);
    const good = await pc.createBackup({ indexName: 'source', name: 'good' });
    await pc
      .index('source')
      .namespace('beta')
      .upsert({ records: [{ id: 'later', values: vec(1) }] });
    await pc.deleteIndex('source');
    const settled = (await pc.listBackups({})).data ?? [];
    await servers.pop()!.stop();

    // kill -9 after the second namespace of a backup is pinned.
    let crashing = await start(dataDir, { CONIFER_FAILPOINTS: 'backup:after-pin@2' });
    await fill(crashing.pc, 'victim', 10);
    await expect(crashing.pc.createBackup({ indexName: 'victim', name: 'interrupted' })).rejects.toBeDefined();
    expect((await crashing.server.exited).signal).toBe('SIGKILL');
    servers.pop();

    ({ pc } = await start(dataDir));
    const backups = (await pc.listBackups({})).data ?? [];
    expect(backups.length).toBe(settled.length + 1);
    const interrupted = backups.find((b) => b.name === 'interrupted')!;
    expect(interrupted.status).toBe('Failed');
    // Only the good backup's pins remain, and the indexes hold what they held.
    expect((await pinsIn(dataDir)).sort()).toEqual(Array(3).fill(good.backupId));
    expect(await counts(pc, 'victim')).toEqual({ alpha: 10, beta: 10, gamma: 10 });
    expect(await counts(pc, 'bystander')).toEqual({ alpha: 5, beta: 5, gamma: 5 });
    await pc.deleteBackup(interrupted.backupId);
    await servers.pop()!.stop();

    // kill -9 after the second slab of a restore is copied; the restart runs the job again.
    crashing = await start(dataDir, { CONIFER_FAILPOINTS: 'restore:after-slab@2' });
    const restore = await crashing.pc.createIndexFromBackup({ backupId: good.backupId, name: 'phoenix' });
    expect((await crashing.server.exited).signal).toBe('SIGKILL');
    servers.pop();

    ({ pc } = await start(dataDir));
    const job = await finished(pc, restore.restoreJobId);
    expect(job.status).toBe('Completed');
    expect(await counts(pc, 'phoenix')).toEqual({ alpha: 30, beta: 30, gamma: 30 });
    expect(
      (
        await pc
          .index('phoenix')
          .namespace('beta')
          .fetch({ ids: ['later'] })
      ).records,
    ).toEqual({});
    expect(await counts(pc, 'victim')).toEqual({ alpha: 10, beta: 10, gamma: 10 });
    expect(await counts(pc, 'bystander')).toEqual({ alpha: 5, beta: 5, gamma: 5 });
  });
});
