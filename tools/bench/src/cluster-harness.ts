/**
 * A local cluster for the cluster benchmark: Conifer server processes (`node apps/server/src/main.ts`
 * with `CONIFER_ROLES`, started by @conifer/emulators' startServerProcess as `npm run cluster` does)
 * on a PostgreSQL database of their own and one shared store, each optionally pinned to a CPU with
 * `taskset -a -cp` (all its threads; threads it starts later inherit the mask). Also what the
 * benchmark reads from outside: membership (`GET /admin/cluster/nodes`), the id of an index (from
 * PostgreSQL: the REST API does not show it, and the rendezvous key needs it), `/metrics`, and the
 * CPU time of each process (Linux /proc).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startServerProcess, type ServerProcess } from '@conifer/emulators';
import { JsonClient } from './http-client.ts';

export const BENCH_API_KEY = 'bench-admin-key-0123456789abcdef';

type Log = (...parts: unknown[]) => void;

/** A database of its own on the PostgreSQL server `adminUrl` points at, and how to drop it. */
export async function createDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `conifer_bench_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (c) => c.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withClient(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The internal id of a live index (what the rendezvous key of its namespaces starts with). */
export async function indexId(databaseUrl: string, name: string): Promise<string> {
  const res = await withClient(databaseUrl, (c) => c.query<{ id: string }>('select id from indexes where name = $1 and deleted_at is null', [name]));
  const id = res.rows[0]?.id;
  if (id === undefined) throw new Error(`index ${name} not found in the control plane`);
  return id;
}

export interface ClusterNode {
  name: string;
  roles: string;
  process: ServerProcess;
  url: string;
  /** The CPU it is pinned to, or undefined (both cores). */
  cpu: number | undefined;
  dataDir: string;
  /** Its id in the membership (the rendezvous hash input); set by {@link LocalCluster.resolveIds}. */
  id?: string;
  killed?: boolean;
}

export interface MemberView {
  id: string;
  roles: string[];
  url: string;
  state: string;
  live: boolean;
}

/** Whether this machine can pin (Linux taskset and at least two CPUs). */
export function canPin(): boolean {
  if (cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pins one thread of this process (its Linux thread id) to `cpu`. */
export function pinThread(tid: number, cpu: number): void {
  execFileSync('taskset', ['-cp', String(cpu), String(tid)], { stdio: 'ignore' });
}

/** Pins every thread of `pid` to `cpu`; returns the CPUs the main thread may run on afterwards. */
export function pin(pid: number, cpu: number): string {
  execFileSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' });
  return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
}

let clockTicks: number | undefined;
/**
 * CPU seconds (user + system, every thread) a process and its descendants (e.g. an emulator behind
 * its watchdog shell) have used so far; undefined once it is gone.
 */
export function cpuSeconds(pid: number): number | undefined {
  const own = processCpuSeconds(pid);
  if (own === undefined) return undefined;
  return descendants(pid).reduce((sum, child) => sum + (processCpuSeconds(child) ?? 0), own);
}

function descendants(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return children.flatMap((c) => [c, ...descendants(c)]);
  } catch {
    return [];
  }
}

function processCpuSeconds(pid: number): number | undefined {
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5) (utime, stime) are 12 and 13 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/** Sums of Prometheus samples by metric name and label set, e.g. `conifer_requests_total{procedure="/x",status="200"}`. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Sum of every sample of `metric` whose labels include each of `labels` (`name="value"` pairs). */
export function metricSum(samples: Map<string, number>, metric: string, labels: string[] = []): number {
  let sum = 0;
  for (const [key, value] of samples) {
    if (key !== metric && !key.startsWith(`${metric}{`)) continue;
    if (labels.every((l) => key.includes(l))) sum += value;
  }
  return sum;
}

export interface LocalClusterOptions {
  /** Scratch directory: one directory per node under it (removed by the caller). */
  dir: string;
  databaseUrl: string;
  /** CONIFER_STORAGE of every node. */
  storage: string;
  /** Settings of every node (storage credentials, engine knobs). */
  env: Record<string, string>;
  /** Pin nodes to the CPU each start asks for. */
  pin: boolean;
  log: Log;
}

/** Nodes started with {@link LocalCluster.start}; {@link LocalCluster.stop} stops every one still running. */
export class LocalCluster {
  readonly nodes: ClusterNode[] = [];
  readonly secret = randomBytes(24).toString('hex');
  readonly #options: LocalClusterOptions;
  readonly #numbers = new Map<string, number>();

  constructor(options: LocalClusterOptions) {
    this.#options = options;
  }

  get options(): LocalClusterOptions {
    return this.#options;
  }

  /** Starts a node with `roles` named `<base>-<n>`, pinned to `cpu` when pinning; waits for /healthz. */
  async start(roles: string, base: string, cpu: number | undefined, env: Record<string, string> = {}): Promise<ClusterNode> {
    // Numbered per base name (writer-1, writer-2, …; a replacement gets the next number).
    const number = (this.#numbers.get(base) ?? 0) + 1;
    this.#numbers.set(base, number);
    const name = `${base}-${number}`;
    const dataDir = join(this.#options.dir, name);
    mkdirSync(dataDir, { recursive: true });
    const process = await startServerProcess({
      dataDir,
      apiKey: BENCH_API_KEY,
      // Its own process group: a Ctrl-C reaches only the benchmark, which then stops the nodes once.
      detached: true,
      env: {
        ...this.#options.env,
        ...env,
        CONIFER_ROLES: roles,
        CONIFER_CLUSTER_SECRET: this.secret,
        CONIFER_DATABASE_URL: this.#options.databaseUrl,
        CONIFER_STORAGE: this.#options.storage,
      },
    });
    const pinned = this.#options.pin && cpu !== undefined ? cpu : undefined;
    const node: ClusterNode = { name, roles, process, url: process.url, cpu: pinned, dataDir };
    this.nodes.push(node);
    if (pinned !== undefined) {
      const allowed = pin(process.pid, pinned);
      this.#options.log(`cluster: ${name} (${roles}) at ${process.url}, pid ${process.pid}, CPUs ${allowed}`);
    } else {
      this.#options.log(`cluster: ${name} (${roles}) at ${process.url}, pid ${process.pid}, not pinned`);
    }
    return node;
  }

  running(role?: string): ClusterNode[] {
    return this.nodes.filter(
      (n) => !n.killed && n.process.child.exitCode === null && n.process.child.signalCode === null && (!role || n.roles.split(',').includes(role)),
    );
  }

  /** SIGKILL: no drain, no flush, its membership row left to lapse. */
  async kill(node: ClusterNode): Promise<void> {
    node.killed = true;
    node.process.child.kill('SIGKILL');
    await node.process.exited;
  }

  /** The membership as a gateway reads it. */
  async members(client: JsonClient): Promise<MemberView[]> {
    return ((await client.call('GET', '/admin/cluster/nodes')) as { nodes: MemberView[] }).nodes;
  }

  /** Sets `id` on every running node from the membership, waiting (up to `timeoutMs`) until each is listed live. */
  async resolveIds(client: JsonClient, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const members = await this.members(client);
      for (const node of this.running()) node.id ??= members.find((m) => m.url === node.url && m.live)?.id;
      if (this.running().every((n) => n.id !== undefined)) return;
      if (Date.now() > deadline)
        throw new Error(
          `nodes not live in the membership after ${timeoutMs} ms: ${this.running()
            .filter((n) => !n.id)
            .map((n) => n.name)}`,
        );
      await sleep(100);
    }
  }

  /**
   * Waits until the membership lists exactly the running nodes of `role` as live (the killed ones'
   * leases lapsed), then one more refresh interval so every gateway has read it too.
   */
  async awaitMembership(client: JsonClient, role: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const want = () =>
      new Set(
        this.running(role)
          .map((n) => n.url)
          .sort(),
      );
    for (;;) {
      const live = new Set((await this.members(client)).filter((m) => m.live && m.roles.includes(role)).map((m) => m.url));
      const expected = want();
      if (live.size === expected.size && [...expected].every((u) => live.has(u))) break;
      if (Date.now() > deadline) throw new Error(`membership of ${role} nodes did not settle in ${timeoutMs} ms: live ${[...live]}, expected ${[...expected]}`);
      await sleep(100);
    }
    await sleep(1_200);
  }

  /** SIGTERM to every node still running (SIGKILL after `graceMs`), then removes their data dirs. */
  async stop(graceMs = 15_000): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.process.stop(graceMs).catch(() => undefined)));
    for (const n of this.nodes) rmSync(n.dataDir, { recursive: true, force: true });
  }

  /** Synchronous last resort (process exit): SIGKILL whatever still runs. */
  killAllNow(): void {
    for (const n of this.nodes) {
      if (n.process.child.exitCode === null && n.process.child.signalCode === null) n.process.child.kill('SIGKILL');
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
