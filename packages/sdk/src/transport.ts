import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { ConiferRouter } from './contract.ts';
import { ForeignResponseError, TimeoutError, toConiferError } from './errors.ts';
import { delayBeforeRetry, isRetryableStatus, resolveRetry, sleep, type ResolvedRetry, type RetryOptions } from './retry.ts';

export interface ConiferOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:5080`. */
  url: string;
  /** API key; sent in the `Api-Key` header. */
  apiKey: string;
  /** `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /**
   * Time limit of a call in milliseconds, retries and their waits included (default 30000; 0: none).
   * A call over it rejects with `TimeoutError`. Each call may set its own (`CallOptions`).
   */
  timeoutMs?: number;
  /**
   * Retries of answers that say "try again" (HTTP 429 and 503, and 502/504 from a proxy) and of
   * requests that never reached the server, with exponential backoff and jitter, waiting what a
   * `Retry-After` header asks. `false` turns them off. Every Conifer write is idempotent (an upsert
   * replaces, a delete of a deleted id is no error), so retrying one is safe.
   */
  retry?: RetryOptions | false;
}

/** Options of one call, always its last argument. */
export interface CallOptions {
  /** Aborts the call (and its retries); the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Time limit of this call in milliseconds, retries included; overrides the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Retries of this call; overrides the client's `retry` (`false`: one attempt only). */
  retry?: RetryOptions | false;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** The typed tRPC client plus error translation, retries and time limits; shared by `Conifer` and its `Index` handles. */
export interface Transport {
  readonly url: string;
  /** Runs one call, rethrowing any failure as the matching Conifer error class. */
  call<T>(fn: (api: TRPCClient<ConiferRouter>, request: { signal: AbortSignal }) => Promise<T>, options?: CallOptions): Promise<T>;
}

export function createTransport(options: ConiferOptions): Transport {
  const url = options.url.replace(/\/+$/, '');
  const baseFetch = options.fetch ?? fetch;
  const clientRetry = resolveRetry(options.retry);
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Each call has a signal of its own, which tRPC hands to fetch: it says which call's retries apply.
  const retryOfCall = new WeakMap<AbortSignal, ResolvedRetry>();

  // Retries live here, below tRPC, where the status and `Retry-After` of each answer are visible.
  const retryingFetch: typeof fetch = async (input, init) => {
    const signal = init?.signal ?? undefined;
    const retry = (signal && retryOfCall.get(signal)) ?? clientRetry;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await baseFetch(input, init);
      } catch (error) {
        if (signal?.aborted || attempt >= retry.maxRetries) throw error;
        await sleep(delayBeforeRetry(retry, attempt, null), signal);
        continue;
      }
      if (isRetryableStatus(response.status) && attempt < retry.maxRetries) {
        const wait = delayBeforeRetry(retry, attempt, response.headers.get('retry-after'));
        await response.body?.cancel();
        await sleep(wait, signal);
        continue;
      }
      // Every Conifer answer is JSON; anything else (a proxy's HTML error page) is reported by status.
      if (!/\bjson\b/i.test(response.headers.get('content-type') ?? '')) {
        await response.body?.cancel();
        throw new ForeignResponseError(response.status);
      }
      return response;
    }
  };

  const api = createTRPCClient<ConiferRouter>({
    links: [
      httpLink({
        url: `${url}/trpc`,
        // Queries go as POST too: a query vector does not fit in a URL.
        methodOverride: 'POST',
        headers: () => ({ ...options.headers, 'api-key': options.apiKey }),
        fetch: retryingFetch,
      }),
    ],
  });

  return {
    url,
    async call(fn, callOptions = {}) {
      const timeoutMs = callOptions.timeoutMs ?? defaultTimeout;
      const timeout = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
      const signals = [callOptions.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
      // A signal of this call's own (never the caller's object, which may be shared by calls).
      const signal = AbortSignal.any(signals.length > 0 ? signals : [new AbortController().signal]);
      if (callOptions.retry !== undefined) retryOfCall.set(signal, resolveRetry(callOptions.retry));
      try {
        return await fn(api, { signal });
      } catch (error) {
        if (callOptions.signal?.aborted) throw callOptions.signal.reason;
        if (timeout?.aborted) throw new TimeoutError(`No answer from the Conifer server at ${url} within ${timeoutMs} ms`, { cause: error });
        throw toConiferError(error, url);
      }
    },
  };
}
