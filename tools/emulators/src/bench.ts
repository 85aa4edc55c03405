/**
 * Object-storage benchmark of the data plane: the engine over local disk and over each cloud
 * emulator (MinIO or moto, fake-gcs-server, Azurite).
 *
 *   node tools/emulators/src/bench.ts [--records 20000] [--dim 128] [--queries 200] [--write docs/benchmarks.md]
 *
 * Measures, per backend:
 * - write ack: `engine.upsert` of one 100-record batch, until it is durable in the request log (p50, p99);
 * - cold query: a fresh engine (empty memory, no cache) opens the namespace — manifest, every slab,
 *   log replay — and answers its first query (p50 over a few opens);
 * - warm query: top-10 queries on the open namespace (p50, p99).
 *
 * Emulators run on the loopback interface of this machine: their numbers measure the engine, the
 * SDKs and the emulators, not a cloud. With --write, the table replaces the section "Object storage
 * (emulators)" of the given Markdown file (created if missing).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { mulberry32, percentile } from '@conifer/core';
import { Engine, type IndexHandle } from '@conifer/engine';
import { openObjectStore, withCache, type ObjectStore } from '@conifer/storage';
import { startEmulators } from './index.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '20000' },
    dim: { type: 'string', default: '128' },
    queries: { type: 'string', default: '200' },
    opens: { type: 'string', default: '9' },
    write: { type: 'string' },
  },
});
const RECORDS = Number(args.records);
const DIM = Number(args.dim);
const QUERIES = Number(args.queries);
const OPENS = Number(args.opens);
const BATCH = 100;
const SECTION = 'Object storage (emulators)';
const BEGIN = '<!-- bench:object-storage:begin -->';
const END = '<!-- bench:object-storage:end -->';

interface Row {
  backend: string;
  writeP50: number;
  writeP99: number;
  coldP50: number;
  coldMax: number;
  cachedP50: number;
  warmP50: number;
  warmP99: number;
  slabs: number;
  slabBytes: number;
}

/** p-th percentile of unsorted samples. */
function pct(samples: number[], p: number): number {
  return percentile(
    [...samples].sort((a, b) => a - b),
    p,
  );
}

/** A deterministic pseudo-random vector, so every backend gets the same data. */
function vector(seed: number): number[] {
  const random = mulberry32(seed);
  return Array.from({ length: DIM }, () => random() * 2 - 1);
}

async function bench(backend: string, open: () => ObjectStore): Promise<Row> {
  const index: IndexHandle = { id: `bench-${Date.now().toString(36)}`, dimension: DIM, metric: 'cosine' };
  const writer = new Engine({ store: open() });
  const writes: number[] = [];
  for (let b = 0; b < RECORDS / BATCH; b++) {
    const records = Array.from({ length: BATCH }, (_, j) => {
      const i = b * BATCH + j;
      return { id: `r${i}`, values: vector(i), metadata: { group: i % 10 } };
    });
    const started = performance.now();
    await writer.upsert(index, 'ns', records);
    writes.push(performance.now() - started);
  }
  await writer.flush(index, 'ns');
  const internals = await writer.describeNamespace(index, 'ns');
  await writer.close();

  const cold: number[] = [];
  const warm: number[] = [];
  const cached: number[] = [];
  // One extra open first, not counted: it pays the JIT warm-up of the read path.
  for (let o = 0; o <= OPENS; o++) {
    const reader = new Engine({ store: open() });
    const started = performance.now();
    await reader.query(index, 'ns', { topK: 10, vector: vector(1_000_000 + o) });
    if (o > 0) cold.push(performance.now() - started);
    if (o === 1) {
      for (let q = 0; q < QUERIES; q++) {
        const t = performance.now();
        await reader.query(index, 'ns', { topK: 10, vector: vector(2_000_000 + q) });
        warm.push(performance.now() - t);
      }
    }
    await reader.close();
  }
  // Reopens over one slab cache (memory tier): the first fills it, the others read slabs from it.
  const cachedStore = withCache(open(), { memoryBytes: 512 * 1024 * 1024 });
  for (let o = 0; o <= OPENS; o++) {
    const reader = new Engine({ store: cachedStore });
    const started = performance.now();
    await reader.query(index, 'ns', { topK: 10, vector: vector(3_000_000 + o) });
    if (o > 0) cached.push(performance.now() - started);
    await reader.close();
  }
  return {
    backend,
    writeP50: pct(writes, 50),
    writeP99: pct(writes, 99),
    coldP50: pct(cold, 50),
    coldMax: Math.max(...cold),
    cachedP50: pct(cached, 50),
    warmP50: pct(warm, 50),
    warmP99: pct(warm, 99),
    slabs: internals.slabs.length,
    slabBytes: internals.slabs.reduce((n, s) => n + s.bytes, 0),
  };
}

function machine(): string {
  let cpu = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const lscpu = execFileSync('lscpu', { encoding: 'utf8' });
    cpu = /Model name:\s*(.+)/.exec(lscpu)?.[1]?.trim() ?? cpu;
  } catch {
    // lscpu is optional
  }
  let nproc = String(cpus().length);
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // nproc is optional
  }
  return `${nproc} vCPU (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform}; load average ${loadavg()[0]!.toFixed(1)} when the run started`;
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));

async function main(): Promise<void> {
  const machineLine = machine();
  const emulators = await startEmulators(['s3', 'gcs', 'azure']);
  const dir = mkdtempSync(join(tmpdir(), 'conifer-bench-'));
  const rows: Row[] = [];
  try {
    const backends: [string, () => ObjectStore][] = [
      ['local disk (file://)', () => openObjectStore(pathToFileURL(dir).href)],
      ...emulators.all.map((e): [string, () => ObjectStore] => [
        `${e.kind} — ${e.implementation} ${e.version}`,
        () => openObjectStore(e.storageUrl('bench'), { env: emulators.env }),
      ]),
    ];
    for (const [name, open] of backends) {
      process.stderr.write(`bench: ${name} ...\n`);
      rows.push(await bench(name, open));
    }
  } finally {
    await emulators.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const slabs = rows[0]!;
  const table = [
    `## ${SECTION}`,
    '',
    `**Emulator numbers are not cloud numbers.** Every emulator runs as a local process on the loopback interface of the`,
    `same machine as the engine, with no network latency, no cloud-side durability work, and a CPU shared with the engine.`,
    `Real S3, GCS and Azure Blob add tens of milliseconds per request (more at p99); these rows compare the adapters,`,
    `SDKs and emulators, and show where the engine's own time goes.`,
    '',
    `Machine: ${machineLine}. Measured ${new Date().toISOString().slice(0, 10)} with \`node tools/emulators/src/bench.ts --records ${RECORDS} --dim ${DIM}\`.`,
    `Data: ${RECORDS} records of ${DIM} dimensions (cosine) with a small metadata object, written in batches of ${BATCH}, then flushed`,
    `(${slabs.slabs} slab(s), ${(slabs.slabBytes / 2 ** 20).toFixed(1)} MiB). Write ack = one \`upsert\` of ${BATCH} records, durable in the request log.`,
    `Cold = a new engine's first query: load the manifest and every slab from the store (no cache), replay the log, search (p50 and max of ${OPENS}).`,
    `Cached = the same, over a \`withCache\` store whose memory tier already holds the slab (the manifest and log are still read from the store).`,
    `Warm = top-10 queries on the open namespace (${QUERIES} queries).`,
    '',
    '| backend | write ack p50 (ms) | write ack p99 (ms) | cold open + first query p50 (ms) | cold max (ms) | cached open + first query p50 (ms) | warm query p50 (ms) | warm query p99 (ms) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.backend} | ${ms(r.writeP50)} | ${ms(r.writeP99)} | ${ms(r.coldP50)} | ${ms(r.coldMax)} | ${ms(r.cachedP50)} | ${ms(r.warmP50)} | ${ms(r.warmP99)} |`,
    ),
    '',
  ].join('\n');
  console.log(table);

  if (args.write) {
    // Only the block between our markers is ours: other benchmarks share the file.
    const file = resolve(args.write);
    const block = `${BEGIN}\n${table}${END}\n`;
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const start = current.indexOf(BEGIN);
    const end = current.indexOf(END);
    const next =
      start !== -1 && end > start ? current.slice(0, start) + block + current.slice(end + END.length).replace(/^\n/, '') : `${current.trimEnd()}\n\n${block}`;
    writeFileSync(file, next);
    process.stderr.write(`bench: wrote the table to ${file}\n`);
  }
}

await main();
