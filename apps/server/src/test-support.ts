import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
// Tests only. @conifer/sdk resolves through the workspace link; it should be a devDependency here.
import { Conifer } from '@conifer/sdk';
import { seedPgliteDataDir } from '@conifer/control/testing';
import { buildServer, type BuildOptions, type ConiferServer } from './app.ts';
import { loadConfig } from './config.ts';

/** The server's entry point, for tests that run it as a process. */
export const SERVER_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');

/** An admin key the tests register through CONIFER_API_KEY. */
export const TEST_API_KEY = 'cnf_test_admin_key_0123456789abcdef';

export interface RunningServer {
  server: ConiferServer;
  url: string;
  dataDir: string;
  /** SDK client with the admin key. */
  client: Conifer;
  /** Status code of the last HTTP response `client` received. */
  lastStatus(): number | undefined;
  /** SDK client with another key (or none: ''). */
  clientWithKey(apiKey: string): Conifer;
  /** POSTs a raw body to a tRPC procedure; returns status and parsed JSON. */
  rawPost(procedure: string, body: string, headers?: Record<string, string>): Promise<{ status: number; body: RawErrorBody }>;
}

export interface RawErrorBody {
  error?: { message: string; code: number; data: { code: string; httpStatus: number; path?: string } };
  result?: unknown;
}

/** A REST answer as the tests read it. */
export interface RestAnswer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- wire JSON under test
}

/** A raw HTTP call with the test key, JSON in and out. */
export async function restCall(
  method: string,
  url: string,
  options: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<RestAnswer> {
  const headers: Record<string, string> = { 'api-key': TEST_API_KEY, ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: options.body === undefined ? options.raw : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** A fresh temporary data directory. */
export function tempDataDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'conifer-server-test-'));
}

/**
 * Starts a real server in process, on a free port and a temporary data directory. A temporary
 * directory gets the embedded control plane's database as a first start leaves it, copied from
 * @conifer/control's test template rather than made by initdb again (seconds of CPU per server;
 * `data-dir-lock.test.ts` and control's database.test.ts start from empty directories).
 */
export async function startServer(env: Record<string, string> = {}, options: BuildOptions = {}): Promise<RunningServer & { stop(): Promise<void> }> {
  const dataDir = env.CONIFER_DATA_DIR ?? (await tempDataDir());
  await seedControlDatabase({ ...env, CONIFER_DATA_DIR: dataDir });
  const config = loadConfig({ CONIFER_DATA_DIR: dataDir, CONIFER_PORT: '0', CONIFER_API_KEY: TEST_API_KEY, CONIFER_LOG_LEVEL: 'silent', ...env });
  const server = await buildServer(config, { stdout: { write: () => true }, ...options });
  const url = await server.start();
  let status: number | undefined;
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    status = response.status;
    return response;
  };
  return {
    server,
    url,
    dataDir,
    client: new Conifer({ url, apiKey: TEST_API_KEY, fetch: recordingFetch }),
    lastStatus: () => status,
    clientWithKey: (apiKey) => new Conifer({ url, apiKey, fetch: recordingFetch }),
    async rawPost(procedure, body, headers = {}) {
      const response = await fetch(`${url}/trpc/${procedure}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': TEST_API_KEY, ...headers },
        body,
      });
      return { status: response.status, body: (await response.json()) as RawErrorBody };
    },
    async stop() {
      await server.close();
      if (env.CONIFER_DATA_DIR === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Copies the control-plane template into `<CONIFER_DATA_DIR>/control` when the server will run embedded PGlite and finds none there. */
async function seedControlDatabase(env: Record<string, string>): Promise<void> {
  if (env.CONIFER_DATA_DIR !== undefined && env.CONIFER_DATABASE_URL === undefined) await seedPgliteDataDir(path.join(env.CONIFER_DATA_DIR, 'control'));
}

/** One server for the enclosing `describe`. */
export function useServer(env: Record<string, string> = {}): () => RunningServer {
  let running: (RunningServer & { stop(): Promise<void> }) | undefined;
  beforeAll(async () => {
    running = await startServer(env);
  });
  afterAll(async () => {
    await running?.stop();
  });
  return () => {
    if (!running) throw new Error('server not started yet');
    return running;
  };
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

let counter = 0;
/** An index name unique in this process. */
export function uniqueIndexName(prefix = 'idx'): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

export interface Child {
  process: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * Spawns `node src/main.ts` and waits for its "listening" line. A data directory without a control
 * database gets the template's, as `startServer` does.
 */
export async function spawnServer(env: Record<string, string>, options: { detached?: boolean } = {}): Promise<Child> {
  await seedControlDatabase(env);
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: { ...process.env, CONIFER_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  // 'close' rather than 'exit': by then everything the process printed has been read.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${err}`)), 30_000);
    const check = () => {
      const match = /Conifer listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
  return { process: child, url, stdout: () => out, stderr: () => err, exited };
}
