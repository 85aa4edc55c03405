import { sleep, SYSTEM_CLOCK, SYSTEM_RANDOM, type Clock, type RandomSource } from '@conifer/core';
import { newWriteToken } from './cloud-common.ts';
import {
  hasWriteTokens,
  isPreconditionFailed,
  ObjectStoreError,
  readRangeIntoOf,
  type ListOptions,
  type ListPage,
  type ObjectBody,
  type ObjectMeta,
  type ObjectStore,
  type TokenedMeta,
  type WriteTokenSupport,
} from './object-store.ts';

/** Tuning of `withRetries`. Every default is documented where it is defined. */
export interface RetryOptions {
  /** Attempts per call, the first included. Default 10. */
  maxAttempts?: number;
  /** Backoff before the first retry; it doubles with each retry, with full jitter. Default 50 ms. */
  baseDelayMs?: number;
  /** Cap on one backoff. Default 2 s. Throttled calls back off from four times the base. */
  maxDelayMs?: number;
  /**
   * Overall deadline of one call, retries and backoffs included: a call never takes longer than
   * this (plus one scheduling tick). Default 30 s.
   */
  deadlineMs?: number;
  /**
   * One attempt that has not answered after this long is abandoned and counts as a transient
   * failure (its request is not cancelled and may still land; conditional writes stay safe through
   * the write token). Default 20 s, and never beyond the call's deadline.
   */
  attemptTimeoutMs?: number;
  /** Told about every retry (logging, metrics). */
  onRetry?: (event: RetryEvent) => void;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  random?: RandomSource;
  /** Time of deadlines, attempt timeouts and backoff. Default: the system clock. */
  clock?: Clock;
}

export interface RetryEvent {
  operation: string;
  key: string;
  /** The attempt that failed (1 = the first). */
  attempt: number;
  delayMs: number;
  error: ObjectStoreError;
}

export const DEFAULT_RETRY_OPTIONS: Required<Omit<RetryOptions, 'onRetry'>> = {
  maxAttempts: 10,
  baseDelayMs: 50,
  maxDelayMs: 2_000,
  deadlineMs: 30_000,
  attemptTimeoutMs: 20_000,
  random: SYSTEM_RANDOM,
  clock: SYSTEM_CLOCK,
};

/** Counters of a retrying store, for tests and metrics. */
export interface RetryStats {
  retries: number;
  /** Calls that failed after retrying (deadline or attempts exhausted). */
  exhausted: number;
  /** Attempts abandoned by `attemptTimeoutMs`. */
  attemptTimeouts: number;
  /** Conditional writes found to have succeeded after all, through their write token. */
  recoveredConditionalWrites: number;
}

export interface RetryingObjectStore extends ObjectStore {
  readonly inner: ObjectStore;
  readonly retryStats: RetryStats;
}

/**
 * Wraps `store` so that `transient` and `throttled` failures are retried with jittered exponential
 * backoff, within an overall deadline per call. Other failures (`precondition_failed`,
 * `permanent`, `invalid_key`, ...) and errors that are not `ObjectStoreError`s pass through at once.
 *
 * Conditional writes are the delicate part: an attempt whose outcome is unknown (timeout,
 * connection reset, 5xx) may have landed, and the retry then fails `precondition_failed` against
 * our own write. Every attempt of one call carries the same write token; on `precondition_failed`
 * after an unknown outcome, a head compares the stored token with ours, and a match is success.
 * A store without write tokens (local disk) gets the same check by comparing the stored bytes.
 *
 * @example const store = withRetries(new S3ObjectStore({ bucket: 'b' }), { deadlineMs: 10_000 });
 */
export function withRetries(store: ObjectStore, options: RetryOptions = {}): RetryingObjectStore {
  return new RetryingStore(store, options);
}

class RetryingStore implements RetryingObjectStore {
  readonly inner: ObjectStore;
  readonly retryStats: RetryStats = { retries: 0, exhausted: 0, attemptTimeouts: 0, recoveredConditionalWrites: 0 };
  readonly #options: Required<Omit<RetryOptions, 'onRetry'>> & Pick<RetryOptions, 'onRetry'>;
  readonly #tokens: (ObjectStore & WriteTokenSupport) | undefined;

  get remote(): boolean {
    return this.inner.remote === true;
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  constructor(inner: ObjectStore, options: RetryOptions) {
    this.inner = inner;
    this.#options = { ...DEFAULT_RETRY_OPTIONS, ...options };
    this.#tokens = hasWriteTokens(inner) ? inner : undefined;
  }

  get(key: string): Promise<ObjectBody | null> {
    return this.#retry('get', key, () => this.inner.get(key));
  }

  getRange(key: string, start: number, end: number): Promise<Uint8Array | null> {
    return this.#retry('getRange', key, () => this.inner.getRange(key, start, end));
  }

  readRangeInto(key: string, start: number, buffers: Uint8Array[]): Promise<number | null> {
    // A failed attempt may have filled part of the buffers: the next one fills them again.
    return this.#retry('readRangeInto', key, () => readRangeIntoOf(this.inner, key, start, buffers));
  }

  head(key: string): Promise<ObjectMeta | null> {
    return this.#retry('head', key, () => this.inner.head(key));
  }

  put(key: string, data: Uint8Array): Promise<ObjectMeta> {
    return this.#retry('put', key, () => this.inner.put(key, data));
  }

  putIfAbsent(key: string, data: Uint8Array): Promise<ObjectMeta> {
    const tokens = this.#tokens;
    return this.#conditional('putIfAbsent', key, data, (token) => (tokens ? tokens.putIfAbsentWithToken(key, data, token) : this.inner.putIfAbsent(key, data)));
  }

  putIfMatch(key: string, data: Uint8Array, etag: string): Promise<ObjectMeta> {
    const tokens = this.#tokens;
    return this.#conditional('putIfMatch', key, data, (token) =>
      tokens ? tokens.putIfMatchWithToken(key, data, etag, token) : this.inner.putIfMatch(key, data, etag),
    );
  }

  delete(key: string): Promise<void> {
    return this.#retry('delete', key, () => this.inner.delete(key));
  }

  list(prefix: string, options?: ListOptions): Promise<ListPage> {
    return this.#retry('list', prefix, () => this.inner.list(prefix, options));
  }

  /**
   * A conditional write retried with one token. `ambiguous` turns true once an attempt ended
   * without a definite answer; from then on a precondition failure is checked against our token.
   */
  async #conditional(operation: string, key: string, data: Uint8Array, write: (token: string) => Promise<ObjectMeta>): Promise<ObjectMeta> {
    const token = newWriteToken();
    let ambiguous = false;
    return this.#retry(
      operation,
      key,
      async () => {
        try {
          return await write(token);
        } catch (err) {
          if (ambiguous && isPreconditionFailed(err)) {
            const ours = await this.#ourWrite(key, data, token);
            if (ours) {
              this.retryStats.recoveredConditionalWrites++;
              return ours;
            }
          }
          throw err;
        }
      },
      () => {
        ambiguous = true;
      },
    );
  }

  /** The object's meta when the current version is the one written with `token` (or, without tokens, holds `data`). */
  async #ourWrite(key: string, data: Uint8Array, token: string): Promise<ObjectMeta | null> {
    if (this.#tokens) {
      const stored: TokenedMeta | null = await this.#tokens.headWithToken(key);
      return stored?.token === token ? stored.meta : null;
    }
    const body = await this.inner.get(key);
    if (!body || !Buffer.from(body.data).equals(Buffer.from(data.buffer, data.byteOffset, data.byteLength))) return null;
    return { key: body.key, size: body.size, etag: body.etag };
  }

  async #retry<T>(operation: string, key: string, attempt: () => Promise<T>, onUnknownOutcome?: () => void): Promise<T> {
    const { maxAttempts, baseDelayMs, maxDelayMs, deadlineMs, attemptTimeoutMs, random, clock, onRetry } = this.#options;
    const started = clock.now();
    const deadline = started + deadlineMs;
    for (let n = 1; ; n++) {
      let error: ObjectStoreError;
      try {
        return await this.#withTimeout(attempt(), Math.min(attemptTimeoutMs, Math.max(1, deadline - clock.now())), operation, key);
      } catch (err) {
        if (!(err instanceof ObjectStoreError) || !err.retryable) throw err;
        error = err;
      }
      onUnknownOutcome?.();
      const base = error.kind === 'throttled' ? baseDelayMs * 4 : baseDelayMs;
      const delayMs = Math.floor(random() * Math.min(maxDelayMs, base * 2 ** (n - 1)));
      if (n >= maxAttempts || clock.now() + delayMs >= deadline) {
        this.retryStats.exhausted++;
        throw new ObjectStoreError(error.kind, `${operation} ${key}: gave up after ${n} attempt(s) in ${clock.now() - started} ms: ${error.message}`, {
          key: error.key ?? key,
          cause: error,
        });
      }
      this.retryStats.retries++;
      onRetry?.({ operation, key, attempt: n, delayMs, error });
      await sleep(clock, delayMs);
    }
  }

  async #withTimeout<T>(promise: Promise<T>, ms: number, operation: string, key: string): Promise<T> {
    let cancel: (() => void) | undefined;
    const timeout = new Promise<never>((_, reject) => {
      cancel = this.#options.clock.after(ms, () => {
        this.retryStats.attemptTimeouts++;
        reject(new ObjectStoreError('transient', `${operation} ${key}: no answer within ${ms} ms`, { key }));
      });
    });
    // An abandoned attempt may still fail later: nobody listens then.
    promise.catch(() => undefined);
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      cancel?.();
    }
  }
}
