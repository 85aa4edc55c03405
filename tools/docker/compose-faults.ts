/**
 * `npm run cluster:faults` (tools/docker/compose-faults.sh): the compose cluster
 * (deploy/compose/docker-compose.yml) under write and read load through its gateway, through four
 * faults in turn — `docker kill` of a writer, `docker pause`/`unpause` of a writer (a zombie),
 * `docker network disconnect` of a query node (a partition), the database killed for 30 s — each
 * measured for recovery time and errors, then every acknowledged write looked for. Results: a
 * table on stdout, tools/bench/results/compose-faults.json, and the "Compose cluster faults"
 * section of docs/benchmarks.md. Brings the cluster up under a project of its own and removes it
 * (volumes too) at the end, also on failure.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const COMPOSE_FILE = join(ROOT, 'deploy', 'compose', 'docker-compose.yml');
const PROJECT = `conifer-faults-${process.pid}`;
const API_KEY = 'compose-faults-admin-key-0123456789';
const INDEX = 'faults';
const DIMENSION = 16;
const NAMESPACES = ['ns0', 'ns1', 'ns2', 'ns3'];
const DB_OUTAGE_MS = 30_000;
const PAUSE_MS = 10_000;
const PARTITION_MS = 10_000;

const log = (...parts: unknown[]) => console.log(`[cluster:faults ${new Date().toISOString().slice(11, 19)}]`, ...parts);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const composeEnv = { ...process.env, CONIFER_API_KEY: API_KEY, CONIFER_PORT: String(port) };

async function compose(args: string[]): Promise<string> {
  return (await run('docker-compose', ['-p', PROJECT, '-f', COMPOSE_FILE, ...args], { env: composeEnv, maxBuffer: 16 * 1024 * 1024 })).stdout;
}
async function docker(args: string[]): Promise<string> {
  return (await run('docker', args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
}
const container = (service: string) => `${PROJECT}_${service}_1`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers of several shapes, read field by field
async function call(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'api-key': API_KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

interface Event {
  at: number;
  sentAt: number;
  ok: boolean;
  namespace?: string;
}

/** The load: four upsert loops (one per namespace) and two query loops, all through the gateway. */
class Load {
  readonly writes: Event[] = [];
  readonly reads: Event[] = [];
  readonly acknowledged = new Map<string, string[]>(NAMESPACES.map((ns) => [ns, []]));
  #running = true;
  #loops: Promise<void>[] = [];
  #dataPath = '';

  async start(): Promise<void> {
    this.#dataPath = new URL((await call('GET', `/indexes/${INDEX}`)).json.host as string).pathname;
    this.#loops = [...NAMESPACES.map((ns) => this.#writeLoop(ns)), this.#readLoop(), this.#readLoop()];
  }

  async #writeLoop(namespace: string): Promise<void> {
    for (let n = 0; this.#running; n++) {
      const vectors = Array.from({ length: 10 }, (_, i) => ({
        id: `${namespace}-${n}-${i}`,
        values: Array.from({ length: DIMENSION }, (_, d) => Math.sin(n * 10 + i + d)),
      }));
      const sentAt = Date.now();
      let ok = false;
      try {
        const res = await call('POST', `${this.#dataPath}/vectors/upsert`, { namespace, vectors });
        ok = res.status === 200 && res.json.upsertedCount === vectors.length;
      } catch {
        ok = false;
      }
      this.writes.push({ at: Date.now(), sentAt, ok, namespace });
      if (ok) this.acknowledged.get(namespace)!.push(...vectors.map((v) => v.id));
      else await sleep(50);
    }
  }

  async #readLoop(): Promise<void> {
    for (let n = 0; this.#running; n++) {
      const namespace = NAMESPACES[n % NAMESPACES.length]!;
      const sentAt = Date.now();
      let ok = false;
      try {
        const res = await call('POST', `${this.#dataPath}/query`, { namespace, topK: 5, vector: Array.from({ length: DIMENSION }, (_, d) => Math.cos(n + d)) });
        ok = res.status === 200;
      } catch {
        ok = false;
      }
      this.reads.push({ at: Date.now(), sentAt, ok, namespace });
      if (!ok) await sleep(50);
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** Missing acknowledged ids, per namespace. */
  async missing(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [namespace, ids] of this.acknowledged) {
      let missing = 0;
      for (let i = 0; i < ids.length; i += 100) {
        const chunk = ids.slice(i, i + 100);
        const res = await call('GET', `${this.#dataPath}/vectors/fetch?namespace=${namespace}&${chunk.map((id) => `ids=${id}`).join('&')}`, undefined, 30_000);
        if (res.status !== 200) throw new Error(`fetch answered ${res.status}`);
        missing += chunk.filter((id) => !(id in res.json.vectors)).length;
      }
      out[namespace] = missing;
    }
    return out;
  }
}

interface FaultResult {
  fault: string;
  target: string;
  /** Fault → first success of a request of the kind it hits, sent after the fault (ms). */
  recoveryMs: number | null;
  /** Restored (unpause, reconnect, restart) → first such success (ms), where there is a restore. */
  afterRestoreMs: number | null;
  failedWrites: number;
  failedReads: number;
  writes: number;
  reads: number;
}

function firstOkAfter(events: Event[], t: number, namespace?: string): number | null {
  const hit = events.filter((e) => e.ok && e.sentAt >= t && (namespace === undefined || e.namespace === namespace)).sort((a, b) => a.at - b.at)[0];
  return hit ? hit.at - t : null;
}

function window(load: Load, from: number, to: number) {
  const writes = load.writes.filter((e) => e.sentAt >= from && e.sentAt < to);
  const reads = load.reads.filter((e) => e.sentAt >= from && e.sentAt < to);
  return { writes: writes.length, reads: reads.length, failedWrites: writes.filter((e) => !e.ok).length, failedReads: reads.filter((e) => !e.ok).length };
}

async function ownerOf(namespace: string): Promise<string> {
  const view = (await call('GET', `/admin/cluster/namespaces?index=${INDEX}`)).json as { namespaces: { namespace: string; writer: { url: string } | null }[] };
  const row = view.namespaces.find((n) => n.namespace === namespace);
  if (!row?.writer) throw new Error(`no owner for ${namespace}`);
  return new URL(row.writer.url).hostname; // the compose service name (CONIFER_ADVERTISE_URL)
}

async function waitLive(count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const nodes = (await call('GET', '/admin/cluster/nodes')).json.nodes as { live: boolean }[];
      if (nodes.filter((n) => n.live).length >= count) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`fewer than ${count} live nodes after ${timeoutMs} ms`);
    await sleep(500);
  }
}

const results: FaultResult[] = [];
let exitCode = 0;
try {
  log(`bringing up the compose cluster (project ${PROJECT}, gateway on ${base})`);
  await compose(['up', '-d']);
  await waitLive(6);
  log('6 nodes live; creating the index and starting the load (4 writers, 2 readers)');
  const created = await call('POST', '/indexes', {
    name: INDEX,
    dimension: DIMENSION,
    metric: 'cosine',
    spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
  });
  if (created.status !== 201) throw new Error(`create index: ${created.status} ${JSON.stringify(created.json)}`);
  const load = new Load();
  await load.start();
  await sleep(5_000);

  // 1. A writer killed: its namespaces move to the other writer (new epoch, log tail replayed).
  {
    const target = await ownerOf('ns0');
    const t = Date.now();
    await docker(['kill', container(target)]);
    log(`killed ${target} (owner of ns0)`);
    await sleep(10_000);
    const end = Date.now();
    await docker(['start', container(target)]);
    results.push({
      fault: 'docker kill (SIGKILL) of the writer owning ns0',
      target,
      recoveryMs: firstOkAfter(load.writes, t, 'ns0'),
      afterRestoreMs: null,
      ...window(load, t, end),
    });
    await waitLive(6);
    await sleep(5_000);
  }
  // 2. A writer paused (a zombie), then resumed: it must acknowledge nothing once taken over.
  {
    const target = await ownerOf('ns1');
    const t = Date.now();
    await docker(['pause', container(target)]);
    log(`paused ${target} (owner of ns1) for ${PAUSE_MS / 1000} s`);
    await sleep(PAUSE_MS);
    const restored = Date.now();
    await docker(['unpause', container(target)]);
    await sleep(5_000);
    results.push({
      fault: `docker pause of the writer owning ns1 for ${PAUSE_MS / 1000} s, then unpause`,
      target,
      recoveryMs: firstOkAfter(load.writes, t, 'ns1'),
      afterRestoreMs: firstOkAfter(load.writes, restored, 'ns1'),
      ...window(load, t, Date.now()),
    });
    await waitLive(6);
  }
  // 3. A query node cut off the network: reads fall through to the other query node.
  {
    const network = `${PROJECT}_default`;
    const target = 'query-1';
    const t = Date.now();
    await docker(['network', 'disconnect', network, container(target)]);
    log(`disconnected ${target} from ${network} for ${PARTITION_MS / 1000} s`);
    await sleep(PARTITION_MS);
    const restored = Date.now();
    await docker(['network', 'connect', '--alias', target, network, container(target)]);
    await sleep(5_000);
    results.push({
      fault: `docker network disconnect of a query node for ${PARTITION_MS / 1000} s, then connect`,
      target,
      recoveryMs: firstOkAfter(load.reads, t),
      afterRestoreMs: firstOkAfter(load.reads, restored),
      ...window(load, t, Date.now()),
    });
    await waitLive(6);
  }
  // 4. The database down for 30 s: the data path runs on what the nodes last read.
  {
    const target = 'postgres';
    const t = Date.now();
    await docker(['kill', container(target)]);
    log(`killed ${target} for ${DB_OUTAGE_MS / 1000} s`);
    await sleep(DB_OUTAGE_MS);
    const restored = Date.now();
    await docker(['start', container(target)]);
    await sleep(10_000);
    results.push({
      fault: `docker kill of PostgreSQL for ${DB_OUTAGE_MS / 1000} s, then start`,
      target,
      recoveryMs: firstOkAfter(load.writes, t),
      afterRestoreMs: firstOkAfter(load.writes, restored),
      ...window(load, t, Date.now()),
    });
  }

  await load.stop();
  const missing = await load.missing();
  const acknowledged = [...load.acknowledged.values()].reduce((n, ids) => n + ids.length, 0);
  const lost = Object.values(missing).reduce((a, b) => a + b, 0);
  log(`${acknowledged} acknowledged records; ${lost} missing after all faults`);
  const summary = {
    date: new Date().toISOString(),
    command: 'npm run cluster:faults',
    acknowledged,
    lost,
    missing,
    writes: load.writes.length,
    reads: load.reads.length,
    results,
  };
  writeFileSync(join(ROOT, 'tools', 'bench', 'results', 'compose-faults.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const table = [
    '| fault | target | first success after the fault | after the restore | failed writes | failed reads |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.fault} | ${r.target} | ${r.recoveryMs === null ? 'none' : `${r.recoveryMs} ms`} | ${r.afterRestoreMs === null ? '—' : `${r.afterRestoreMs} ms`} | ${r.failedWrites} of ${r.writes} | ${r.failedReads} of ${r.reads} |`,
    ),
  ].join('\n');
  console.log(`\n${table}\n`);
  const section = [
    '<!-- compose-faults:begin (written by npm run cluster:faults) -->',
    '## Compose cluster faults',
    '',
    `Run ${summary.date.slice(0, 16)}Z, \`npm run cluster:faults\`: the compose cluster (deploy/compose/docker-compose.yml: a gateway, two writers, two query nodes, an indexer, PostgreSQL, MinIO; containers of the images \`npm run images\` builds) on this machine, under four upsert loops (10 records each, one namespace each) and two query loops through the gateway. "First success" is the time from the fault to the first success of a request of the kind it hits (a write to the namespace the writer owned; any read; any write), sent after the fault; "after the restore" is the same from the unpause, reconnect or restart. Failed requests count those sent from the fault until 5–10 s after the restore.`,
    '',
    table,
    '',
    `Acknowledged records: ${acknowledged.toLocaleString('en-US')}; missing after every fault: **${lost}**.`,
    '<!-- compose-faults:end -->',
  ].join('\n');
  const docs = join(ROOT, 'docs', 'benchmarks.md');
  const text = readFileSync(docs, 'utf8');
  const begin = text.indexOf('<!-- compose-faults:begin');
  const end = text.indexOf('<!-- compose-faults:end -->');
  writeFileSync(
    docs,
    begin >= 0 && end > begin
      ? `${text.slice(0, begin)}${section}${text.slice(end + '<!-- compose-faults:end -->'.length)}`
      : `${text.trimEnd()}\n\n${section}\n`,
  );
  if (lost > 0) exitCode = 1;
} catch (error) {
  log('failed:', error);
  try {
    log((await compose(['logs', '--tail', '40'])).slice(-8000));
  } catch {
    // the logs are a courtesy
  }
  exitCode = 1;
} finally {
  log('removing the cluster');
  await compose(['down', '-v', '--remove-orphans']).catch((error: unknown) => log('compose down failed:', error));
}
process.exit(exitCode);
