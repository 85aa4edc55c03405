/**
 * Micro-measurement (not a test): time per scanRows() call against the equivalent JS loop
 * (per-row scorer as in @conifer/core's makeScorer, bitmap walked byte by byte, bounded top-k),
 * for a selective bitmap over a large buffer and a full scan of a smaller one. Subsets and
 * queries rotate between calls so the rows scanned are not all cache-resident.
 *
 *   node tools/bench/src/scan-probe.ts [calls=200] [d=128] [k=10] [kernel=auto]
 *
 * kernel: 'auto' (the one chosen at load), 'sse' or 'avx2' (see setScanKernel).
 */
import { bitmapOf, faissVersion, scanKernel, scanRows, setScanKernel, type ScanKernel, type ScanMetric, type ScanOptions } from '@conifer/faiss';
import { mulberry32, percentile } from '@conifer/core';

const [calls = 200, d = 128, k = 10] = process.argv.slice(2, 5).map(Number);
setScanKernel((process.argv[5] ?? 'auto') as ScanKernel | 'auto');
const VARIANTS = 16; // distinct subsets / queries cycled through

function uniform(n: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = random() * 2 - 1;
  return out;
}

/** The JS loop scanRows replaces: one scorer call per eligible row, top-k by insertion. */
function jsScan(vectors: Float32Array, query: Float32Array, metric: ScanMetric, allowed?: Uint8Array): Int32Array {
  const n = vectors.length / d;
  let qq = 0;
  for (let j = 0; j < d; j++) qq += query[j]! * query[j]!;
  const qNorm = Math.sqrt(qq);
  const keys = new Float64Array(k).fill(Infinity);
  const labels = new Int32Array(k).fill(-1);
  const visit = (row: number): void => {
    const o = row * d;
    let key: number;
    if (metric === 'l2') {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = query[j]! - vectors[o + j]!;
        s += t * t;
      }
      key = s;
    } else if (metric === 'ip') {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += query[j]! * vectors[o + j]!;
      key = -dot;
    } else {
      let dot = 0;
      let xx = 0;
      for (let j = 0; j < d; j++) {
        const x = vectors[o + j]!;
        dot += query[j]! * x;
        xx += x * x;
      }
      const denom = qNorm * Math.sqrt(xx);
      key = -(denom === 0 ? 0 : dot / denom);
    }
    if (key >= keys[k - 1]!) return;
    let i = k - 1;
    while (i > 0 && keys[i - 1]! > key) {
      keys[i] = keys[i - 1]!;
      labels[i] = labels[i - 1]!;
      i--;
    }
    keys[i] = key;
    labels[i] = row;
  };
  if (allowed === undefined) {
    for (let row = 0; row < n; row++) visit(row);
  } else {
    const bytes = Math.min(allowed.length, Math.ceil(n / 8));
    for (let b = 0; b < bytes; b++) {
      const byte = allowed[b]!;
      if (byte === 0) continue;
      for (let bit = 0; bit < 8; bit++) if (byte & (1 << bit) && b * 8 + bit < n) visit(b * 8 + bit);
    }
  }
  return labels;
}

/** Median and p99 microseconds per call of fn(i), after a warm-up. */
function time(fn: (i: number) => unknown): string {
  for (let i = 0; i < 10; i++) fn(i);
  const samples: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    fn(i);
    samples.push((performance.now() - start) * 1000);
  }
  samples.sort((a, b) => a - b);
  const [median, p99] = [percentile(samples, 50), percentile(samples, 99)];
  return `median ${median.toFixed(0).padStart(6)} µs  p99 ${p99.toFixed(0).padStart(6)} µs`;
}

const queries = uniform(VARIANTS * d, 2);
const queryOf = (i: number): Float32Array => queries.subarray((i % VARIANTS) * d, ((i % VARIANTS) + 1) * d);

function probe(label: string, vectors: Float32Array, subsets: (ScanOptions | undefined)[]): void {
  const options = (i: number): ScanOptions | undefined => subsets[i % subsets.length];
  console.log(label);
  for (const metric of ['l2', 'ip', 'cosine'] as const) {
    // Same answers, checked once.
    const native = scanRows(vectors, d, queryOf(0), k, metric, options(0)).labels;
    const js = jsScan(vectors, queryOf(0), metric, options(0)?.allowed);
    if (native.join() !== js.join()) console.log(`  (${metric}: labels differ: ${native} vs ${js})`);
    const nativeTime = time((i) => scanRows(vectors, d, queryOf(i), k, metric, options(i)));
    console.log(`  ${metric.padEnd(6)} scanRows ${nativeTime}`);
    const jsTime = time((i) => jsScan(vectors, queryOf(i), metric, options(i)?.allowed));
    console.log(`  ${metric.padEnd(6)} JS loop  ${jsTime}`);
  }
}

console.log(`faiss ${faissVersion()}, ${scanKernel()} scan kernels; d=${d}, k=${k}, ${calls} calls each, ` + `${VARIANTS} rotating subsets/queries`);
{
  const n = 1_000_000;
  const vectors = uniform(n * d, 1);
  const random = mulberry32(3);
  const rowSets = Array.from({ length: VARIANTS }, () => {
    const rows = new Set<number>();
    while (rows.size < 10_000) rows.add(Math.floor(random() * n));
    return [...rows];
  });
  probe(
    `10,000 allowed rows of ${n.toLocaleString('en')}×${d}, bitmap:`,
    vectors,
    rowSets.map((rows) => ({ allowed: bitmapOf(n, rows) })),
  );
  const lists = rowSets.map((rows) => ({ rows: Int32Array.from(rows) }));
  const listTime = time((i) => scanRows(vectors, d, queryOf(i), k, 'l2', lists[i % VARIANTS]));
  console.log(`  same rows as an Int32Array: l2 scanRows ${listTime}`);
}
{
  const n = 50_000;
  probe(`full scan of ${n.toLocaleString('en')}×${d}:`, uniform(n * d, 4), [undefined]);
}
