/** How the SDK retries calls the server asked to repeat, or that never reached it. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  maxRetries?: number;
  /** Ceiling of the first backoff in milliseconds (default 200); it doubles with each retry. */
  initialDelayMs?: number;
  /** Longest wait between two attempts in milliseconds, `Retry-After` included (default 10000). */
  maxDelayMs?: number;
}

export type ResolvedRetry = Required<RetryOptions>;

export const DEFAULT_RETRY: ResolvedRetry = { maxRetries: 3, initialDelayMs: 200, maxDelayMs: 10_000 };
const NO_RETRY: ResolvedRetry = { ...DEFAULT_RETRY, maxRetries: 0 };

export function resolveRetry(options: RetryOptions | false | undefined): ResolvedRetry {
  if (options === false) return NO_RETRY;
  return { ...DEFAULT_RETRY, ...options };
}

/** 429 and 503 say "try again later"; 502 and 504 come from proxies in front of a restarting node. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/**
 * Milliseconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or null when it is
 * absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * The wait before retry number `attempt + 1`: what `Retry-After` asks, else "full jitter"
 * exponential backoff (a random wait up to a doubling ceiling, so clients that failed together do
 * not retry together); never more than `maxDelayMs`.
 */
export function delayBeforeRetry(retry: ResolvedRetry, attempt: number, retryAfter: string | null, random = Math.random): number {
  const asked = parseRetryAfter(retryAfter);
  if (asked !== null) return Math.min(asked, retry.maxDelayMs);
  const ceiling = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** attempt);
  return Math.round(random() * ceiling);
}
