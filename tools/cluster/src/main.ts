/**
 * `npm run cluster -- [--writers N] [--query Q] [--indexers I] [--gateways M]`: a cluster of Conifer server processes on this
 * machine — the same server `npm start` runs, each with its roles in `CONIFER_ROLES` — on one
 * PostgreSQL database and one shared object store, talking over loopback with a cluster secret.
 * Prints the gateway URL(s); Ctrl-C or SIGTERM stops every node (SIGTERM: they drain and flush).
 *
 * Honours `npm start`'s environment: `CONIFER_API_KEY` (the admin key the first gateway
 * registers; generated and printed when unset), `CONIFER_PORT` (the first gateway's port, default
 * 5080; the others take free ports), `CONIFER_DATA_DIR` (default ./.conifer-cluster: the shared
 * store under `objects/`, one directory per node), `CONIFER_STORAGE` (a bucket instead of local
 * disk), `CONIFER_DATABASE_URL` (else the PostgreSQL server `npm test` uses is started and a
 * `conifer_cluster` database created on it), `CONIFER_CLUSTER_SECRET` (else a random one).
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { REPO_ROOT, startServerProcess, type ServerProcess } from '@conifer/emulators';

const { values } = parseArgs({
  options: {
    writers: { type: 'string', default: '2' },
    gateways: { type: 'string', default: '1' },
    query: { type: 'string', default: '0' },
    indexers: { type: 'string', default: '0' },
  },
});
const writers = Number(values.writers);
const gateways = Number(values.gateways);
const queryNodes = Number(values.query);
if (![writers, gateways].every((n) => Number.isSafeInteger(n) && n >= 1 && n <= 16)) usage('--writers and --gateways take a whole number from 1 to 16');
if (!Number.isSafeInteger(queryNodes) || queryNodes < 0 || queryNodes > 16) usage('--query takes a whole number from 0 to 16');
const indexers = Number(values.indexers);
if (!Number.isSafeInteger(indexers) || indexers < 0 || indexers > 16) usage('--indexers takes a whole number from 0 to 16');

function usage(why: string): never {
  process.stderr.write(`npm run cluster: ${why}\nusage: npm run cluster -- [--writers N] [--query Q] [--indexers I] [--gateways M]\n`);
  process.exit(2);
}

const env = process.env;
const dataDir = path.resolve(env['CONIFER_DATA_DIR'] ?? '.conifer-cluster');
const storage = env['CONIFER_STORAGE'] ?? path.join(dataDir, 'objects');
const secret = env['CONIFER_CLUSTER_SECRET'] ?? randomBytes(24).toString('hex');
const apiKey = env['CONIFER_API_KEY'] ?? `cnf_${randomBytes(24).toString('hex')}`;
const databaseUrl = env['CONIFER_DATABASE_URL'] ?? (await localDatabase());
await mkdir(dataDir, { recursive: true });

/** The PostgreSQL server `npm test` uses (tools/postgres/start.sh), with a database of the cluster's own. */
async function localDatabase(): Promise<string> {
  const out = execFileSync('bash', [path.join(REPO_ROOT, 'tools/postgres/start.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const testUrl = /CONIFER_TEST_DATABASE_URL=(\S+)/.exec(out)?.[1];
  if (!testUrl) throw new Error(`tools/postgres/start.sh printed no database URL:\n${out}`);
  const client = new pg.Client({ connectionString: testUrl });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', ['conifer_cluster']);
    if (exists.rowCount === 0) await client.query('create database conifer_cluster');
  } finally {
    await client.end();
  }
  const url = new URL(testUrl);
  url.pathname = '/conifer_cluster';
  return url.toString();
}

const nodes: ServerProcess[] = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.all(nodes.map((n) => n.stop(30_000)));
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

async function start(roles: string, name: string, port: string): Promise<ServerProcess> {
  const node = await startServerProcess({
    dataDir: path.join(dataDir, name),
    apiKey,
    detached: true,
    env: {
      CONIFER_ROLES: roles,
      CONIFER_CLUSTER_SECRET: secret,
      CONIFER_DATABASE_URL: databaseUrl,
      CONIFER_STORAGE: storage,
      CONIFER_PORT: port,
      CONIFER_LOG_LEVEL: env['CONIFER_LOG_LEVEL'] ?? 'warn',
    },
  });
  nodes.push(node);
  // A node that dies takes the cluster down with it: better than serving half a cluster silently.
  void node.exited.then(({ code, signal }) => {
    if (stopping) return;
    process.stderr.write(`cluster: ${name} exited (${signal ?? code}):\n${node.output().slice(-2000)}\n`);
    void stopAll(1);
  });
  process.stdout.write(`cluster: ${name} (${roles}) at ${node.url}\n`);
  return node;
}

try {
  // Gateways first: the first one registers the admin key.
  const first = await start('gateway', 'gateway-1', env['CONIFER_PORT'] ?? '5080');
  for (let i = 2; i <= gateways; i++) await start('gateway', `gateway-${i}`, '0');
  for (let i = 1; i <= writers; i++) await start('writer', `writer-${i}`, '0');
  for (let i = 1; i <= queryNodes; i++) await start('query', `query-${i}`, '0');
  for (let i = 1; i <= indexers; i++) await start('indexer', `indexer-${i}`, '0');
  process.stdout.write(
    `\nConifer cluster: ${gateways} gateway(s), ${writers} writer(s), ${queryNodes} query node(s), ${indexers} indexer(s) on ${storage}\n` +
      `  gateway: ${first.url}\n` +
      (env['CONIFER_API_KEY'] ? '' : `  admin API key: ${apiKey}\n`) +
      `  stop with Ctrl-C\n`,
  );
} catch (err) {
  process.stderr.write(`cluster: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  await stopAll(1);
}
