import { createTRPCClient, httpLink, TRPCClientError, type TRPCClient, type TRPCLink } from '@trpc/client';
import { observable, type Unsubscribable } from '@trpc/server/observable';
import type { ConiferRouter } from './contract.ts';
import { ForeignResponseError, TimeoutError, toConiferError } from './errors.ts';
import { delayBeforeRetry, isRetryableStatus, resolveRetry, type ResolvedRetry, type RetryOptions } from './retry.ts';

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

/** What a call hands tRPC: its signal (caller's and time limit) and its own retry options. */
export interface CallRequest {
  signal?: AbortSignal;
  context?: { retry: ResolvedRetry };
}

/** The typed tRPC client plus error translation, retries and time limits; shared by `Conifer` and its `Index` handles. */
export interface Transport {
  readonly url: string;
  /** Runs one call, rethrowing any failure as the matching Conifer error class. */
  call<T>(fn: (api: TRPCClient<ConiferRouter>, request: CallRequest) => Promise<T>, options?: CallOptions): Promise<T>;
}

/**
 * Whether a failed call may be sent again, and the `Retry-After` its answer carried: an answer
 * that says "try again" (429, 502, 503, 504; from Conifer or from a proxy), or no answer at all
 * (the request never reached a server).
 */
function retryableFailure(error: unknown): { retryAfter: string | null } | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const response = (error.meta as { response?: Response } | undefined)?.response;
  if (response) return isRetryableStatus(response.status) ? { retryAfter: response.headers.get('retry-after') } : undefined;
  const cause: unknown = error.cause;
  if (cause instanceof ForeignResponseError) return isRetryableStatus(cause.status) ? { retryAfter: cause.retryAfter } : undefined;
  return error.shape === undefined ? { retryAfter: null } : undefined;
}

/**
 * Retries as a tRPC link, in front of the HTTP link: it sees each call's operation — so the retry
 * options of that call, in `op.context.retry` — and each failure with the answer behind it. A wait
 * ends as soon as the call is aborted or times out.
 */
function retryLink(clientRetry: ResolvedRetry): TRPCLink<ConiferRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        const retry = (op.context['retry'] as ResolvedRetry | undefined) ?? clientRetry;
        let attempt = 0;
        let subscription: Unsubscribable | undefined;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const send = () => {
          timer = undefined;
          subscription = next(op).subscribe({
            next: (value) => observer.next(value),
            complete: () => observer.complete(),
            error: (error) => {
              const failure = retryableFailure(error);
              if (!failure || attempt >= retry.maxRetries || op.signal?.aborted) {
                observer.error(error);
                return;
              }
              timer = setTimeout(send, delayBeforeRetry(retry, attempt++, failure.retryAfter));
            },
          });
        };
        // An abort during a wait ends the call now (during a request, the HTTP link ends it).
        const onAbort = () => {
          if (timer === undefined) return;
          clearTimeout(timer);
          observer.error(TRPCClientError.from(op.signal!.reason as Error));
        };
        op.signal?.addEventListener('abort', onAbort, { once: true });
        send();
        return () => {
          op.signal?.removeEventListener('abort', onAbort);
          clearTimeout(timer);
          subscription?.unsubscribe();
        };
      });
}

export function createTransport(options: ConiferOptions): Transport {
  const url = options.url.replace(/\/+$/, '');
  const baseFetch = options.fetch ?? fetch;
  const clientRetry = resolveRetry(options.retry);
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  // Every Conifer answer is JSON; anything else (a proxy's HTML error page) is reported by status.
  const checkedFetch: typeof fetch = async (input, init) => {
    const response = await baseFetch(input, init);
    if (!/\bjson\b/i.test(response.headers.get('content-type') ?? '')) {
      await response.body?.cancel();
      throw new ForeignResponseError(response.status, response.headers.get('retry-after'));
    }
    return response;
  };

  const api = createTRPCClient<ConiferRouter>({
    links: [
      retryLink(clientRetry),
      httpLink({
        url: `${url}/trpc`,
        // Queries go as POST too: a query vector does not fit in a URL.
        methodOverride: 'POST',
        headers: () => ({ ...options.headers, 'api-key': options.apiKey }),
        fetch: checkedFetch,
      }),
    ],
  });

  return {
    url,
    async call(fn, callOptions = {}) {
      const timeoutMs = callOptions.timeoutMs ?? defaultTimeout;
      const timeout = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
      const signals = [callOptions.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
      const request = {
        ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
        ...(callOptions.retry !== undefined ? { context: { retry: resolveRetry(callOptions.retry) } } : {}),
      };
      try {
        return await fn(api, request);
      } catch (error) {
        if (callOptions.signal?.aborted) throw callOptions.signal.reason;
        if (timeout?.aborted) throw new TimeoutError(`No answer from the Conifer server at ${url} within ${timeoutMs} ms`, { cause: error });
        throw toConiferError(error, url);
      }
    },
  };
}
