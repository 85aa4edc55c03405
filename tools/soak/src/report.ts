/**
 * Results out: the JSON of one run (tools/soak/results/<backend>.json by default), a printed
 * summary, and the "Reliability (soak)" section of docs/benchmarks.md — one row per result file
 * present, between `<!-- soak:begin -->` and `<!-- soak:end -->` (the rest of the file is left
 * alone).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { BACKEND_NAMES } from './backends.ts';
import type { RunChecks } from './client.ts';
import { REPO_ROOT } from './server.ts';
import { OP_KINDS, type Finding, type Mismatch, type OpKind, type OpSummary } from './stats.ts';
import type { Trend } from './trend.ts';
import type { VerifyCounts } from './verify.ts';

export const RESULTS_DIR = join(REPO_ROOT, 'tools/soak/results');
export const DOCS_FILE = join(REPO_ROOT, 'docs/benchmarks.md');
const BEGIN = '<!-- soak:begin -->';
const END = '<!-- soak:end -->';

export interface Distribution {
  min: number;
  median: number;
  max: number;
}

export interface ResourceReport extends Distribution {
  unit: string;
  trend: Trend;
}

export interface RestartEvent {
  atS: number;
  kind: 'clean' | 'kill';
  /** From the signal to the process's exit. */
  stopMs: number;
  /** From the new process's spawn to its first healthy answer. */
  startMs: number;
  exit: string;
}

export interface SoakResult {
  backend: string;
  storage: string;
  command: string;
  machine: string;
  startedAt: string;
  seed: number;
  clients: number;
  plannedMinutes: number;
  /** Seconds of workload (with restarts), and of the whole run (setup, end checks). */
  workloadS: number;
  totalS: number;
  /** The server's tuning variables (the ones the soak sets or passes through; no paths but the allocator's LD_PRELOAD, no key, no database URL). */
  serverEnv: Record<string, string>;
  operations: Record<OpKind, OpSummary>;
  totalOperations: number;
  byFace: Record<string, number>;
  /** Flushes and compactions the server reported over the run (lower bounds: see engine-activity.ts). */
  engineActivity: { flushes: number; compactions: number };
  restarts: { clean: number; kill: number; events: RestartEvent[] };
  runChecks: RunChecks;
  endChecks: { phase: string; counts: VerifyCounts; mismatches: number }[];
  mismatchCount: number;
  mismatches: Mismatch[];
  findingCount: number;
  /** HTTP 5xx answers from a healthy server. */
  serverErrors: number;
  findings: Finding[];
  serverLog: { errors: number; warnings: number; firstErrors: string[] };
  rss: ResourceReport;
  fds: ResourceReport;
  /**
   * Where the RSS is, from the server's /metrics: the V8 heap in use, external memory (Buffers,
   * ArrayBuffers), and the rest of the RSS (`rss − heap total − external`: native allocations —
   * the embedded database's WebAssembly memory, faiss, allocator slack — and code). Absent in
   * results of runs that did not sample it.
   */
  memory?: { heapUsed: ResourceReport; external: ResourceReport; nativeRest: ResourceReport };
  emulatorRss?: Distribution & { unit: string };
  stored?: { objects: Distribution & { last: number }; objectMiB: Distribution & { last: number }; dataDirMiB: Distribution & { last: number } };
  trendMethod: string;
  /**
   * Samples, for anyone who wants to redo the trend: [t s, generation, RSS MiB, fds],
   * [t s, objects, object MiB] and [t s, generation, heap used MiB, heap total MiB, external MiB].
   */
  samples: { resources: [number, number, number, number][]; storage: [number, number, number][]; heap?: [number, number, number, number, number][] };
  passed: boolean;
  /** Why the run failed (empty when it passed). */
  failures: string[];
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} vCPU (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`;
}

const n = (x: number) => x.toLocaleString('en-US');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const ms = (x: number) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x.toFixed(0)) : '—');
const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
/** Whole numbers (counts) as they are, others with one decimal. */
const num = (x: number) => (Number.isInteger(x) ? n(x) : f1(x));
const dist = (d: Distribution) => `${num(d.min)} / ${num(d.median)} / ${num(d.max)}`;

/** The printed summary of one run. */
export function summaryText(r: SoakResult): string {
  const lines: string[] = [];
  lines.push(`soak ${r.passed ? 'PASSED' : 'FAILED'}: backend ${r.backend} (${r.storage}), ${r.clients} clients, seed ${r.seed}`);
  lines.push(`  duration: workload ${minutes(r.workloadS)} (planned ${r.plannedMinutes} min), whole run ${minutes(r.totalS)}`);
  lines.push(`  restarts: ${r.restarts.clean} clean (SIGTERM), ${r.restarts.kill} kill -9`);
  lines.push(
    `  operations: ${n(r.totalOperations)} (sdk ${n(r.byFace['sdk'] ?? 0)}, rest ${n(r.byFace['rest'] ?? 0)}); the server flushed at least ${n(r.engineActivity.flushes)} memtables and ran at least ${n(r.engineActivity.compactions)} compactions`,
  );
  lines.push(
    `    ${'kind'.padEnd(18)}${'count'.padStart(9)}${'ok'.padStart(9)}${'outage'.padStart(8)}${'4xx'.padStart(6)}${'5xx'.padStart(6)}${'no-resp'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}`,
  );
  for (const kind of OP_KINDS) {
    const o = r.operations[kind];
    lines.push(
      `    ${kind.padEnd(18)}${n(o.count).padStart(9)}${n(o.ok).padStart(9)}${n(o.outage).padStart(8)}${String(o.clientErrors).padStart(6)}${String(o.serverErrors).padStart(6)}${String(o.noResponse).padStart(9)}${ms(o.p50Ms).padStart(9)}${ms(o.p99Ms).padStart(9)}`,
    );
  }
  const c = r.runChecks;
  lines.push(
    `  checks during the run: ${n(c.recordsCompared)} records compared (${n(c.readBacks)} read-backs after writes), ${n(c.queriesChecked)} queries, ${n(c.listsChecked)} full listings, ${n(c.afterRestart)} post-restart checks`,
  );
  for (const e of r.endChecks) {
    lines.push(
      `  ${e.phase}: ${n(e.counts.recordsChecked)} records checked, ${n(e.counts.deletedIdsChecked)} deleted ids confirmed gone, ${e.counts.namespacesChecked} namespaces (+${e.counts.deletedNamespacesChecked} deleted), ${e.counts.queriesChecked} queries; ${e.mismatches} mismatches`,
    );
  }
  lines.push(
    `  mismatches: ${r.mismatchCount}; findings (errors from a healthy server, crashes): ${r.findingCount}, of them HTTP 5xx: ${r.serverErrors}; server log: ${r.serverLog.errors} errors, ${r.serverLog.warnings} warnings`,
  );
  lines.push(`  server RSS MiB min/median/max: ${dist(r.rss)}; trend: ${r.rss.trend.text}`);
  lines.push(`  server open fds min/median/max: ${dist(r.fds)}; trend: ${r.fds.trend.text}`);
  if (r.memory) {
    lines.push(`    of the RSS, V8 heap used MiB: ${dist(r.memory.heapUsed)}; trend: ${r.memory.heapUsed.trend.text}`);
    lines.push(`    external (Buffers, ArrayBuffers) MiB: ${dist(r.memory.external)}; trend: ${r.memory.external.trend.text}`);
    lines.push(`    native and the rest MiB: ${dist(r.memory.nativeRest)}; trend: ${r.memory.nativeRest.trend.text}`);
  }
  if (r.emulatorRss) lines.push(`  emulator RSS MiB min/median/max: ${dist(r.emulatorRss)}`);
  if (r.stored)
    lines.push(
      `  stored objects min/median/max/last: ${dist(r.stored.objects)} / ${r.stored.objects.last}; object MiB: ${dist(r.stored.objectMiB)} / ${f1(r.stored.objectMiB.last)}; data dir MiB: ${dist(r.stored.dataDirMiB)}`,
    );
  lines.push(`  trend method: ${r.trendMethod}`);
  for (const m of r.mismatches.slice(0, 20))
    lines.push(
      `  MISMATCH [${m.phase}] ${m.check} ${m.index}/${JSON.stringify(m.namespace)}${m.id ? ` ${m.id}` : ''}: expected ${m.expected.slice(0, 300)} observed ${m.observed.slice(0, 300)}`,
    );
  for (const x of r.findings.slice(0, 20))
    lines.push(`  FINDING at ${x.atS.toFixed(0)} s: ${x.what}${x.op ? ` (${x.op} via ${x.face})` : ''}: ${x.message.slice(0, 300)}`);
  for (const e of r.serverLog.firstErrors.slice(0, 5)) lines.push(`  SERVER LOG: ${e.slice(0, 300)}`);
  if (!r.passed) lines.push(`  failed because: ${r.failures.join('; ')}`);
  return lines.join('\n');
}

export function writeResult(result: SoakResult, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
}

/** Every result file in `dir`, in the order of the backend table (others after, by name). */
export function readResults(dir: string = RESULTS_DIR): SoakResult[] {
  if (!existsSync(dir)) return [];
  const order = (b: string) => {
    const i = (BACKEND_NAMES as string[]).indexOf(b);
    return i < 0 ? BACKEND_NAMES.length : i;
  };
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as SoakResult)
    .sort((a, b) => order(a.backend) - order(b.backend) || (a.backend < b.backend ? -1 : 1));
}

const shortTrend = (t: Trend) => (t.verdict === 'growth' ? t.text.split(' (')[0]! : t.verdict);

/** The generated part of the "Reliability (soak)" section: one row per run. */
export function markdownSection(results: readonly SoakResult[]): string {
  if (results.length === 0) return '_No soak results yet: run `npm run soak -- --backend <name> --minutes N`._\n';
  const lines = [
    '| backend | storage | workload | ops (failed) | restarts clean + kill -9 | records checked at end | mismatches | 5xx | RSS MiB min / median / max | RSS trend | fds min / median / max | fd trend | upsert p50 / p99 ms | query p50 / p99 ms | result |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const failed = OP_KINDS.reduce((sum, k) => sum + r.operations[k].clientErrors + r.operations[k].serverErrors + r.operations[k].noResponse, 0);
    const checked = r.endChecks.map((e) => n(e.counts.recordsChecked)).join(' + ');
    const up = r.operations.upsert;
    const q = r.operations.query;
    lines.push(
      `| ${r.backend} | ${r.storage} | ${minutes(r.workloadS)}, ${r.clients} clients | ${n(r.totalOperations)} (${failed}) | ${r.restarts.clean} + ${r.restarts.kill} | ${checked} | ${r.mismatchCount} | ${r.serverErrors} | ${dist(r.rss)} | ${shortTrend(r.rss.trend)} | ${dist(r.fds)} | ${shortTrend(r.fds.trend)} | ${ms(up.p50Ms)} / ${ms(up.p99Ms)} | ${ms(q.p50Ms)} / ${ms(q.p99Ms)} | ${r.passed ? 'passed' : `**failed**: ${r.failures.join('; ')}`} |`,
    );
  }
  lines.push('');
  for (const r of results) {
    const activity = r.engineActivity
      ? ` The server flushed at least ${n(r.engineActivity.flushes)} memtables and ran at least ${n(r.engineActivity.compactions)} compactions.`
      : '';
    lines.push(
      `- **${r.backend}** (${r.startedAt.slice(0, 10)}, \`${r.command}\`, seed ${r.seed}, ${r.machine}): ${allocatorText(r)}; RSS ${r.rss.trend.text}; fds ${r.fds.trend.text}.${memoryText(r)}${activity}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** The server's malloc, from the allocator settings the run passed on (runs before they were recorded used glibc's). */
export function allocatorText(r: Pick<SoakResult, 'serverEnv'>): string {
  const preload = r.serverEnv['LD_PRELOAD'];
  if (preload !== undefined && preload !== '') return /jemalloc/.test(preload) ? 'server on jemalloc' : `server with LD_PRELOAD=${preload}`;
  const arenas = r.serverEnv['MALLOC_ARENA_MAX'];
  return arenas !== undefined ? `server on glibc malloc, MALLOC_ARENA_MAX=${arenas}` : 'server on glibc malloc';
}

/** Where an RSS trend sits, for runs that sampled the heap. */
function memoryText(r: SoakResult): string {
  if (!r.memory) return '';
  const m = r.memory;
  return ` Of the RSS: V8 heap used ${m.heapUsed.trend.text}; external ${m.external.trend.text}; native and the rest ${m.nativeRest.trend.text}.`;
}

/** Rewrites the soak section of docs/benchmarks.md from the result files (appended with its markers when missing). */
export function updateDocs(docs: string = DOCS_FILE, dir: string = RESULTS_DIR): void {
  const block = `${BEGIN}\n${markdownSection(readResults(dir))}${END}`;
  let text = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n';
  const at = text.indexOf(BEGIN);
  const until = text.indexOf(END, at);
  text = at >= 0 && until >= 0 ? text.slice(0, at) + block + text.slice(until + END.length) : `${text.trimEnd()}\n\n## Reliability (soak)\n\n${block}\n`;
  writeFileSync(docs, text);
}
