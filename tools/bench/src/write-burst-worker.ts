/**
 * The write burst of the isolation phase, on a thread of its own: its requests (megabytes each,
 * assembled per request) then do not share an event loop or a heap with the concurrency-1 query
 * loop being timed, so the query latencies measure the server, not the load generator's pauses.
 */
import { readlinkSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { writeBurst, type EncodedRows } from './cluster-load.ts';
import { JsonClient } from './http-client.ts';

export interface WriteBurstJob {
  url: string;
  apiKey: string;
  host: string;
  tails: Uint8Array[];
  rows: number[];
  namespace: string;
  durationMs: number;
  inFlight: number;
}

const job = workerData as WriteBurstJob;
const encoded: EncodedRows = { tails: job.tails.map((t) => Buffer.from(t.buffer, t.byteOffset, t.byteLength)), rows: job.rows };
const client = new JsonClient(job.url, job.apiKey);
parentPort!.once('message', () => {
  void writeBurst(client, job.host, encoded, job.namespace, job.durationMs, job.inFlight).then((result) => {
    client.close();
    parentPort!.postMessage({ ...result, errors: result.errors.toJSON() });
  });
});
// Its thread id, so the benchmark can pin this thread alone (Linux; undefined elsewhere).
let tid: number | undefined;
try {
  tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
} catch {
  tid = undefined;
}
parentPort!.postMessage({ ready: true, tid });
