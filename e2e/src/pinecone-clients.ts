/**
 * The official Pinecone clients of other languages, for e2e/src/pinecone-grpc-clients.test.ts,
 * installed once per machine under TOOLS_BIN (shared by every clone, like the emulators and
 * Schemathesis) and reinstalled only when what they are built from changes:
 *
 * - Python: `pinecone` pinned in e2e/pinecone-clients/python/requirements.txt, in a private
 *   virtualenv (as ./schemathesis.ts installs Schemathesis);
 * - Go: the round-trip program of e2e/pinecone-clients/go (go-pinecone v5 pinned in its go.mod and
 *   go.sum), built with `go build` into a binary named by the hash of its sources.
 *
 * Concurrent callers (parallel test processes) wait for one install through a lock directory;
 * a stamp (Python) or the final rename (Go) comes last, so a half-done install is redone, never used.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { acquireLock, ensureVenv, pinnedVersion, TOOLS_BIN } from '@conifer/emulators';
import { REPO_ROOT } from './server-process.ts';

const run = promisify(execFile);

export const CLIENTS_DIR = join(REPO_ROOT, 'e2e/pinecone-clients');
export const PYTHON_REQUIREMENTS = join(CLIENTS_DIR, 'python/requirements.txt');
export const PYTHON_ROUND_TRIP = join(CLIENTS_DIR, 'python/round_trip.py');
export const PYTHON7_REQUIREMENTS = join(CLIENTS_DIR, 'python7/requirements.txt');
export const PYTHON7_ROUND_TRIP = join(CLIENTS_DIR, 'python7/round_trip.py');
export const GO_ROUND_TRIP_DIR = join(CLIENTS_DIR, 'go');

/** The `pinecone` version the requirements pin, e.g. "10.2.0". */
export function pineconePythonVersion(requirements = readFileSync(PYTHON_REQUIREMENTS, 'utf8')): string {
  return pinnedVersion(PYTHON_REQUIREMENTS, 'pinecone', requirements);
}

/**
 * The Python of a virtualenv holding the pinned Pinecone client, `<TOOLS_BIN>/pinecone-python-<version>`,
 * installed first when missing or installed from other requirements (@conifer/emulators' python-venv.ts).
 */
export async function ensurePineconePython(log: (line: string) => void = () => undefined): Promise<string> {
  const venv = await ensureVenv({
    name: `pinecone-python-${pineconePythonVersion()}`,
    requirementsFile: PYTHON_REQUIREMENTS,
    what: 'the Pinecone Python client',
    log,
  });
  return join(venv, 'bin', 'python');
}

/** The Python of a virtualenv holding the grpcio-based client `pinecone[grpc]` 7.x, as pinned. */
export async function ensurePineconePython7(log: (line: string) => void = () => undefined): Promise<string> {
  const version = pinnedVersion(PYTHON7_REQUIREMENTS, 'pinecone');
  const venv = await ensureVenv({
    name: `pinecone-grpc-python-${version}`,
    requirementsFile: PYTHON7_REQUIREMENTS,
    what: 'the Pinecone Python client (grpcio)',
    log,
  });
  return join(venv, 'bin', 'python');
}

/** The hash of what the Go round trip is built from: go.mod, go.sum and every .go file. */
function goSourcesHash(): string {
  const hash = createHash('sha256');
  const files = readdirSync(GO_ROUND_TRIP_DIR)
    .filter((f) => f === 'go.mod' || f === 'go.sum' || f.endsWith('.go'))
    .sort();
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(GO_ROUND_TRIP_DIR, file)))
      .update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * The Go round-trip binary, built first when missing: `go build` of e2e/pinecone-clients/go into
 * `<TOOLS_BIN>/pinecone-go-round-trip-<hash of its sources>` (through a private directory and a
 * rename, so a reader never sees half a binary). Fails, never skips, when Go is not installed.
 */
export async function ensureGoRoundTrip(log: (line: string) => void = () => undefined): Promise<string> {
  const binary = join(TOOLS_BIN, `pinecone-go-round-trip-${goSourcesHash()}`);
  if (existsSync(binary)) return binary;
  mkdirSync(TOOLS_BIN, { recursive: true });
  const lock = join(TOOLS_BIN, '.pinecone-go-round-trip.lock');
  await acquireLock(lock);
  try {
    if (existsSync(binary)) return binary;
    try {
      await run('go', ['version']);
    } catch (error) {
      throw new Error(
        `Go is needed to build the go-pinecone round trip (${GO_ROUND_TRIP_DIR}) and \`go version\` failed: install Go 1.23 or newer and put it on PATH (${String(error)})`,
        { cause: error },
      );
    }
    log(`conifer-e2e: building the go-pinecone round trip from ${GO_ROUND_TRIP_DIR} into ${binary} (one time; downloads its modules)`);
    const out = await mkdtemp(join(TOOLS_BIN, '.pinecone-go-round-trip-'));
    try {
      // -mod=readonly: go.sum must already hold every module (a change to go.mod is made and
      // checked in with `go mod tidy`, not while testing); -buildvcs=false: the work tree's git
      // state is none of the binary's business.
      await run('go', ['build', '-mod=readonly', '-buildvcs=false', '-o', join(out, 'round-trip'), '.'], {
        cwd: GO_ROUND_TRIP_DIR,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 15 * 60 * 1000,
      });
      renameSync(join(out, 'round-trip'), binary);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    return binary;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface ClientRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs a client program to its end (or kills it after `timeoutMs`). Its environment is this
 * process's less every PINECONE_* variable (a developer's PINECONE_API_KEY, PINECONE_GRPC_SCHEME or
 * PINECONE_CONTROLLER_HOST must not change what is tested), plus `env`.
 */
export function runClient(command: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<ClientRun> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PINECONE_')));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: CLIENTS_DIR, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close', not 'exit': the output is all read by then.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}
