/**
 * Where a server's CPU time went, by request phase, from a V8 CPU profile (`node --cpu-prof`).
 * Each sample is charged to the phase of the innermost frame on its stack that belongs to a
 * phase: a builtin (`Array.prototype.map`, no URL) is charged to the code that called it, so
 * `JSON.parse` inside the body parser counts as body parsing and a faiss search as search.
 * Samples outside a window (the server's start, a settle wait) can be left out.
 */
import { readFileSync } from 'node:fs';

export const PHASES = [
  'HTTP (parse, routing, socket I/O)',
  'body parse',
  'validation',
  'auth',
  'rate limits',
  'metering (usage)',
  'search (engine)',
  'write path (engine: log, memtable)',
  'response shaping',
  'serialisation',
  'service layer (other)',
  'garbage collection',
  'other',
] as const;
export type Phase = (typeof PHASES)[number];

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The phase of one frame, or undefined when it says nothing (a builtin): look at its caller. */
export function phaseOfFrame(frame: CallFrame, mode: 'query' | 'upsert'): Phase | 'idle' | undefined {
  const { functionName: fn, url } = frame;
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'other';
  if (url === '' || url.startsWith('node:internal/per_context')) {
    if (fn === 'parse' || fn === 'JSONParse') return 'body parse';
    if (fn === 'stringify' || fn === 'JSONStringify') return 'serialisation';
    return undefined;
  }
  if (/\/packages\/faiss\/src\/json-numbers\.ts/.test(url)) return 'body parse';
  // The Pinecone plugin's request plumbing: the API-key hook and the raw body's chunks.
  if (/\/apps\/server\/src\/pinecone\/plugin-support\.ts/.test(url)) return 'HTTP (parse, routing, socket I/O)';
  if (/\/packages\/(engine|router|slab|faiss|manifest|index-builder)\//.test(url))
    return mode === 'upsert' && !/\/packages\/router\//.test(url) ? 'write path (engine: log, memtable)' : 'search (engine)';
  if (/\/packages\/(log|memtable)\//.test(url)) return 'write path (engine: log, memtable)';
  if (/upsert-fast-path|upsert-body|content-type-parser|secure-json-parse|\/fastify\/lib\/contentTypeParser/.test(url)) return 'body parse';
  if (/\/node_modules\/zod\/|\/packages\/core\/src\/(schemas|request-schemas|index-schemas|filter)\.ts/.test(url)) return 'validation';
  if (/\/packages\/api\/src\/auth\.ts|\/packages\/control\/src\/.*(auth|key)/i.test(url)) return 'auth';
  if (/\/packages\/api\/src\/rate-limits\.ts/.test(url)) return 'rate limits';
  if (/\/packages\/api\/src\/units\.ts|\/packages\/control\/src\/.*usage/i.test(url)) return 'metering (usage)';
  if (/fast-json-stringify|\/fastify\/lib\/(reply|error-serializer)|serializ/.test(url)) return 'serialisation';
  if (/\/apps\/server\/src\/pinecone\//.test(url)) return 'response shaping';
  if (/\/packages\/(api|control|core)\//.test(url)) return 'service layer (other)';
  if (
    /^node:(_http|http|net|stream|internal\/(streams|http|net|stream_base|js_stream))|\/node_modules\/(fastify|find-my-way|avvio|light-my-request|@fastify)\//.test(
      url,
    )
  ) {
    return 'HTTP (parse, routing, socket I/O)';
  }
  if (/\/apps\/server\/src\//.test(url)) return 'HTTP (parse, routing, socket I/O)';
  return undefined;
}

export interface PhaseBreakdown {
  /** Milliseconds of CPU (not idle) per phase. */
  ms: Record<Phase, number>;
  busyMs: number;
  idleMs: number;
  wallMs: number;
}

/**
 * A time window in the server's profile clock: microseconds of CLOCK_MONOTONIC, which V8's
 * profile timestamps and `process.hrtime` (of any process on the machine) both read.
 */
export interface Window {
  fromUs: number;
  toUs: number;
}

/** Now, in the clock of {@link Window}. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** The time of each sample (the profile's start plus the deltas so far). */
function sampleTimes(profile: CpuProfile): number[] {
  const times: number[] = [];
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    times.push(t);
  }
  return times;
}

export function breakdown(profile: CpuProfile, mode: 'query' | 'upsert', window?: Window): PhaseBreakdown {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const phaseOfNode = new Map<number, Phase | 'idle'>();
  const resolve = (id: number): Phase | 'idle' => {
    const known = phaseOfNode.get(id);
    if (known) return known;
    let phase: Phase | 'idle' | undefined;
    for (let at: number | undefined = id; at !== undefined && phase === undefined; at = parent.get(at)) phase = phaseOfFrame(byId.get(at)!.callFrame, mode);
    const result = phase ?? 'other';
    phaseOfNode.set(id, result);
    return result;
  };
  const ms = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  let idleMs = 0;
  const times = sampleTimes(profile);
  for (let i = 0; i < profile.samples.length; i++) {
    if (window && (times[i]! < window.fromUs || times[i]! > window.toUs)) continue;
    const deltaMs = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const phase = resolve(profile.samples[i]!);
    if (phase === 'idle') idleMs += deltaMs;
    else ms[phase] += deltaMs;
  }
  const busyMs = Object.values(ms).reduce((a, b) => a + b, 0);
  const wallMs = window ? (window.toUs - window.fromUs) / 1000 : (profile.endTime - profile.startTime) / 1000;
  return { ms, busyMs, idleMs, wallMs };
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

/** A markdown table: each phase's share of the main thread's busy time and CPU µs per request. */
export function breakdownTable(result: PhaseBreakdown, requests: number): string {
  const lines = ['| phase | share of busy time | CPU µs per request |', '|---|---:|---:|'];
  for (const phase of PHASES) {
    const ms = result.ms[phase];
    if (ms <= 0) continue;
    lines.push(`| ${phase} | ${((100 * ms) / result.busyMs).toFixed(1)}% | ${((1000 * ms) / requests).toFixed(1)} |`);
  }
  lines.push(`| **total (main thread busy)** | 100% | ${((1000 * result.busyMs) / requests).toFixed(1)} |`);
  return lines.join('\n');
}

/** The functions with the most self time (CPU, not idle), with the phase each is charged to. */
export function topFunctions(profile: CpuProfile, mode: 'query' | 'upsert', count: number, window?: Window): { name: string; phase: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  const times = sampleTimes(profile);
  for (let i = 0; i < profile.samples.length; i++) {
    if (window && (times[i]! < window.fromUs || times[i]! > window.toUs)) continue;
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
  }
  const byName = new Map<string, { name: string; phase: string; ms: number }>();
  for (const [id, ms] of self) {
    const frame = byId.get(id)!.callFrame;
    let phase: string | undefined;
    for (let at: number | undefined = id; at !== undefined && phase === undefined; at = parent.get(at)) phase = phaseOfFrame(byId.get(at)!.callFrame, mode);
    if (phase === 'idle') continue;
    const where = frame.url === '' ? '' : ` (${frame.url.replace(/^.*\/(node_modules|packages|apps)\//, '$1/')})`;
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    const entry = byName.get(name) ?? { name, phase: phase ?? 'other', ms: 0 };
    entry.ms += ms;
    byName.set(name, entry);
  }
  return [...byName.values()].sort((a, b) => b.ms - a.ms).slice(0, count);
}
