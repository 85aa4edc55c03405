/**
 * The HTTP load generator as a process of its own, so that it can be pinned to a core the server
 * does not use (`taskset`): on a 2-core machine a generator inside the benchmark process competes
 * with the server for CPU. Reads its job as JSON on stdin, writes the result as JSON on stdout.
 *
 *   taskset -c 1 node tools/bench/src/load-generator.ts < job.json
 *
 * REST jobs go over node:http keep-alive connections (one per request in flight); gRPC jobs
 * (Pinecone's `VectorService/Query`) over one node:http2 session, as a gRPC channel multiplexes
 * its calls, with each message encoded and framed before the clock. Both are Node's own clients
 * with no framework on top: a grpc-js client costs several times the CPU per call of either, so on
 * a shared machine it measured the client more than the server.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { vectorServiceCodecs } from './grpc.ts';
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
  /** `rest` (default): POST `path` with each body; `grpc`: `VectorService/Query` with each body's fields. */
  protocol?: 'rest' | 'grpc';
}

export interface LoadResult {
  latencies: number[];
  wallMs: number;
  /** The ids of each answer's matches, by request (for recall). */
  matchIds: number[][];
}

interface QueryAnswer {
  matches?: { id: string }[];
}

/** Sends body i mod count (as the job's protocol says); `close` ends its connections. */
interface Sender {
  send(i: number): Promise<QueryAnswer>;
  close(): void;
}

function restSender(job: LoadJob, lines: string[]): Sender {
  const bodies = lines.map((line) => Buffer.from(line));
  const client = new JsonClient(job.url, job.apiKey);
  return {
    send: async (i) => (await client.call('POST', job.path, bodies[i % bodies.length])) as QueryAnswer,
    close: () => client.close(),
  };
}

function grpcSender(job: LoadJob, lines: string[]): Sender {
  const codec = vectorServiceCodecs()['Query']!;
  // gRPC's length-prefixed message: a compressed flag (0), the length (big-endian), the bytes.
  const frames = lines.map((line) => {
    const message = codec.requestSerialize(JSON.parse(line) as object);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    return frame;
  });
  const session = http2.connect(job.url);
  const headers = { ':method': 'POST', ':path': '/VectorService/Query', 'content-type': 'application/grpc', te: 'trailers', 'api-key': job.apiKey };
  const send = (i: number) =>
    new Promise<QueryAnswer>((resolve, reject) => {
      const stream = session.request(headers);
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message: string | undefined;
      // A call refused before any message (a wrong API key) is "trailers-only": its status comes
      // in the response headers, not in trailers.
      const readStatus = (fields: http2.IncomingHttpHeaders) => {
        if (fields['grpc-status'] !== undefined) status = String(fields['grpc-status']);
        if (fields['grpc-message'] !== undefined) message = decodeURIComponent(String(fields['grpc-message']));
      };
      stream.on('response', readStatus);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('trailers', readStatus);
      stream.on('error', reject);
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        if (status !== '0' || body.length < 5) return reject(new Error(`gRPC Query failed: grpc-status ${status}${message ? ` (${message})` : ''}`));
        resolve(codec.responseDeserialize(body.subarray(5, 5 + body.readUInt32BE(1))) as QueryAnswer);
      });
      stream.end(frames[i % frames.length]);
    });
  return { send, close: () => session.close() };
}

async function runJob(job: LoadJob): Promise<LoadResult> {
  const lines = readFileSync(job.bodiesFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '');
  const sender = job.protocol === 'grpc' ? grpcSender(job, lines) : restSender(job, lines);
  try {
    await runConcurrent(job.warmup, job.concurrency, async (i) => void (await sender.send(i)));
    const matchIds: number[][] = new Array(job.requests);
    const run = await runConcurrent(job.requests, job.concurrency, async (i) => {
      const answer = await sender.send(i);
      matchIds[i] = (answer.matches ?? []).map((m) => Number(m.id));
    });
    return { latencies: run.latencies, wallMs: run.wallMs, matchIds };
  } finally {
    sender.close();
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
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('error', reject);
    child.on('close', (code) => {
      // The child's failure, as it printed it (the error's own line, not its stack).
      const cause = /^\w*Error: .*$/m.exec(err)?.[0] ?? err.trim().split('\n').slice(-3).join(' | ');
      if (code !== 0) return reject(new Error(`load generator exited with code ${code}: ${cause}`));
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
