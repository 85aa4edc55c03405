/**
 * Conifer through gRPC: Pinecone's `VectorService` on the index's own port (the server runs with
 * CONIFER_INDEX_HOSTS=ports), driven by a grpc-js client in this process, beside the REST rows of
 * the same server:
 *
 * - queries (topK 10) at concurrency 1, 8 and 32 on the index the REST rows measured, after a
 *   warm-up, as many requests as the REST rows;
 * - bulk ingest into an index of its own: 1000 records per request, fewer where that would pass the
 *   request size limit (with the same metadata as the REST bodies), 4 in flight, acknowledged
 *   vectors per second.
 *
 * Requests are encoded before the clock starts, as the REST rows' bodies are: the client sends
 * ready protobuf bytes, so the figures are the server's (a generated client encodes them itself).
 */
import { join } from 'node:path';
import { Metadata, credentials, loadPackageDefinition, makeGenericClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { LIMITS } from '@conifer/core';
import { REPO_ROOT } from '@conifer/emulators';
import { queryOf, type Dataset } from './dataset.ts';
import { meanRecall, runConcurrent, summarize, type QueryRow } from './stats.ts';

type Log = (...parts: unknown[]) => void;

const K = 10;
const RECORDS_PER_UPSERT = 1000;
const WARMUP_QUERIES = 2_000;

/** The proto the server serves, so requests are encoded exactly as its decoder expects. */
const PROTO = join(REPO_ROOT, 'apps/server/src/grpc/db_data.proto');

export interface MethodCodec {
  requestSerialize(value: object): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

/** The encoder and decoder of each `VectorService` method, by name (`Query`, `Upsert`, …). */
export function vectorServiceCodecs(): Record<string, MethodCodec> {
  const loaded = loadPackageDefinition(loadSync(PROTO, { longs: Number, defaults: false, oneofs: true })) as unknown as {
    VectorService: { service: Record<string, MethodCodec> };
  };
  return loaded.VectorService.service;
}

/** A client sending pre-encoded requests on one HTTP/2 connection. */
class RawVectorClient {
  readonly #client: Client;
  readonly #metadata: Metadata;
  readonly codecs: Record<string, MethodCodec>;

  constructor(host: string, apiKey: string) {
    this.codecs = vectorServiceCodecs();
    const Generic = makeGenericClientConstructor({}, 'VectorService');
    this.#client = new Generic(host.replace(/^http:\/\//, ''), credentials.createInsecure());
    this.#metadata = new Metadata();
    this.#metadata.set('api-key', apiKey);
  }

  call<T>(method: string, request: Buffer): Promise<T> {
    const codec = this.codecs[method]!;
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        `/VectorService/${method}`,
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => codec.responseDeserialize(bytes) as T,
        request,
        this.#metadata,
        (error: ServiceError | null, response?: T) => (error ? reject(error) : resolve(response!)),
      );
    });
  }

  close(): void {
    this.#client.close();
  }
}

/** Query rows over gRPC against the index at `host` (already ingested and settled). */
export async function grpcQueryRows(host: string, apiKey: string, ds: Dataset, truth: Int32Array, requests: number, log: Log): Promise<QueryRow[]> {
  const client = new RawVectorClient(host, apiKey);
  try {
    const encode = client.codecs.Query!.requestSerialize;
    const bodies = Array.from({ length: ds.queryCount }, (_, i) => encode({ topK: K, vector: Array.from(queryOf(ds, i)) }));
    const query = async (i: number): Promise<number[]> => {
      const res = await client.call<{ matches?: { id: string }[] }>('Query', bodies[i % bodies.length]!);
      return (res.matches ?? []).map((m) => Number(m.id));
    };
    await runConcurrent(WARMUP_QUERIES, 32, async (i) => void (await query(i)));
    const rows: QueryRow[] = [];
    for (const concurrency of [1, 8, 32]) {
      const got: number[][] = new Array(requests);
      const run = await runConcurrent(requests, concurrency, async (i) => {
        got[i] = await query(i);
      });
      rows.push({
        system: 'conifer (gRPC)',
        scenario: 'gRPC Query, default target',
        concurrency,
        recall: meanRecall(K, got, truth, ds.queryCount),
        latency: summarize(run.latencies, run.wallMs),
      });
      log('grpc query c', concurrency, rows.at(-1));
    }
    return rows;
  } finally {
    client.close();
  }
}

/**
 * Records per gRPC upsert: 1000, or fewer when that many would pass the request size limit (a
 * record is its packed float32 values plus its id, metadata and framing, under 64 bytes here), as
 * the REST bodies are cut by bytes too: 655 at 784 dimensions.
 */
export function recordsPerUpsert(dimension: number): number {
  return Math.min(RECORDS_PER_UPSERT, Math.floor(LIMITS.maxRequestBytes / (dimension * 4 + 64)));
}

/** Bulk ingest over gRPC into the (new, empty) index at `host`: acknowledged vectors per second. */
export async function grpcIngest(host: string, apiKey: string, ds: Dataset): Promise<number> {
  const client = new RawVectorClient(host, apiKey);
  try {
    const encode = client.codecs.Upsert!.requestSerialize;
    const batches: { body: Buffer; count: number }[] = [];
    const perUpsert = recordsPerUpsert(ds.dimension);
    for (let start = 0; start < ds.count; start += perUpsert) {
      const end = Math.min(ds.count, start + perUpsert);
      const vectors = [];
      for (let row = start; row < end; row++) {
        vectors.push({
          id: String(row),
          values: Array.from(ds.vectors.subarray(row * ds.dimension, (row + 1) * ds.dimension)),
          ...(ds.buckets[row] !== undefined ? { metadata: { fields: { bucket: { numberValue: ds.buckets[row] } } } } : {}),
        });
      }
      batches.push({ body: encode({ vectors }), count: end - start });
    }
    let next = 0;
    const run = await runConcurrent(4, 4, async () => {
      for (let batch = batches[next++]; batch !== undefined; batch = batches[next++]) {
        const res = await client.call<{ upsertedCount?: number }>('Upsert', batch.body);
        if (res.upsertedCount !== batch.count) throw new Error(`gRPC upsert acknowledged ${res.upsertedCount} of ${batch.count} records`);
      }
    });
    return Math.round((ds.count / run.wallMs) * 1000);
  } finally {
    client.close();
  }
}
