/**
 * `npm run bench:peers -- --size S|M [--requests N]`: Conifer's server beside Chroma's server and
 * Milvus Lite, each through its own network client and the same load generator
 * (tools/bench/peers/python/server_peers.py: Python threads at concurrency 1, 8 and 32).
 *
 * Conifer is started as `npm start` runs it (one port per index), loaded through REST and left to
 * settle (flushed, compacted, indexed); then the Python harness queries it through the official
 * Pinecone Python client, and loads and queries the peers through theirs, each peer tuned to the
 * recall Conifer reached (the smallest ef_search / nprobe that reaches it). Results go to a section
 * of docs/benchmarks.md and tools/bench/results/peers-<size>.json.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureVenv, freePortRange, REPO_ROOT } from '@conifer/emulators';
import { SIZES, type SizeName } from './dataset.ts';
import { nlistFor } from './faiss-raw.ts';
import { groundTruth } from './ground-truth.ts';
import { JsonClient } from './http-client.ts';
import { INDEX, ingestOverHttp, SERVER_ENV, waitSettledOverHttp } from './http.ts';
import { machine, writeSection } from './report.ts';
import { loadDataset } from './run.ts';
import { startServer, type ServerProcess } from './server-process.ts';

const log = (...parts: unknown[]) => console.log(`[peers ${new Date().toISOString().slice(11, 19)}]`, ...parts);

interface PeerRow {
  system: string;
  concurrency: number;
  requests: number;
  recall: number;
  latency: { p50: number; p99: number; mean: number; qps: number };
}

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args[at + 1]!;
};
const size = option('--size', 'S') as SizeName;
if (size !== 'S' && size !== 'M') throw new Error('--size must be S or M');
const requests = Number(option('--requests', '1000'));

const venv = await ensureVenv({
  name: 'bench-peers',
  requirementsFile: join(REPO_ROOT, 'tools/bench/peers/python/requirements.txt'),
  what: 'the server peers (Chroma, Milvus Lite) and the Pinecone Python client',
  log: (line) => console.error(line),
});
const ds = loadDataset(size, 1000);
log(`dataset ${size}: ${ds.count} × ${ds.dimension}`);
const { truth } = await groundTruth(ds, []);
const dir = mkdtempSync(join(tmpdir(), 'conifer-bench-peers-'));
let server: ServerProcess | undefined;
try {
  writeFileSync(join(dir, 'vectors.f32'), new Uint8Array(ds.vectors.buffer, ds.vectors.byteOffset, ds.vectors.byteLength));
  writeFileSync(join(dir, 'queries.f32'), new Uint8Array(ds.queries.buffer, ds.queries.byteOffset, ds.queries.byteLength));
  writeFileSync(join(dir, 'truth.i32'), new Uint8Array(truth.buffer, truth.byteOffset, truth.byteLength));

  const facts: Record<string, unknown> = {};
  const ports = await freePortRange(2);
  server = await startServer({
    dataDir: join(dir, 'conifer'),
    env: { ...SERVER_ENV, CONIFER_INDEX_HOSTS: 'ports', CONIFER_INDEX_PORTS: `${ports.first}-${ports.last}` },
  });
  const control = new JsonClient(server.url, server.apiKey);
  const { host } = (await control.call(
    'POST',
    '/indexes',
    JSON.stringify({ name: INDEX, dimension: ds.dimension, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
  )) as { host: string };
  const data = new JsonClient(host, server.apiKey);
  await ingestOverHttp(data, '', ds, facts, log);
  await waitSettledOverHttp(control, ds.dimension, facts, 3_600_000);
  control.close();
  data.close();
  log('conifer: settled', facts['httpSlabs']);

  const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
    const child = execFile(
      join(venv, 'bin', 'python'),
      [
        join(REPO_ROOT, 'tools/bench/peers/python/server_peers.py'),
        ...['--data', dir, '--count', String(ds.count), '--dimension', String(ds.dimension), '--query-count', String(ds.queryCount)],
        ...['--requests', String(requests), '--nlist', String(nlistFor(ds.count))],
        ...['--control-url', server!.url, '--index-host', host, '--api-key', server!.apiKey],
      ],
      { maxBuffer: 64 * 1024 * 1024, timeout: 4 * 3600 * 1000 },
      (error, out) => (error ? reject(error) : resolve({ stdout: out })),
    );
    child.stderr?.pipe(process.stderr);
  });
  const result = JSON.parse(stdout) as { rows: PeerRow[]; facts: Record<string, unknown> };
  Object.assign(facts, result.facts);
  report(result.rows, facts);
} finally {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}

function report(rows: PeerRow[], facts: Record<string, unknown>): void {
  const { count, dimension } = SIZES[size];
  const lines = [
    `### ${size}: ${count.toLocaleString('en-US')} × ${dimension}, server peers through their own clients`,
    '',
    `Command: \`npm run bench:peers -- --size ${size}\` (tools/bench/src/server-peers.ts), ${new Date().toISOString().slice(0, 10)}, ${machine()}. Each system`,
    'is a server in its own process, queried through its own Python client by the same thread-pool load',
    `generator (tools/bench/peers/python/server_peers.py), up to ${requests} queries per row (a slow system on fewer, at least 100: about a minute per row), top 10; Conifer`,
    'through the official Pinecone Python client (REST). Chroma and Milvus Lite are tuned to the recall',
    'Conifer reached at concurrency 1 (the smallest ef_search / nprobe that reaches it on 200 queries, fewer for a slow system).',
    'The load generator is Python: at concurrency 32 its own per-query cost (one thread per request under',
    "the GIL, each client's encoding) limits all three alike.",
    '',
    '| system | concurrency | queries | recall@10 | p50 ms | p99 ms | QPS |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.system} | ${r.concurrency} | ${r.requests} | ${r.recall.toFixed(3)} | ${r.latency.p50.toFixed(2)} | ${r.latency.p99.toFixed(2)} | ${r.latency.qps} |`,
    ),
    '',
    `Ingest (each through its own client; Conifer through REST, the bench's Node client): Conifer ${facts['httpIngestVectorsPerSecond']} vectors/s, ` +
      `Chroma ${facts['chromaIngestVectorsPerSecond'] ?? '—'}, Milvus Lite ${facts['milvusIngestVectorsPerSecond'] ?? '—'} (with its index build).`,
    '',
    `Facts: ${JSON.stringify(facts)}`,
  ];
  writeSection(`peers-${size}`, `${lines.join('\n')}\n`);
  writeFileSync(join(REPO_ROOT, `tools/bench/results/peers-${size}.json`), `${JSON.stringify({ size, requests, rows, facts }, null, 2)}\n`);
  for (const r of rows) log(r.system, 'c', r.concurrency, 'recall', r.recall, r.latency);
}
