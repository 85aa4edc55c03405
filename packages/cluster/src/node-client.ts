import { UnavailableError } from '@conifer/core';
import { decodeError, INTERNAL_DATA_PATH, toJson, type DataCall } from './internal-protocol.ts';

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

/** Calls other nodes' internal endpoints with the cluster secret. */
export class NodeClient {
  readonly #authorization: string;
  readonly #timeoutMs: number;

  constructor(options: { secret: string; timeoutMs?: number }) {
    this.#authorization = `Bearer ${options.secret}`;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Sends one data call to the node at `url`; resolves with its result or throws the node's error. */
  async data(url: string, call: DataCall, signal?: AbortSignal): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${url}${INTERNAL_DATA_PATH}`, {
        method: 'POST',
        headers: { authorization: this.#authorization, 'content-type': 'application/json' },
        body: toJson(call),
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.#timeoutMs)]) : AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new NodeUnreachableError(url, !NOT_SENT.has(errorCode(err) ?? ''), err);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (err) {
      throw new NodeUnreachableError(url, true, err);
    }
    if (!response.ok) throw decodeError(response.status, body);
    return (body as { result: unknown }).result;
  }
}
