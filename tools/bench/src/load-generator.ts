/**
 * The HTTP load generator as a process of its own, so that it can be pinned to a core the server
 * does not use (`taskset`): on a 2-core machine a generator inside the benchmark process competes
 * with the server for CPU. Reads its job as JSON on stdin, writes the result as JSON on stdout.
 *
 *   taskset -c 1 node tools/bench/src/load-generator.ts < job.json
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JsonClient } from './http-client.ts';
import { runConcurrent } from './stats.ts';

export interface LoadJob {
  url: string;
  apiKey: string;
  /** Request path, e.g. `/indexes/bench/query`. */
  path: string;
  /** A file of request bodies, one JSON document per line; request i sends body i mod count. */
  bodiesFile: string;
  requests: number;
  concurrency: number;
  /** Requests sent first and not measured (they open the keep-alive connections). */
  warmup: number;
}

export interface LoadResult {
  latencies: number[];
  wallMs: number;
  /** The ids of each answer's matches, by request (for recall). */
  matchIds: number[][];
}

async function runJob(job: LoadJob): Promise<LoadResult> {
  const bodies = readFileSync(job.bodiesFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => Buffer.from(line));
  const client = new JsonClient(job.url, job.apiKey);
  try {
    const send = async (i: number) => (await client.call('POST', job.path, bodies[i % bodies.length])) as { matches?: { id: string }[] };
    await runConcurrent(job.warmup, job.concurrency, async (i) => void (await send(i)));
    const matchIds: number[][] = new Array(job.requests);
    const run = await runConcurrent(job.requests, job.concurrency, async (i) => {
      const answer = await send(i);
      matchIds[i] = (answer.matches ?? []).map((m) => Number(m.id));
    });
    return { latencies: run.latencies, wallMs: run.wallMs, matchIds };
  } finally {
    client.close();
  }
}

const SELF = fileURLToPath(import.meta.url);

/** Pins every thread of a process to `cpus` (a `taskset` list such as "0" or "0-1"). */
export function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/**
 * Runs a job in a child process, pinned to `cpus` (a `taskset` list such as "1") when given and
 * when the machine has `taskset`.
 */
export function runLoadGenerator(job: LoadJob, cpus?: string): Promise<LoadResult> {
  const command = cpus === undefined ? process.execPath : 'taskset';
  const args = cpus === undefined ? [SELF] : ['-c', cpus, process.execPath, SELF];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with code ${code}`));
      try {
        resolve(JSON.parse(out) as LoadResult);
      } catch (error) {
        reject(new Error(`load generator printed no result: ${(error as Error).message}`));
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}

if (process.argv[1] === SELF) {
  const job = JSON.parse(readFileSync(0, 'utf8')) as LoadJob;
  process.stdout.write(JSON.stringify(await runJob(job)));
}
