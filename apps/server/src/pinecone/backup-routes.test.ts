import { describe, expect, it } from 'vitest';
import { restCall, uniqueIndexName, useServer, type RestAnswer } from '../test-support.ts';

/**
 * Pinecone's backups and restore jobs on a real in-process server (PGlite, file store): the wire
 * shapes and status codes of API 2026-04, bad input naming its field, and what a restore holds —
 * the data at backup time, also once the source index is deleted.
 */
const running = useServer({ CONIFER_GC_GRACE_MS: '0' });
const DIM = 3;

async function createIndex(name: string): Promise<string> {
  const created = await restCall('POST', `${running().url}/indexes`, {
    body: { name, dimension: DIM, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } }, tags: { team: 'search' } },
  });
  expect(created.status).toBe(201);
  return created.body.host as string;
}

async function upsert(host: string, namespace: string, records: Array<[string, number]>): Promise<void> {
  const answer = await restCall('POST', `${host}/vectors/upsert`, {
    body: { namespace, vectors: records.map(([id, v]) => ({ id, values: [v, v, v], metadata: { v } })) },
  });
  expect(answer.status).toBe(200);
}

/** Every record of a namespace, id → first value. */
async function contents(host: string, namespace: string): Promise<Record<string, number>> {
  const listed = await restCall('GET', `${host}/vectors/list?namespace=${encodeURIComponent(namespace)}&limit=100`);
  const ids = (listed.body.vectors as Array<{ id: string }>).map((v) => v.id);
  if (ids.length === 0) return {};
  const fetched = await restCall('GET', `${host}/vectors/fetch?namespace=${encodeURIComponent(namespace)}&${ids.map((id) => `ids=${id}`).join('&')}`);
  return Object.fromEntries(Object.entries(fetched.body.vectors as Record<string, { values: number[] }>).map(([id, r]) => [id, r.values[0]!]));
}

async function waitForJob(id: string): Promise<RestAnswer> {
  for (let i = 0; i < 200; i++) {
    const job = await restCall('GET', `${running().url}/restore-jobs/${id}`);
    if (job.body.status === 'Completed' || job.body.status === 'Failed') return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`restore job ${id} did not finish`);
}

describe('backups and restore over REST', () => {
  it('backs up every namespace at one LSN; a restore holds that data and not later writes; the shapes are Pinecone’s', async () => {
    const { url } = running();
    const name = uniqueIndexName('bk');
    const host = await createIndex(name);
    await upsert(host, '', [
      ['a', 1],
      ['b', 2],
    ]);
    await upsert(host, 'tenant-1', [['c', 3]]);

    const created = await restCall('POST', `${url}/indexes/${name}/backups`, { body: { name: 'nightly', description: 'before the migration' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      source_index_name: name,
      name: 'nightly',
      description: 'before the migration',
      status: 'Ready',
      cloud: 'aws',
      region: 'us-east-1',
      dimension: DIM,
      metric: 'euclidean',
      record_count: 3,
      namespace_count: 2,
      tags: { team: 'search' },
    });
    expect(created.body.size_bytes).toBeGreaterThan(0);
    expect(created.body.backup_id).toMatch(/^[0-9a-f-]{36}$/);
    const backupId = created.body.backup_id as string;

    // Written after the backup: not in what it restores.
    await upsert(host, '', [
      ['a', 10],
      ['late', 4],
    ]);

    expect((await restCall('GET', `${url}/backups/${backupId}`)).body).toEqual(created.body);
    const listed = await restCall('GET', `${url}/indexes/${name}/backups`);
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((b: { backup_id: string }) => b.backup_id)).toEqual([backupId]);
    expect((await restCall('GET', `${url}/backups?limit=100`)).body.data.map((b: { backup_id: string }) => b.backup_id)).toContain(backupId);

    const restoredName = uniqueIndexName('restored');
    const restore = await restCall('POST', `${url}/backups/${backupId}/create-index`, {
      body: { name: restoredName, deletion_protection: 'disabled', tags: { env: 'test' } },
    });
    expect(restore.status).toBe(202);
    expect(Object.keys(restore.body).sort()).toEqual(['index_id', 'restore_job_id']);
    const job = await waitForJob(restore.body.restore_job_id);
    expect(job.body).toMatchObject({
      restore_job_id: restore.body.restore_job_id,
      backup_id: backupId,
      target_index_name: restoredName,
      target_index_id: restore.body.index_id,
      status: 'Completed',
      percent_complete: 100,
    });
    expect(typeof job.body.completed_at).toBe('string');
    expect((await restCall('GET', `${url}/restore-jobs?limit=100`)).body.data.map((j: { restore_job_id: string }) => j.restore_job_id)).toContain(
      restore.body.restore_job_id,
    );

    const index = await restCall('GET', `${url}/indexes/${restoredName}`);
    expect(index.body).toMatchObject({ name: restoredName, dimension: DIM, metric: 'euclidean', tags: { env: 'test' } });
    const restoredHost = index.body.host as string;
    expect(await contents(restoredHost, '')).toEqual({ a: 1, b: 2 });
    expect(await contents(restoredHost, 'tenant-1')).toEqual({ c: 3 });
    expect(await contents(host, '')).toEqual({ a: 10, b: 2, late: 4 });

    // Restoring into a name that is taken.
    const taken = await restCall('POST', `${url}/backups/${backupId}/create-index`, { body: { name: restoredName } });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ error: { code: 'ALREADY_EXISTS' }, status: 409 });
  });

  it('keeps a backup restorable after its source index is deleted; deleting it answers 202 and it is gone', async () => {
    const { url } = running();
    const name = uniqueIndexName('gone');
    const host = await createIndex(name);
    await upsert(host, 'ns', [
      ['x', 7],
      ['y', 8],
    ]);
    const backupId = (await restCall('POST', `${url}/indexes/${name}/backups`, { body: {} })).body.backup_id as string;
    expect((await restCall('DELETE', `${url}/indexes/${name}`)).status).toBe(202);

    const described = await restCall('GET', `${url}/backups/${backupId}`);
    expect(described.body).toMatchObject({ status: 'Ready', source_index_name: name });
    expect(typeof described.body.source_index_deleted_at).toBe('string');
    expect(described.body.name).toBeUndefined();
    expect((await restCall('GET', `${url}/indexes/${name}/backups`)).status).toBe(404);
    expect((await restCall('GET', `${url}/indexes/${name}/backups?include_deleted=true`)).body.data.map((b: { backup_id: string }) => b.backup_id)).toEqual([
      backupId,
    ]);

    const restoredName = uniqueIndexName('phoenix');
    const restore = await restCall('POST', `${url}/backups/${backupId}/create-index`, { body: { name: restoredName } });
    expect((await waitForJob(restore.body.restore_job_id)).body.status).toBe('Completed');
    const restoredHost = (await restCall('GET', `${url}/indexes/${restoredName}`)).body.host as string;
    expect(await contents(restoredHost, 'ns')).toEqual({ x: 7, y: 8 });

    expect((await restCall('DELETE', `${url}/backups/${backupId}`)).status).toBe(202);
    expect((await restCall('GET', `${url}/backups/${backupId}`)).status).toBe(404);
    expect((await restCall('DELETE', `${url}/backups/${backupId}`)).status).toBe(404);
    // The restored index is its own copy.
    expect(await contents(restoredHost, 'ns')).toEqual({ x: 7, y: 8 });
  });

  it('answers 404 for what does not exist and 400 naming the field for bad input', async () => {
    const { url } = running();
    const missing = await restCall('POST', `${url}/indexes/no-such-index/backups`, { body: {} });
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'Index no-such-index not found.' } } });
    expect((await restCall('GET', `${url}/backups/00000000-0000-7000-8000-000000000000`)).status).toBe(404);
    expect((await restCall('POST', `${url}/backups/00000000-0000-7000-8000-000000000000/create-index`, { body: { name: 'x' } })).status).toBe(404);
    expect((await restCall('GET', `${url}/restore-jobs/nope`)).status).toBe(404);

    const name = uniqueIndexName('bad');
    await createIndex(name);
    const badName = await restCall('POST', `${url}/indexes/${name}/backups`, { body: { name: 42 } });
    expect(badName.status).toBe(400);
    expect(badName.body.error.message).toMatch(/^name: /);
    const longDescription = await restCall('POST', `${url}/indexes/${name}/backups`, { body: { description: 'x'.repeat(1001) } });
    expect(longDescription.body.error.message).toMatch(/^description: must be at most 1000 characters/);
    expect((await restCall('GET', `${url}/backups?limit=0`)).body.error.message).toMatch(/^limit: /);
    expect((await restCall('GET', `${url}/restore-jobs?limit=101`)).body.error.message).toMatch(/^limit: /);

    const backupId = (await restCall('POST', `${url}/indexes/${name}/backups`, { body: {} })).body.backup_id as string;
    const noName = await restCall('POST', `${url}/backups/${backupId}/create-index`, { body: {} });
    expect(noName.status).toBe(400);
    expect(noName.body.error.message).toMatch(/^name: /);
    const badProtection = await restCall('POST', `${url}/backups/${backupId}/create-index`, { body: { name: 'fine-name', deletion_protection: 'maybe' } });
    expect(badProtection.body.error.message).toMatch(/^deletion_protection: /);
    const badIndexName = await restCall('POST', `${url}/backups/${backupId}/create-index`, { body: { name: 'Not_Valid' } });
    expect(badIndexName.body.error.message).toMatch(/^name: /);
    // The tags an index is created with: the same rules as creating an index, an own __proto__ key (JSON.parse makes one) refused by name.
    const protoTags = await restCall('POST', `${url}/backups/${backupId}/create-index`, {
      body: { name: 'fine-name', tags: JSON.parse('{"__proto__":"x","a":"b"}') },
    });
    expect(protoTags).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_ARGUMENT', message: "tags.__proto__: tag keys must not be '__proto__'" } },
    });
    const badTagKey = await restCall('POST', `${url}/backups/${backupId}/create-index`, { body: { name: 'fine-name', tags: { 'bad key': 'x' } } });
    expect(badTagKey.body.error.message).toBe("tags.bad key: tag keys may contain only alphanumerics, '_' and '-'");
    const stringTags = await restCall('POST', `${url}/backups/${backupId}/create-index`, { body: { name: 'fine-name', tags: 'team=search' } });
    expect(stringTags.body.error.message).toBe('tags: must be an object of strings');
    expect((await restCall('GET', `${url}/indexes/fine-name`)).status).toBe(404);
    // A backup of an index without namespaces holds nothing, and restores to an empty index.
    expect((await restCall('GET', `${url}/backups/${backupId}`)).body).toMatchObject({ status: 'Ready', record_count: 0, namespace_count: 0 });
  });
});
