/**
 * Results out: JSON to tools/bench/results/<size>.json and one markdown section per size into
 * docs/benchmarks.md, between `<!-- bench:<size>:begin -->` and `<!-- bench:<size>:end -->`
 * (appended when the markers are missing; the rest of the file is left alone).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dataset } from './dataset.ts';
import type { QueryRow } from './stats.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface Report {
  size: string;
  command: string;
  ds: Dataset;
  queries: number;
  rows: QueryRow[];
  facts: Record<string, unknown>;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} vCPU (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`;
}

/** Numbers in facts with at most 2 decimals (summaries carry 15). */
function roundDeep(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? value : Math.round(value * 100) / 100;
  if (Array.isArray(value)) return value.map(roundDeep);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v)]));
  return value;
}

export function markdown(report: Report): string {
  const { ds, rows, facts, queries } = report;
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 2 : 0) : '—');
  const notes: string[] = [];
  if (facts['memoryMiBPerMillionVectors'] !== undefined) {
    notes.push(
      '- memoryMiBPerMillionVectors (engine, after settle and a forced GC, deltas per million vectors): `arrayBuffers` = slab buffers as read from the store ' +
        '(vectors, ids, metadata, serialized ANN index; compare `slabBytes`); `externalNative` = native memory the faiss addon reports ' +
        '(the vectors each faiss index copies from its slab); `heapUsed` = JS heap (ids, metadata objects, memtable); `rss` = all of it ' +
        'plus native memory nobody reports (inverted-list overhead, allocator slack).',
    );
  }
  if (rows.some((r) => r.system === 'conifer (HTTP)')) {
    notes.push(
      `- conifer (HTTP): the real server as a child process (local-disk store, rate limits off, compaction trigger 2 like the engine rows, other knobs default), driven through the Pinecone REST API over keep-alive connections by a load generator inside the benchmark process. On this ${cpus().length}-vCPU machine the generator (JSON encoding of upserts beyond the pre-encoded ones, response parsing) competes with the server for CPU, so these rows understate a server with the machine to itself; the rows "client pinned to core 1, server to core 0" run the same queries from a load generator in a process of its own (tools/bench/src/load-generator.ts) pinned to the other core than the server, so neither takes the other's CPU (the server then has one core, where the in-process rows let it use both). httpSettleMs = last upsert acknowledged → memtable empty, everything flushed, no compaction pending (polled through tRPC namespaces.internals); it includes the memtable's 30 s age flush.`,
    );
  }
  if (rows.some((r) => r.system === 'conifer (gRPC)')) {
    notes.push(
      "- conifer (gRPC): the same server process, Pinecone's `VectorService` on the index's own port (CONIFER_INDEX_HOSTS=ports), a grpc-js client in the benchmark process sending requests encoded before the clock starts (one HTTP/2 connection; the same queries and request counts as the REST rows). grpcIngestVectorsPerSecond: the whole dataset upserted into an index of its own, 1000 records per request with the same metadata as the REST bodies, 4 in flight; httpIngestBesideGrpcVectorsPerSecond: the same through REST into another index of its own just before (settled before gRPC's starts), on the server in the same state.",
    );
  }
  if (facts['coldStart'] !== undefined) {
    notes.push(
      "- coldStart: the engine closed, then a new Engine over the same local-disk store; its first query opens the namespace (manifest, each slab's head, the log after the manifest; the vectors it scans read by range), three times; then, once the slabs' vectors are in memory (warmUpMs), warm queries on the open namespace. The OS page cache still holds the files. coldStartS3Latency: the same through a simulated bucket (storage's withLatency: each store call waits a log-normal time to first byte of median 25 ms and p99 80 ms, then moves its body at 100 MB/s; slabs are read in 8 MiB ranges, 8 at once, as the server reads them from a bucket).",
    );
  }
  if (rows.some((r) => r.scenario === 'during ingest+compaction')) {
    notes.push(
      "- during ingest+compaction: concurrency-1 queries while 25% of the ids are re-upserted (batches of 1000, 4 in flight, two halves each followed by a flush and the compactions it triggers); `idle, just before the writes` is the same query loop on the idle namespace (the query set four times over, so its p99 is not the fifth-slowest of 500). The upserts' records are made before the phase. See duringWrites (p99Ratio: the phase against idle; whileAcknowledgingP99Ratio: the queries that started before the last upsert was acknowledged against idle).",
    );
  }
  const lines = [
    `### ${ds.source} (${ds.count.toLocaleString('en')} × ${ds.dimension}, ${queries} held-out queries, k=10)`,
    '',
    `Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 16)}Z. Command: \`${report.command}\`.`,
    '',
    '| system | scenario | concurrency | recall@10 | p50 ms | p99 ms | QPS |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) => `| ${r.system} | ${r.scenario} | ${r.concurrency} | ${r.recall.toFixed(3)} | ${f(r.latency.p50)} | ${f(r.latency.p99)} | ${f(r.latency.qps)} |`,
    ),
    '',
    ...(notes.length > 0 ? ['Notes:', '', ...notes, ''] : []),
    'Facts:',
    '',
    ...Object.entries(facts).map(([k, v]) => `- ${k}: ${typeof v === 'object' ? JSON.stringify(roundDeep(v)) : String(roundDeep(v))}`),
    '',
  ];
  return lines.join('\n');
}

export function writeReport(report: Report): void {
  mkdirSync(join(ROOT, 'tools/bench/results'), { recursive: true });
  const { ds } = report;
  const json = {
    size: report.size,
    dataset: { name: ds.name, source: ds.source, count: ds.count, dimension: ds.dimension, queries: report.queries },
    machine: machine(),
    command: report.command,
    rows: report.rows,
    facts: report.facts,
  };
  writeFileSync(join(ROOT, `tools/bench/results/${report.size}.json`), JSON.stringify(json, null, 2) + '\n');
  writeSection(report.size, markdown(report));
}

export function writeSection(size: string, section: string): void {
  const file = join(ROOT, 'docs/benchmarks.md');
  const begin = `<!-- bench:${size}:begin -->`;
  const end = `<!-- bench:${size}:end -->`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${begin}\n${section}${end}`;
  const at = text.indexOf(begin);
  const until = text.indexOf(end, at);
  text = at >= 0 && until >= 0 ? text.slice(0, at) + block + text.slice(until + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}
