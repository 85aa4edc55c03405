import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSchemathesis } from './schemathesis.ts';
import { REPO_ROOT, startServer, tempDataDir, type ServerProcess } from './server-process.ts';

/**
 * Property-based fuzzing of the whole REST surface — control plane, the data plane of a real
 * index, /admin — from the OpenAPI document the server serves, with Schemathesis (pinned in
 * e2e/api-fuzz/requirements.txt, installed on first use by ./schemathesis.ts). Every Schemathesis
 * check runs, and one of ours (e2e/api-fuzz/conifer_hooks.py): no 5xx; every status, content type,
 * header and body as documented; invalid data refused with a 4xx naming the field; valid data
 * accepted; undeclared methods answered 405. Configuration and the reasons for each exception:
 * e2e/api-fuzz/schemathesis.toml.
 *
 * Bounded by the number of cases per operation, not by time, so that a seed names one run:
 * CONIFER_FUZZ_SEED (default below) and CONIFER_FUZZ_MAX_EXAMPLES change them;
 * CONIFER_FUZZ_MAX_TIME=<seconds> instead fuzzes until that time is spent (longer runs by hand).
 */

const SEED = process.env['CONIFER_FUZZ_SEED'] ?? '20260403';
const MAX_EXAMPLES = process.env['CONIFER_FUZZ_MAX_EXAMPLES'] ?? '50';
const MAX_TIME = process.env['CONIFER_FUZZ_MAX_TIME'];
/**
 * The fuzzer's whole run may take this long before it is stopped and the test fails. It runs about
 * four minutes alone on two cores, most of it Schemathesis generating the coverage phase's cases
 * for the operations with a (recursive) metadata filter; slower while `npm test` runs other
 * projects' tests beside it.
 */
const RUN_TIMEOUT_MS = (MAX_TIME !== undefined ? Number(MAX_TIME) + 120 : 600) * 1000;

const CONFIG = join(REPO_ROOT, 'e2e/api-fuzz/schemathesis.toml');
const HOOKS = join(REPO_ROOT, 'e2e/api-fuzz/conifer_hooks.py');
/** The whole output of the last run, for when the failure message is not enough. */
const OUTPUT_FILE = join(REPO_ROOT, 'e2e/api-fuzz/test-results/schemathesis.txt');

const INDEX = 'fuzz';
const DIMENSION = 2;
const DOOMED_INDEX = 'fuzz-doomed';
/** Namespaces that exist, named in schemathesis.toml's dictionary for `{namespace}`. */
const NAMESPACES = ['fuzz-ns-1', 'fuzz-ns-2'];

interface RunResult {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/** Runs the fuzzer to its end (or the timeout), collecting stdout and stderr as one text. */
function runSchemathesis(executable: string, args: string[], env: Record<string, string>, cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

/**
 * The failures and the summary of a run, as Schemathesis prints them (each with its curl line),
 * with lines cut at 2000 characters: a fetch of 1000 ids is a very long URL.
 */
function failureReport(output: string): string {
  const start = output.search(/^=+ (FAILURES|ERRORS|WARNINGS) =+$/m);
  const report = start === -1 ? output : output.slice(start);
  return report
    .split('\n')
    .map((line) => (line.length > 2000 ? `${line.slice(0, 2000)} … (${line.length - 2000} more characters in ${OUTPUT_FILE})` : line))
    .join('\n');
}

describe('REST API fuzzing from the OpenAPI document (Schemathesis)', () => {
  let schemathesis: string;
  let server: ServerProcess;
  let dataDir: string;
  let workDir: string;
  let env: Record<string, string>;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function call(method: string, path: string, body?: unknown, apiKey = server.apiKey): Promise<any> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { 'api-key': apiKey, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text === '' ? undefined : JSON.parse(text);
  }

  beforeAll(
    async () => {
      // The first run on a machine installs Schemathesis (a minute or so): not part of the budget.
      schemathesis = await ensureSchemathesis((line) => console.log(line));
      dataDir = await tempDataDir();
      // Schemathesis writes its own working files where it runs: not into the repository.
      workDir = await mkdtemp(join(tmpdir(), 'conifer-fuzz-'));
      // Rate limits off: a 429 would end a case before the request was looked at.
      server = await startServer({ dataDir, env: { CONIFER_RATE_LIMITS: 'off' } });

      // What the fuzzer works on: a real index with records (dotproduct, so sparse queries are
      // valid), namespaces to describe and delete, the victims of the operations that would
      // otherwise remove the fuzzer's own index or key, and a project to set rate limits on.
      const projectId = (await call('GET', '/admin/whoami')).project.id as string;
      const host = `/projects/${projectId}/indexes/${INDEX}`;
      await call('POST', '/indexes', { name: INDEX, dimension: DIMENSION, metric: 'dotproduct' });
      await call('POST', '/indexes', { name: DOOMED_INDEX, dimension: DIMENSION });
      for (const namespace of ['', ...NAMESPACES]) {
        const vectors = [
          { id: 'a', values: [0.5, 0.25], metadata: { genre: 'drama', year: 2020, tags: ['x', 'y'], live: true } },
          { id: 'b', values: [0.1, 0.2], sparseValues: { indices: [3, 7], values: [0.5, 0.5] } },
        ];
        await call('POST', `${host}/vectors/upsert`, { vectors, namespace });
      }
      const doomedKey = (await call('POST', '/admin/api-keys', { name: 'fuzz-doomed', role: 'read-only' })).key.id as string;
      const other = await call('POST', '/admin/projects', { name: 'fuzz-other' });
      const otherProject = other.project.id as string;
      await call('POST', '/indexes', { name: INDEX, dimension: DIMENSION }, other.apiKey as string);
      env = {
        SCHEMATHESIS_HOOKS: HOOKS,
        CONIFER_FUZZ_API_KEY: server.apiKey,
        CONIFER_FUZZ_PROJECT_ID: projectId,
        CONIFER_FUZZ_INDEX: INDEX,
        CONIFER_FUZZ_DIMENSION: String(DIMENSION),
        CONIFER_FUZZ_DOOMED_INDEX: DOOMED_INDEX,
        CONIFER_FUZZ_DOOMED_KEY_ID: doomedKey,
        CONIFER_FUZZ_OTHER_PROJECT_ID: otherProject,
      };
    },
    20 * 60 * 1000,
  );

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await rm(dataDir, { recursive: true, force: true });
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it(
    'finds no server error, no undocumented answer, and no invalid input accepted or refused without naming the field',
    async () => {
      const args = ['--config-file', CONFIG, 'run', `${server.url}/openapi.json`, '--seed', SEED, '--max-examples', MAX_EXAMPLES, '--no-color'];
      if (MAX_TIME !== undefined) args.push('--max-time', MAX_TIME);
      const started = Date.now();
      const result = await runSchemathesis(schemathesis, args, env, workDir);
      await mkdir(dirname(OUTPUT_FILE), { recursive: true });
      await writeFile(OUTPUT_FILE, result.output);
      const cases = /^\s*(\d+) generated/m.exec(result.output)?.[1] ?? '?';
      console.log(
        `schemathesis: ${cases} cases, seed ${SEED}, ${MAX_EXAMPLES} examples per operation, ${((Date.now() - started) / 1000).toFixed(0)} s (output: ${OUTPUT_FILE})`,
      );

      const alive = await fetch(`${server.url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      const serverErrors = server
        .output()
        .split('\n')
        .filter((line) => line.includes('"level":50'))
        .slice(0, 5)
        .map((line) => (line.length > 600 ? `${line.slice(0, 600)} …` : line));
      const report = [
        result.timedOut ? `Schemathesis was stopped after ${RUN_TIMEOUT_MS / 1000} s.` : `Schemathesis exited with ${result.code}.`,
        `Replay this run: CONIFER_FUZZ_SEED=${SEED} CONIFER_FUZZ_MAX_EXAMPLES=${MAX_EXAMPLES}${MAX_TIME !== undefined ? ` CONIFER_FUZZ_MAX_TIME=${MAX_TIME}` : ''} bash -c 'source tools/setup/env.sh && cd e2e && npx vitest run src/api-fuzz.test.ts'`,
        failureReport(result.output),
        ...(serverErrors.length > 0 ? ['Errors the server logged:', ...serverErrors] : []),
        ...(alive ? [] : ['The server no longer answers /healthz.']),
      ].join('\n');
      // Exit code 0: every check passed on every case.
      if (result.code !== 0 || result.timedOut || !alive) expect.fail(report);
      expect(result.output).toMatch(/^\s*\d+ generated/m);
    },
    RUN_TIMEOUT_MS + 30_000,
  );
});
