import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortRange } from '@conifer/emulators';
import { JsonClient } from './http-client.ts';
import { runLoadGenerator, type LoadJob } from './load-generator.ts';
import { startServer, type ServerProcess } from './server-process.ts';

/** The pinned load generator's two protocols against a real server: each answer is the query's own record. */
describe('load generator (REST and gRPC, a process of its own)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conifer-load-generator-'));
  let server: ServerProcess;
  let indexUrl: string;
  const vectors = Array.from({ length: 20 }, (_, i) => Array.from({ length: 8 }, (_, d) => (d === i % 8 ? 1 + i : (i * 7 + d) % 5) / 10));

  beforeAll(async () => {
    const ports = await freePortRange(2);
    server = await startServer({
      dataDir: join(dir, 'data'),
      env: { CONIFER_RATE_LIMITS: 'off', CONIFER_INDEX_HOSTS: 'ports', CONIFER_INDEX_PORTS: `${ports.first}-${ports.last}` },
    });
    const control = new JsonClient(server.url, server.apiKey);
    const created = (await control.call(
      'POST',
      '/indexes',
      JSON.stringify({ name: 'lg', dimension: 8, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
    )) as { host: string };
    control.close();
    indexUrl = created.host;
    const data = new JsonClient(indexUrl, server.apiKey);
    await data.call('POST', '/vectors/upsert', JSON.stringify({ vectors: vectors.map((values, i) => ({ id: String(i), values })) }));
    data.close();
    writeFileSync(join(dir, 'queries.jsonl'), vectors.map((vector) => JSON.stringify({ topK: 3, vector })).join('\n'));
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const job = (protocol: LoadJob['protocol'], apiKey = server.apiKey): LoadJob => ({
    url: indexUrl,
    apiKey,
    path: '/query',
    bodiesFile: join(dir, 'queries.jsonl'),
    requests: 40,
    concurrency: 4,
    warmup: 4,
    protocol,
  });

  it.each(['rest', 'grpc'] as const)('%s: every answer starts with the record queried', async (protocol) => {
    const result = await runLoadGenerator(job(protocol));
    expect(result.latencies).toHaveLength(40);
    expect(result.matchIds.map((ids) => ids[0])).toEqual(Array.from({ length: 40 }, (_, i) => i % 20));
  });

  it('fails the job when the server refuses the calls (a wrong API key over gRPC)', async () => {
    await expect(runLoadGenerator(job('grpc', 'not-a-key'))).rejects.toThrow(/exited with code 1: Error: gRPC Query failed: grpc-status 16 \(.+\)/);
  });
});
