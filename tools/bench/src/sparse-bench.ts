/**
 * A sparse-only index beside a dense one, in the same run on the same server process:
 *
 *   node tools/bench/src/sparse-bench.ts [--docs 200000] [--vocabulary 30000] [--terms 60]
 *                                        [--queries 300] [--dimension 128] [--keep]
 *
 * Generates `--docs` documents whose terms follow a Zipfian law (s = 1.1) over `--vocabulary`
 * terms, about `--terms` distinct terms each, weighted 1 + ln(tf) as a BM25-style encoder would
 * (seeded); queries of 2–12 terms drawn from the same law, weighted by idf. The server runs as
 * `npm start` does (compaction trigger 2, no rate limits); both indexes are filled through REST
 * upserts and left to settle (memtables flushed, compactions done) before anything is timed.
 *
 * - sparse: recall@10 of `POST /query {sparseVector}` against an exhaustive scan of every posting
 *   of every query term (computed here), and its latency at concurrency 1;
 * - dense: as many `--dimension`-dimensional vectors of the main benchmark's Gaussian mixture
 *   (dataset.ts) in a dense euclidean index, and the latency of `POST /query {vector}` at
 *   concurrency 1 — the path the sparse one is set beside.
 *
 * Prints the figures as JSON.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareHits, mulberry32 } from '@conifer/core';
import { gaussianMixture, queryOf } from './dataset.ts';
import { JsonClient } from './http-client.ts';
import { positiveIntArg } from './args.ts';
import { startServer } from './server-process.ts';
import { settled, type InternalsView } from './settle.ts';
import { summarize } from './stats.ts';

const docs = positiveIntArg('--docs', 200_000);
const vocabulary = positiveIntArg('--vocabulary', 30_000);
const termsPerDoc = positiveIntArg('--terms', 60);
const queryCount = positiveIntArg('--queries', 300);
const dimension = positiveIntArg('--dimension', 128);
const keep = process.argv.includes('--keep');
const K = 10;
const TRIGGER = 2;
const BATCH = 500;

const log = (...parts: unknown[]) => console.error(`[sparse-bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);

/** Draws term ranks 0..n-1 with P(r) ∝ 1/(r+1)^s, by inverting the cumulative table. */
function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) cumulative[r] = sum += 1 / (r + 1) ** s;
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface Sparse {
  indices: number[];
  values: number[];
}

// Documents: term frequencies from Zipf draws, weighted 1 + ln(tf) (float32, as the server stores them).
const random = mulberry32(0x5a17);
const draw = zipfSampler(vocabulary, 1.1, random);
const documents: Sparse[] = new Array(docs);
const df = new Uint32Array(vocabulary);
for (let d = 0; d < docs; d++) {
  const tf = new Map<number, number>();
  const length = Math.max(4, Math.round(termsPerDoc * (0.5 + random())));
  for (let k = 0; k < length * 1.6 && tf.size < length; k++) {
    const term = draw();
    tf.set(term, (tf.get(term) ?? 0) + 1);
  }
  const indices = [...tf.keys()].sort((a, b) => a - b);
  for (const t of indices) df[t]!++;
  documents[d] = { indices, values: indices.map((t) => Math.fround(1 + Math.log(tf.get(t)!))) };
}
const queries: Sparse[] = Array.from({ length: queryCount }, () => {
  const terms = new Set<number>();
  const length = 2 + Math.floor(random() * 11);
  while (terms.size < length) terms.add(draw());
  const indices = [...terms].sort((a, b) => a - b);
  return { indices, values: indices.map((t) => Math.fround(Math.log(1 + docs / (1 + df[t]!)))) };
});
const nnz = documents.reduce((n, d) => n + d.indices.length, 0);
log(`generated ${docs} documents (${(nnz / docs).toFixed(1)} terms each on average, ${vocabulary} terms) and ${queryCount} queries`);

/** The exact top k: every posting of every query term scored (no pruning), ties by id as the server breaks them. */
function exactTopK(): string[][] {
  const postings: { doc: number; value: number }[][] = Array.from({ length: vocabulary }, () => []);
  documents.forEach((d, doc) => d.indices.forEach((t, i) => postings[t]!.push({ doc, value: d.values[i]! })));
  return queries.map((q) => {
    const scores = new Map<number, number>();
    // Summed in index order as the server's exact rescoring does.
    q.indices.forEach((t, i) => {
      for (const p of postings[t]!) scores.set(p.doc, (scores.get(p.doc) ?? 0) + q.values[i]! * p.value);
    });
    return [...scores]
      .map(([doc, score]) => ({ id: `d${doc}`, score }))
      .sort(compareHits('dotproduct'))
      .slice(0, K)
      .map((h) => h.id);
  });
}

// Before the server starts: seconds of this process's CPU it would otherwise compete with, and no
// kept-alive connection left idle meanwhile.
const truth = exactTopK();
log('computed the exact top 10 of every query');

const work = await mkdtemp(join(tmpdir(), 'conifer-sparse-bench-'));
let server: Awaited<ReturnType<typeof startServer>> | undefined;
try {
  server = await startServer({
    dataDir: join(work, 'data'),
    env: { CONIFER_INDEX_HOSTS: 'paths', CONIFER_RATE_LIMITS: 'off', CONIFER_COMPACTION_TRIGGER: String(TRIGGER) },
    timeoutMs: 120_000,
  });
  const client = new JsonClient(server.url, server.apiKey);
  const create = async (body: Record<string, unknown>) => {
    const created = (await client.call('POST', '/indexes', JSON.stringify({ spec: { serverless: { cloud: 'aws', region: 'us-east-1' } }, ...body }))) as {
      host: string;
    };
    return new URL(created.host).pathname.replace(/\/+$/, '');
  };
  const sparseHost = await create({ name: 'sparse', vector_type: 'sparse', metric: 'dotproduct' });
  const denseHost = await create({ name: 'dense', dimension, metric: 'euclidean' });

  const upsertAll = async (host: string, record: (i: number) => unknown) => {
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      for (;;) {
        const at = next;
        next += BATCH;
        if (at >= docs) return;
        const vectors = Array.from({ length: Math.min(BATCH, docs - at) }, (_, i) => record(at + i));
        await client.call('POST', `${host}/vectors/upsert`, JSON.stringify({ vectors }));
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    return (performance.now() - started) / 1000;
  };
  const settle = async (index: string, dim: number) => {
    const path = `/trpc/namespaces.internals?input=${encodeURIComponent(JSON.stringify({ index, namespace: '' }))}`;
    let previous: InternalsView | undefined;
    const started = performance.now();
    for (;;) {
      const now = ((await client.call('GET', path)) as { result: { data: InternalsView } }).result.data;
      if (settled(previous, now, TRIGGER, dim))
        return { seconds: (performance.now() - started) / 1000, slabs: now.slabs.map((s) => `L${s.level}:${s.records}`) };
      if (performance.now() - started > 600_000) throw new Error(`${index} did not settle in 10 minutes`);
      previous = now;
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  const sparseIngest = await upsertAll(sparseHost, (i) => ({ id: `d${i}`, sparseValues: documents[i] }));
  log(`sparse upsert: ${docs} documents in ${sparseIngest.toFixed(1)} s`);
  const dense = gaussianMixture('sparse-bench', docs, dimension, queries.length);
  const denseIngest = await upsertAll(denseHost, (i) => ({ id: `d${i}`, values: Array.from(dense.vectors.subarray(i * dimension, (i + 1) * dimension)) }));
  log(`dense upsert: ${docs} vectors in ${denseIngest.toFixed(1)} s`);
  const sparseSettle = await settle('sparse', 0);
  const denseSettle = await settle('dense', dimension);
  log(`settled: sparse ${sparseSettle.slabs.join(' ')}; dense ${denseSettle.slabs.join(' ')}`);

  const timed = async (body: (i: number) => string, host: string) => {
    for (let i = 0; i < 20; i++) await client.call('POST', `${host}/query`, body(i % queries.length)); // warm-up
    const latencies: number[] = [];
    const answers: string[][] = [];
    const started = performance.now();
    for (let i = 0; i < queries.length; i++) {
      const t = performance.now();
      const answer = (await client.call('POST', `${host}/query`, body(i))) as { matches: { id: string }[] };
      latencies.push(performance.now() - t);
      answers.push(answer.matches.map((m) => m.id));
    }
    return { summary: summarize(latencies, performance.now() - started), answers };
  };
  const sparseRun = await timed((i) => JSON.stringify({ topK: K, sparseVector: queries[i] }), sparseHost);
  let found = 0;
  sparseRun.answers.forEach((ids, i) => (found += ids.filter((id) => truth[i]!.includes(id)).length));
  const expected = truth.reduce((n, t) => n + t.length, 0);
  const denseRun = await timed((i) => JSON.stringify({ topK: K, vector: Array.from(queryOf(dense, i)) }), denseHost);
  const round = (x: number) => Math.round(x * 100) / 100;
  console.log(
    JSON.stringify(
      {
        docs,
        vocabulary,
        averageTermsPerDoc: round(nnz / docs),
        queries: queries.length,
        sparse: {
          recallAt10: round(found / expected),
          p50Ms: round(sparseRun.summary.p50),
          p99Ms: round(sparseRun.summary.p99),
          ingestSeconds: round(sparseIngest),
          slabs: sparseSettle.slabs,
        },
        dense: {
          dimension,
          p50Ms: round(denseRun.summary.p50),
          p99Ms: round(denseRun.summary.p99),
          ingestSeconds: round(denseIngest),
          slabs: denseSettle.slabs,
        },
      },
      null,
      2,
    ),
  );
} catch (error) {
  // What the server said last, to see why a request failed.
  if (server) console.error(server.output().split('\n').slice(-40).join('\n'));
  throw error;
} finally {
  await server?.stop();
  if (!keep) await rm(work, { recursive: true, force: true });
}
