import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { UnavailableError, type UpsertResult } from '@conifer/core';
import type { RecordInput } from '@conifer/engine';
import {
  decodeError,
  encodeCallHeader,
  FORWARDED_CALL_HEADER,
  INTERNAL_DATA_PATH,
  INTERNAL_RECORDS_PATH,
  INTERNAL_UPSERT_PATH,
  toJson,
  type DataCall,
  type ForwardedUpsertCall,
  type ForwardedUpsertResult,
  type RecordsCall,
} from './internal-protocol.ts';
import { encodeRecordFrame } from './record-frame.ts';

/**
 * A node could not be reached. `sent: false` — the connection was refused, so the request never
 * reached it and can go to another node as it is; `sent: true` — it may have been received (the
 * connection broke or timed out mid-request), so its outcome is unknown.
 */
export class NodeUnreachableError extends UnavailableError {
  readonly sent: boolean;
  constructor(url: string, sent: boolean, cause: unknown) {
    super(sent ? `cluster node ${url} stopped answering; the outcome of the request is unknown` : `cluster node ${url} is unreachable`, { cause });
    this.sent = sent;
  }
}

/** Errors that mean the connection was never established: nothing was sent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * How long an idle kept-alive connection to a node is kept: well below the nodes' own idle
 * timeout (Fastify's default, 72 s), so a request is not sent on a connection the node is closing
 * — which would leave a write's outcome unknown.
 */
const IDLE_SOCKET_MS = 30_000;

/**
 * Calls other nodes' internal endpoints with the cluster secret, over kept-alive connections
 * (node:http, which writes a body to the socket as it is; `fetch` copies each body twice, which a
 * gateway forwarding megabytes of upserts pays for on every one).
 */
export class NodeClient {
  readonly #authorization: string;
  readonly #timeoutMs: number;
  readonly #http = new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  readonly #https = new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });

  constructor(options: { secret: string; timeoutMs?: number }) {
    this.#authorization = `Bearer ${options.secret}`;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Sends one data call to the node at `url`; resolves with its result or throws the node's error. */
  data(url: string, call: DataCall, signal?: AbortSignal): Promise<unknown> {
    return this.#post(url, INTERNAL_DATA_PATH, { 'content-type': 'application/json' }, [Buffer.from(toJson(call))], signal);
  }

  /** Forwards an upsert's body (its chunks, written as they are), as the client sent it, to the writer at `url`. */
  async upsertBody(url: string, call: ForwardedUpsertCall, body: readonly Uint8Array[], signal?: AbortSignal): Promise<ForwardedUpsertResult> {
    const headers = { 'content-type': 'application/octet-stream', [FORWARDED_CALL_HEADER]: encodeCallHeader(call) };
    return (await this.#post(url, INTERNAL_UPSERT_PATH, headers, body, signal)) as ForwardedUpsertResult;
  }

  /** Sends an upsert's records, as a record frame, to the writer at `url`. */
  async upsertRecords(url: string, call: RecordsCall, records: readonly RecordInput[], signal?: AbortSignal): Promise<UpsertResult> {
    const headers = { 'content-type': 'application/octet-stream', [FORWARDED_CALL_HEADER]: encodeCallHeader(call) };
    return (await this.#post(url, INTERNAL_RECORDS_PATH, headers, encodeRecordFrame(records), signal)) as UpsertResult;
  }

  /** Closes the idle connections (those in use close when their requests end). */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }

  /** POSTs `body` to `path` on the node at `url`; its result, or its error. */
  #post(url: string, path: string, headers: Record<string, string>, body: readonly Uint8Array[], signal?: AbortSignal): Promise<unknown> {
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    const https = url.startsWith('https:');
    return new Promise((resolve, reject) => {
      const request = (https ? httpsRequest : httpRequest)(
        `${url}${path}`,
        {
          method: 'POST',
          agent: https ? this.#https : this.#http,
          headers: { authorization: this.#authorization, 'content-length': String(body.reduce((n, chunk) => n + chunk.byteLength, 0)), ...headers },
          signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
        },
        (response) => {
          readAll(response).then(
            (text) => {
              let parsed: unknown;
              try {
                parsed = JSON.parse(text);
              } catch (err) {
                reject(new NodeUnreachableError(url, true, err));
                return;
              }
              const status = response.statusCode ?? 0;
              if (status < 200 || status >= 300) reject(decodeError(status, parsed));
              else resolve((parsed as { result: unknown }).result);
            },
            (err: unknown) => reject(new NodeUnreachableError(url, true, err)),
          );
        },
      );
      request.on('error', (err) => reject(new NodeUnreachableError(url, !NOT_SENT.has(errorCode(err) ?? ''), err)));
      // One write of all the chunks (writev) rather than one per chunk.
      request.cork();
      for (const chunk of body) request.write(chunk);
      request.end();
    });
  }
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.on('aborted', () => reject(new Error('response aborted')));
  });
}
