/**
 * Results of the cluster benchmark: JSON to tools/bench/results/cluster-<size>.json and a section
 * of docs/benchmarks.md between `<!-- bench:cluster-<size>:begin -->` and `…:end -->` (appended
 * when missing; the rest of the file is left alone).
 */
import { MOVE_SAMPLE, type SlabBytes } from './cluster-moves.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterBenchResult } from './cluster-run.ts';
import type { IsolationVariant, PhaseResult } from './cluster-isolation.ts';
import { machine, writeSection } from './report.ts';
import { round2 } from './stats.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The issue's targets, each with the figure measured and whether it was met. */
export interface TargetCheck {
  part: string;
  target: string;
  measured: string;
  met: boolean;
}

const ms = (x: number) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x.toFixed(0)) : '—');
const n = (x: number) => x.toLocaleString('en');
const pct = (x: number | null) => (x === null ? '—' : `${x}%`);

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

function cacheText(b: SlabBytes | null): string {
  if (b === null) return 'not exposed (local disk)';
  return `${pct(b.cacheShare)} (${MiB(b.queried)} of slabs searched, ${MiB(b.store)} fetched from the store)`;
}

export function targetChecks(r: ClusterBenchResult): TargetCheck[] {
  const [same, other] = r.cluster.variants;
  const single = r.single.variants[0]!;
  const errorsOf = (v: IsolationVariant) => v.burst.errors.count + v.idle.errors.count + v.burstWrites.errors.count;
  const last = r.moves.afterSlices.at(-1)!;
  return [
    {
      part: '1. isolation',
      target: 'query p99 during a full-speed write burst (into another namespace, through the gateway) ≤ 1.5× idle, zero errors',
      measured:
        `queries and writes through gateway A: ${same!.p99Ratio}× (${ms(same!.idle.latency.p99)} → ${ms(same!.burst.latency.p99)} ms), ${errorsOf(same!)} errors` +
        (other
          ? `; queries through gateway B, writes through A: ${other.p99Ratio}× (${ms(other.idle.latency.p99)} → ${ms(other.burst.latency.p99)} ms), ${errorsOf(other)} errors`
          : '') +
        `; single process ${single.p99Ratio}× (${ms(single.idle.latency.p99)} → ${ms(single.burst.latency.p99)} ms), ${errorsOf(single)} errors`,
      met: same!.p99Ratio <= 1.5 && errorsOf(same!) === 0,
    },
    {
      part: '2. failover',
      target: 'SIGKILL of the owning writer → first acknowledged write sent after it ≤ 5 s (max of runs), 0 acknowledged writes lost',
      measured: `max ${n(r.failover.maxMs)} ms, median ${n(r.failover.medianMs)} ms over ${r.failover.runs.length} runs; ${r.failover.lost} of ${n(r.failover.acknowledged)} lost`,
      met: r.failover.maxMs <= 5_000 && r.failover.lost === 0 && r.failover.runs.length > 0,
    },
    {
      part: '3. read-your-writes',
      target: 'write via gateway A, read via gateway B with x-conifer-min-lsn: 100% found',
      measured: `${r.readYourWrites.foundPercent}% of ${n(r.readYourWrites.pairs)} (${r.readYourWrites.readErrors.count} read errors)`,
      met: r.readYourWrites.found === r.readYourWrites.pairs,
    },
    {
      part: '3. staleness',
      target: 'default read via the other gateway: ack → visible p99 ≤ 250 ms',
      measured: `p50 ${ms(r.staleness.ackToVisibleMs.p50)} ms, p99 ${ms(r.staleness.ackToVisibleMs.p99)} ms, max ${ms(r.staleness.ackToVisibleMs.max)} ms over ${n(r.staleness.writes)} writes`,
      met: r.staleness.ackToVisibleMs.p99 <= 250 && r.staleness.neverVisible === 0,
    },
    {
      part: '4. cache',
      target: 'after warm-up, ≥ 95% of the slab bytes queries use served from the query nodes’ caches (not the object store)',
      measured: `before the death ${cacheText(r.moves.slabBytes.before)}; after it ${cacheText(r.moves.slabBytes.after)}`,
      met: r.moves.slabBytes.before?.cacheShare != null && r.moves.slabBytes.before.cacheShare >= 95,
    },
    {
      part: '4. moves',
      target: '1 of 3 query nodes dies: ≤ 40% of namespaces change query node',
      measured: `${r.moves.movedBySamplePercent}% of ${MOVE_SAMPLE.toLocaleString('en-US')} namespace names by rank; of the ${r.moves.namespaces} namespaces served, ${r.moves.movedComputedPercent}% by rank, ${r.moves.movedObservedPercent}% observed (${r.moves.movedAsRanked ? 'exactly those the dead node won' : 'not exactly those the dead node won'})`,
      met: r.moves.movedBySamplePercent <= 40 && r.moves.movedAsRanked,
    },
    {
      part: '4. recovery',
      target: 'p99 back within 1.2× of before within 30 s of the death',
      measured: `p99 before ${ms(r.moves.before.latency.p99)} ms; ${r.moves.afterSlices.map((s) => `${s.fromS}–${s.toS} s: ${ms(s.p99)} ms (${s.p99VsBefore}×)`).join(', ')}; ${r.moves.after.errors.count} errors`,
      met: last.p99VsBefore <= 1.2 && r.moves.after.errors.count === 0,
    },
    {
      part: '5. ingest',
      target: `acknowledged vectors/s through the cluster gateway ≥ 0.9× the single process (the dataset written ${r.single.ingest.passVectorsPerSecond.length} times back to back)`,
      measured: `${r.ingestRatio}× (${n(r.cluster.ingest.vectorsPerSecond)} vs ${n(r.single.ingest.vectorsPerSecond)} vectors/s); first pass alone ${firstPassRatio(r)}×`,
      met: r.ingestRatio >= 0.9,
    },
  ];
}

/** Cluster vs single process over the first ingest pass only (the processes' first writes). */
function firstPassRatio(r: ClusterBenchResult): number {
  return round2(r.cluster.ingest.passVectorsPerSecond[0]! / r.single.ingest.passVectorsPerSecond[0]!);
}

function phaseRow(system: string, via: string, phase: string, p: PhaseResult): string {
  return `| ${system} | ${via} | ${phase} | ${n(p.queries)} | ${p.recall.toFixed(3)} | ${ms(p.latency.p50)} | ${ms(p.latency.p99)} | ${ms(p.latency.qps)} | ${p.errors.count} |`;
}

function cpuLine(p: { cpu: PhaseResult['cpu'] }): string {
  return Object.entries(p.cpu)
    .map(([name, c]) => `${name} ${c.cores}`)
    .join(', ');
}

/** The section; `date` is when the run ended (a section rebuilt from a result file keeps its run's date). */
export function clusterMarkdown(r: ClusterBenchResult, command: string, date = new Date()): string {
  const checks = targetChecks(r);
  const f = r.failover;
  const m = r.moves;
  const same = r.cluster.variants[0]!;
  const single = r.single.variants[0]!;
  const bytes = (b: SlabBytes | null) =>
    b === null
      ? 'not exposed (local disk)'
      : `queries searched ${MiB(b.queried)}; the slab cache served ${MiB(b.memory)} from memory, ${MiB(b.disk)} from disk, ${MiB(b.store)} from the store → ${pct(b.cacheShare)} of the searched bytes without the store`;
  const topo = (nodes: { name: string; roles: string; cpu: string }[]) => nodes.map((t) => `${t.name} (${t.roles}, CPU ${t.cpu})`).join(', ');
  const lines = [
    `## Cluster (roles as processes): synthetic ${r.dataset.name} (${n(r.dataset.count)} × ${r.dataset.dimension})`,
    '',
    `Machine: ${machine()}. Run: ${date.toISOString().slice(0, 16)}Z, ${Math.round(r.wallMs / 60_000)} min. Command: \`${command}\`. Server allocator: ${r.allocator}.`,
    '',
    '`npm run bench:cluster -- [--size XS|S|M] [--quick] [--moves-store local] [--no-write]` (`tools/setup/bench-cluster.sh`: a PostgreSQL server of its own unless `CONIFER_TEST_DATABASE_URL` is set, then `tools/bench/src/cluster-main.ts`) replaces this section and writes `tools/bench/results/cluster-<size>.json`; `--quick` (short phases, for development) prints only. Targets are those of the cluster issue (item 11); a missed one is reported as measured.',
    '',
    'One run, one machine, the same dataset (Gaussian mixture, ids = row numbers) and the same REST load (Pinecone API, `Api-Key` header, keep-alive connections) against:',
    '',
    `- **single process**: \`node apps/server/src/main.ts\` with all roles, unpinned (both cores), as \`npm start\` runs it (PGlite, local-disk store);`,
    `- **cluster** (parts 1, 2, 3, 5): ${topo(r.topology.main)}${r.pinned ? '' : ' — not pinned (taskset or a second CPU missing)'}; PostgreSQL (a database of its own, unpinned), a local directory as the shared store. The writers queue their compactions and ANN builds in PostgreSQL and the indexer (CPU 1, beside them, at nice 19, as every indexer-only node runs by default: it takes the CPU the writers leave) builds them;`,
    `- **part 4** runs on a cluster of its own on ${m.storage}: ${topo(r.topology.moves)}.`,
    '',
    `Every server: ${Object.entries(r.serverEnv)
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(
        ', ',
      )}, other settings default. The load generator (this benchmark) runs unpinned on the same two cores; its CPU use is in the CPU lines below. The write burst of part 1 comes from a worker thread of its own, so the timed query loop does not share an event loop or heap with its 2 MB bodies${r.pinned ? '; for the cluster that thread is pinned to CPU 1, beside the writers it loads (a deployment’s write clients run elsewhere; on CPU 0 its bodies would take the query path’s core; runs before 2026-12-05 left it unpinned, and measured 1.57–1.59× on 2026-12-04), while for the single process it runs unpinned like the rest' : ''}.`,
    '',
    '| part | target | measured | status |',
    '|---|---|---|---|',
    ...checks.map((c) => `| ${c.part} | ${c.target} | ${c.measured} | ${c.met ? 'met' : '**missed**'} |`),
    '',
    `**1. Isolation** — concurrency-1 queries (topK 10, default recall target) on namespace \`main\` (settled: ${r.cluster.settle.slabs.join(', ')}), idle, then while 4 upserts of up to 1,000 records are kept in flight for ${(same.burstWrites.wallMs / 1000).toFixed(0)} s into **another namespace of the same index** (\`burst\`: cycling through the dataset, a new namespace first, then rewrites; its flushes and compactions run meanwhile, in the writer). The writes go through the single process or gateway A; the queries through the same endpoint, and for the cluster also through gateway B (its own idle phase and burst, the burst namespace settled in between).`,
    '',
    '| system | queries via | phase | queries | recall@10 | p50 ms | p99 ms | QPS | errors |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
    ...[['single process', single] as const, ...r.cluster.variants.map((v) => ['cluster', v] as const)].flatMap(([system, v]) => [
      phaseRow(system, v.label, 'idle', v.idle),
      phaseRow(system, v.label, 'write burst', v.burst),
    ]),
    '',
    ...[['single process', single] as const, ...r.cluster.variants.map((v) => ['cluster', v] as const)].map(
      ([system, v]) =>
        `- ${system}, queries via ${v.label}: p99 burst/idle ${v.p99Ratio}× (p50 ${v.p50Ratio}×); burst writes ${n(v.burstWrites.vectorsPerSecond)} vectors/s acknowledged, ${v.burstWrites.errors.count} write errors. CPU in cores (CPU seconds / wall seconds) — idle: ${cpuLine(v.idle)}; burst: ${cpuLine(v.burst)}.`,
    ),
    '',
    `**2. Failover** — ${f.clientLoops} client loops upsert one record at a time into namespace \`failover\` through gateway A. Each of ${f.runs.length} runs SIGKILLs the writer that owns it (observed from the writers' /metrics; the rendezvous winner agreed in ${f.runs.filter((x) => x.rankAgreed).length} of ${f.runs.length}), measures kill → first acknowledgement of a write sent after the kill, then starts a replacement writer (CPU 1) and waits until the membership shows it, so two writers are alive at every kill. Times (ms), with the logged writes not yet flushed at the kill (which the next owner replays) in brackets: ${f.runs.map((x) => `${x.failoverMs} [${n(x.unflushedLsns)}]`).join(', ')}. Max ${n(f.maxMs)}, median ${n(f.medianMs)}, p90 ${n(f.p90Ms)}. Acknowledged ${n(f.acknowledged)} writes, all fetched back through gateway B (strong reads): ${f.lost} lost. Refused writes (the client's errors): ${f.errors.count} ${JSON.stringify(f.errors.byKind)}.`,
    '',
    `**3. Reads across gateways** — read-your-writes: ${n(r.readYourWrites.pairs)} pairs in ${r.readYourWrites.concurrency} loops (one namespace each): upsert of one record through gateway A, then a fetch of it through gateway B with \`x-conifer-min-lsn\` = the write's \`x-pinecone-request-lsn\`: ${n(r.readYourWrites.found)} found (${r.readYourWrites.foundPercent}%), read p50 ${ms(r.readYourWrites.readMs.p50)} ms / p99 ${ms(r.readYourWrites.readMs.p99)} ms, write + read p50 ${ms(r.readYourWrites.pairMs.p50)} ms / p99 ${ms(r.readYourWrites.pairMs.p99)} ms; ${r.readYourWrites.readErrors.count} read errors, ${r.readYourWrites.writeErrors.count} write errors; ${r.readYourWrites.indexedLsnBelowWrite} answers whose \`x-pinecone-max-indexed-lsn\` was below the write. Default-mode staleness: ${n(r.staleness.writes)} writes through A in ${r.staleness.concurrency} loops, each after a random pause of 0–${r.staleness.jitterMs} ms (so the writes fall at random points of the query node's 100 ms refresh cycle; without it a loop writes just after each refresh and measures a whole interval) and followed by default fetches through B every ${r.staleness.pollMs} ms until it is there: ack → first answer that holds it p50 ${ms(r.staleness.ackToVisibleMs.p50)} ms, p99 ${ms(r.staleness.ackToVisibleMs.p99)} ms, max ${ms(r.staleness.ackToVisibleMs.max)} ms (${n(r.staleness.staleReads)} stale reads, ${r.staleness.neverVisible} never visible within 10 s, ${r.staleness.errors.count} errors). The query node refreshes each replica every 100 ms.`,
    '',
    `**4. Cache affinity and moves** — ${m.namespaces} namespaces of ${n(m.recordsPerNamespace)} records, each settled into a slab (${m.settleMs} ms); rendezvous winners per query node: ${JSON.stringify(m.winnersPerNode)}. After a warm-up (every namespace read 3 times, then ${(m.warmMs / 1000).toFixed(0)} s of the round-robin queries below, not measured), the query node that served each namespace (observed from the query nodes' /metrics around one query) was its rendezvous winner for ${m.servedByWinnerBefore}% of namespaces (after the death: ${m.servedByWinnerAfter}% among the survivors). Concurrency-1 queries round-robin over the namespaces: before, p50 ${ms(m.before.latency.p50)} ms / p99 ${ms(m.before.latency.p99)} ms (${m.before.errors.count} errors); SIGKILL of ${m.victim}: ${m.movedComputedPercent}% of namespaces change query node by rank, ${m.movedObservedPercent}% observed (${m.movedThoughNotOnVictim} moved that the dead node did not serve); of ${MOVE_SAMPLE.toLocaleString('en-US')} namespace names ranked the same way (not served), ${m.movedBySamplePercent}% had the dead node as winner — the moved share of a few dozen names is the dead node's share of them, which varies by several points around a third; after, over ${m.afterSlices.at(-1)!.toS} s: p50 ${ms(m.after.latency.p50)} ms / p99 ${ms(m.after.latency.p99)} ms (${m.after.errors.count} errors), by slice ${m.afterSlices.map((s) => `${s.fromS}–${s.toS} s p99 ${ms(s.p99)} ms`).join(', ')}. The first query of each moved namespace on its new node (which opens the replica there, from the store): p50 ${ms(m.firstReadAfterMoveMs.p50)} ms, max ${ms(m.firstReadAfterMoveMs.max)} ms over ${m.firstReadAfterMoveMs.count}. CPU in cores before the death: ${cpuLine(m.before)}; after: ${cpuLine(m.after)}.`,
    `Slab bytes on the query nodes (\`conifer_replica_slab_bytes_queried\`: slabs each query searched, held in memory by its replica; \`conifer_slab_cache_served_bytes\`: what the slab cache served when replicas opened or took in a new slab): warm-up ${bytes(m.slabBytes.warmUp)}; after warm-up, before the death ${bytes(m.slabBytes.before)}; after the death ${bytes(m.slabBytes.after)}. A replica keeps the slabs of its current manifest in memory and reads a slab through the cache only when it opens a namespace or installs a manifest with a new slab; a namespace that moves is opened from the store on its new node (the cache is per node).`,
    '',
    `**5. Ingest** — the whole dataset into \`main\`, ${r.single.ingest.passVectorsPerSecond.length} times back to back (the later passes rewrite the same ids; the flushes and compactions of the earlier ones run beside them), bodies of up to 1,000 records encoded before the clock starts, 4 requests in flight, same batches for both: single process ${n(r.single.ingest.vectorsPerSecond)} vectors/s (passes: ${r.single.ingest.passVectorsPerSecond.map(n).join(', ')}), cluster (through gateway A to the owning writer) ${n(r.cluster.ingest.vectorsPerSecond)} vectors/s (passes: ${r.cluster.ingest.passVectorsPerSecond.map(n).join(', ')}): ${r.ingestRatio}×; the first pass alone ${firstPassRatio(r)}×. Time per upsert request (p50 / p99): single process ${ms(r.single.ingest.requestMs.p50)} / ${ms(r.single.ingest.requestMs.p99)} ms, cluster ${ms(r.cluster.ingest.requestMs.p50)} / ${ms(r.cluster.ingest.requestMs.p99)} ms. Runs before 2026-12-05 12:30Z wrote the dataset once (1–2 s at S, mostly processes warming up) and compared that pass.`,
    '',
    'Notes:',
    '',
    "- A gateway forwards each REST upsert body to the owning writer unparsed, reading only its namespace near the ends of the text (ADR 0006 addendum): the parsing and validation run on the writer's core. The single process does them on the event loop that answers queries, with both cores to run on.",
    "- Ingest: the writer does all of an upsert's work (parsing, validation, log, memtable, its garbage collector's helper threads) on its one core, where the single process spreads the same work over both (about 1.24 cores at 4 in flight); making the shared work cheaper speeds the single process at least as much (reading bodies straight into float32 sped it up more than the cluster). Since 2026-12-05 12:10Z a writer without the query role counts its buffers into its heap's collection limit (ADR 0006 addendum): its full collections, whose marking took about a third of its core's time during ingest, fell to about a third; the single process, which holds its slabs outside the heap, keeps V8's default.",
    "- The indexer's lower priority covers its scheduling group (ADR 0006 addendum): each node here is a session of its own, and Linux shares a core evenly between sessions whatever their threads' nice values. Runs before 2026-12-05 10:00Z had only the indexer's threads niced, so it took nearly as much of CPU 1 as the writer during a burst (0.52 writer, 0.4 indexer; burst writes about 23,000 vectors/s, ingest 0.79–0.91×).",
    '- A query node refreshes the replicas read in the last 30 s every 100 ms (a few store requests each: the next manifest version, the next log object); an idle one is refreshed by its next read instead.',
    '- Failover includes the new owner replaying the log since the last flush; a namespace whose owners are killed every few seconds never reaches the memtable age flush (30 s), so that tail (in brackets in part 2) grows from run to run.',
    '',
  ];
  return lines.join('\n');
}

export function writeClusterReport(r: ClusterBenchResult, command: string): void {
  mkdirSync(join(ROOT, 'tools/bench/results'), { recursive: true });
  const date = new Date();
  const json = { machine: machine(), command, date: date.toISOString(), targets: targetChecks(r), ...r };
  writeFileSync(join(ROOT, `tools/bench/results/cluster-${r.dataset.name}.json`), JSON.stringify(json, null, 2) + '\n');
  writeSection(`cluster-${r.dataset.name}`, clusterMarkdown(r, command, date));
}
