/**
 * The benchmark run (see main.ts for the command line).
 *
 * Runs, in one process and one run, on one dataset (synthetic XS/S/M/L or fashion-mnist):
 * exact ground truth (faiss Flat); Conifer's engine in-process over a local-disk store
 * (engine-bench.ts, with queries during ingest + compaction and cold vs warm start); Conifer
 * through HTTP, the real server as a child process (http.ts); raw faiss in-process with the same
 * index type (the ceiling, faiss-raw.ts); LanceDB and hnswlib-node when installed (peers.ts).
 * Writes JSON to tools/bench/results/<size>.json and a markdown section into docs/benchmarks.md
 * (report.ts).
 */
import { benchEngine } from './engine-bench.ts';
import { loadFashionMnist } from './fashion-mnist.ts';
import { benchRawFaiss, nlistFor } from './faiss-raw.ts';
import { gaussianMixture, SIZES, type Dataset, type DatasetName } from './dataset.ts';
import { groundTruth } from './ground-truth.ts';
import { benchHttp } from './http.ts';
import { benchHnswlib, benchLanceDB, peersInstalled } from './peers.ts';
import { writeReport } from './report.ts';
import type { QueryRow } from './stats.ts';

export type { QueryRow } from './stats.ts';

const FILTER_KEEPS = [1, 10, 50, 99] as const;

export interface BenchOptions {
  size: DatasetName;
  queries: number;
  /** Also run the peers (raw faiss in-process; LanceDB and hnswlib-node when installed). */
  peers: boolean;
  /** Conifer through HTTP: the real server as a child process. Default true. */
  http?: boolean;
  /** Queries during a second phase of writes (flushes + compactions). Default true. */
  interference?: boolean;
  /** Close and reopen the engine: first (cold) query vs warm queries. Default true. */
  coldStart?: boolean;
  /** Write docs/benchmarks.md and tools/bench/results. */
  write: boolean;
  quiet?: boolean;
  /** The command line shown in the markdown. Default: the npm run bench equivalent of the options. */
  command?: string;
}

let log = (...parts: unknown[]) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);

export function loadDataset(size: DatasetName, queries: number): Dataset {
  if (size === 'fashion-mnist') return loadFashionMnist(queries);
  const { count, dimension } = SIZES[size];
  return gaussianMixture(size, count, dimension, Math.min(queries, 1000));
}

function commandOf(options: BenchOptions): string {
  const flags = [`--size ${options.size}`];
  if (!options.peers) flags.push('--no-peers');
  if (options.http === false) flags.push('--no-http');
  if (options.interference === false) flags.push('--no-interference');
  if (options.coldStart === false) flags.push('--no-cold-start');
  return `npm run bench -- ${flags.join(' ')}`;
}

export async function runBench(options: BenchOptions): Promise<{ rows: QueryRow[]; facts: Record<string, unknown> }> {
  if (options.quiet) log = () => undefined;
  const queries = options.queries;
  const ds = loadDataset(options.size, queries);
  log(`dataset ${options.size}: ${ds.count} × ${ds.dimension}, ${ds.queryCount} distinct queries`);
  const { truth, filtered } = await groundTruth(ds, FILTER_KEEPS);
  log('ground truth ready');

  const engine = await benchEngine(ds, truth, filtered, { queries, interference: options.interference ?? true, coldStart: options.coldStart ?? true, log });
  const rows: QueryRow[] = [...engine.rows];
  const facts: Record<string, unknown> = { ...engine.facts };

  if (options.http ?? true) {
    const http = await benchHttp(ds, truth, { queries, log });
    rows.push(...http.rows);
    Object.assign(facts, http.facts);
  }

  if (options.peers) {
    const nlist = nlistFor(ds.count);
    rows.push(...(await benchRawFaiss(ds, truth, ds.dimension > 512 ? `IVF${nlist},SQ8` : `IVF${nlist},Flat`, queries, log)));
    if (peersInstalled()) {
      const lance = await benchLanceDB(ds, truth, nlist, queries, log);
      rows.push(...lance.rows);
      facts['lancedbBuildMs'] = lance.buildMs;
      const hnsw = await benchHnswlib(ds, truth, queries, log);
      rows.push(...hnsw.rows);
      facts['hnswlibBuildMs'] = hnsw.buildMs;
    } else {
      facts['peers'] = 'LanceDB and hnswlib-node not installed (npm run bench installs them into tools/bench/peers)';
    }
  }
  if (options.write) {
    writeReport({ size: options.size, command: options.command ?? commandOf(options), ds, queries, rows, facts });
    log('wrote docs/benchmarks.md and tools/bench/results');
  }
  return { rows, facts };
}
