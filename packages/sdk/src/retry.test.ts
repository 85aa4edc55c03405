import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, delayBeforeRetry, isRetryableStatus, parseRetryAfter, resolveRetry } from './retry.ts';

describe('retry timing', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Fri, 04 Dec 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Fri, 04 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it('backs off with full jitter under a doubling ceiling, and honours Retry-After up to the longest wait', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 600 })),
        (attempt, initialDelayMs, maxDelayMs, random, retryAfter) => {
          const retry = { maxRetries: 3, initialDelayMs, maxDelayMs };
          const delay = delayBeforeRetry(retry, attempt, retryAfter === null ? null : String(retryAfter), () => random);
          if (retryAfter !== null) expect(delay).toBe(Math.min(retryAfter * 1000, maxDelayMs));
          else {
            expect(delay).toBeGreaterThanOrEqual(0);
            expect(delay).toBeLessThanOrEqual(Math.min(maxDelayMs, initialDelayMs * 2 ** attempt));
          }
        },
      ),
    );
  });

  it('retries what says "try again" and nothing else', () => {
    expect([429, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([200, 400, 401, 403, 404, 409, 412, 413, 500].some(isRetryableStatus)).toBe(false);
    expect(resolveRetry(false).maxRetries).toBe(0);
    expect(resolveRetry({ maxRetries: 7 })).toEqual({ ...DEFAULT_RETRY, maxRetries: 7 });
  });
});
