/**
 * Bulk import beside REST upsert, in the same run on the same machine:
 *
 *   node tools/bench/src/import-bench.ts [--vectors 1000000] [--dimension 128] [--concurrency 4] [--keep]
 *
 * Writes `--vectors` random vectors (uniform in [-1, 1), seeded) as Parquet files in Pinecone's
 * import layout (100,000 rows a file, 10,000 a row group) under a temporary directory, starts the
 * server as `npm start` does (with `CONIFER_IMPORT_FILE_URIS=true`), then
 *
 * - imports them into a new index (`POST /bulk/imports` with a `file://` URI), timed from the
 *   request to the import's `Completed` (every record stored in slabs and visible);
 * - upserts the same vectors into another index over REST (`POST /vectors/upsert`, up to 1,000 a
 *   request within the 2 MB body limit, `--concurrency` requests in flight), timed from the first request to the last answer
 *   (every record acknowledged: durable in the log, visible).
 *
 * Prints both rates (vectors/s) as JSON. Neither figure includes the ANN builds that follow in the
 * background (compaction of the imported slabs, flushes and compactions of the upserted ones).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mulberry32 } from '@conifer/core';
import { pineconeParquet } from '@conifer/emulators';
import { positiveIntArg } from './args.ts';
import { startServer } from './server-process.ts';

const ROWS_PER_FILE = 100_000;
const ROW_GROUP = 10_000;

const vectors = positiveIntArg('--vectors', 1_000_000);
const dimension = positiveIntArg('--dimension', 128);
const concurrency = positiveIntArg('--concurrency', 4);
const keep = process.argv.includes('--keep');
const files = Math.ceil(vectors / ROWS_PER_FILE);
/** Records per upsert request: up to 1,000, within the 2 MB body limit (about 22 bytes a number as JSON). */
const UPSERT_BATCH = Math.max(1, Math.min(1_000, Math.floor(1_800_000 / (dimension * 22 + 32))));

/** Rows [start, start + count) of the data set: ids `v<i>`, vectors seeded by the file. */
function rows(file: number): { ids: string[]; values: number[][] } {
  const start = file * ROWS_PER_FILE;
  const count = Math.min(ROWS_PER_FILE, vectors - start);
  const random = mulberry32(0x1234 + file);
  const ids: string[] = new Array(count);
  const values: number[][] = new Array(count);
  for (let i = 0; i < count; i++) {
    ids[i] = `v${start + i}`;
    const v = new Array<number>(dimension);
    for (let d = 0; d < dimension; d++) v[d] = Math.fround(random() * 2 - 1);
    values[i] = v;
  }
  return { ids, values };
}

async function call(url: string, apiKey: string, method: string, body?: string): Promise<unknown> {
  const response = await fetch(url, {
    method,
    headers: { 'api-key': apiKey, 'x-pinecone-api-version': '2025-10', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return text === '' ? {} : JSON.parse(text);
}

const log = (...parts: unknown[]) => console.error(`[import-bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);

const work = await mkdtemp(join(tmpdir(), 'conifer-import-bench-'));
const importDir = join(work, 'import');
const dataDir = join(work, 'data');
await mkdir(join(importDir, 'vectors'), { recursive: true });
let server: Awaited<ReturnType<typeof startServer>> | undefined;
try {
  let started = performance.now();
  let parquetBytes = 0;
  for (let f = 0; f < files; f++) {
    const { ids, values } = rows(f);
    const buffer = pineconeParquet({ ids, values }, ROW_GROUP);
    parquetBytes += buffer.length;
    await writeFile(join(importDir, 'vectors', `part-${String(f).padStart(4, '0')}.parquet`), buffer);
  }
  log(
    `wrote ${vectors} × ${dimension} as ${files} Parquet files (${(parquetBytes / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  server = await startServer({
    dataDir,
    env: { CONIFER_IMPORT_FILE_URIS: 'true', CONIFER_INDEX_HOSTS: 'paths', CONIFER_RATE_LIMITS: 'off' },
    timeoutMs: 120_000,
  });
  const srv = server;
  const createIndex = async (name: string) =>
    (
      (await call(
        `${srv.url}/indexes`,
        srv.apiKey,
        'POST',
        JSON.stringify({ name, dimension, metric: 'euclidean', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
      )) as { host: string }
    ).host.replace(/\/$/, '');
  const importHost = await createIndex('bulk-import');
  const upsertHost = await createIndex('rest-upsert');

  // 1. Bulk import.
  started = performance.now();
  const { id } = (await call(
    `${importHost}/bulk/imports`,
    srv.apiKey,
    'POST',
    JSON.stringify({ uri: pathToFileURL(importDir).href, errorMode: { onError: 'abort' } }),
  )) as { id: string };
  let status: { status: string; recordsImported: number; percentComplete: number; error?: string };
  for (;;) {
    status = (await call(`${importHost}/bulk/imports/${id}`, srv.apiKey, 'GET')) as typeof status;
    if (status.status !== 'Pending' && status.status !== 'InProgress') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const importSeconds = (performance.now() - started) / 1000;
  if (status.status !== 'Completed' || status.recordsImported !== vectors) throw new Error(`import ended ${JSON.stringify(status)}`);
  const importRate = vectors / importSeconds;
  log(`bulk import: ${vectors} vectors in ${importSeconds.toFixed(1)} s = ${Math.round(importRate)} vectors/s`);

  // 2. REST upsert of the same vectors.
  started = performance.now();
  for (let f = 0; f < files; f++) {
    const { ids, values } = rows(f);
    let next = 0;
    const worker = async () => {
      for (;;) {
        const at = next;
        next += UPSERT_BATCH;
        if (at >= ids.length) return;
        const records = ids.slice(at, at + UPSERT_BATCH).map((rid, i) => ({ id: rid, values: values[at + i] }));
        await call(`${upsertHost}/vectors/upsert`, srv.apiKey, 'POST', JSON.stringify({ vectors: records, namespace: 'vectors' }));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  const upsertSeconds = (performance.now() - started) / 1000;
  const upsertRate = vectors / upsertSeconds;
  log(
    `REST upsert: ${vectors} vectors in ${upsertSeconds.toFixed(1)} s = ${Math.round(upsertRate)} vectors/s (${concurrency} requests of ${UPSERT_BATCH} in flight)`,
  );

  const stats = (await call(`${importHost}/describe_index_stats`, srv.apiKey, 'GET')) as { totalVectorCount: number };
  if (stats.totalVectorCount !== vectors) throw new Error(`the imported index holds ${stats.totalVectorCount} vectors, not ${vectors}`);
  console.log(
    JSON.stringify(
      {
        vectors,
        dimension,
        importSeconds: Number(importSeconds.toFixed(2)),
        importVectorsPerSecond: Math.round(importRate),
        restUpsertSeconds: Number(upsertSeconds.toFixed(2)),
        restUpsertVectorsPerSecond: Math.round(upsertRate),
        restConcurrency: concurrency,
        speedup: Number((importRate / upsertRate).toFixed(1)),
      },
      null,
      2,
    ),
  );
} finally {
  await server?.stop();
  if (!keep) await rm(work, { recursive: true, force: true });
}
