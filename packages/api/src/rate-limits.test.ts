import { describe, expect, it } from 'vitest';
import { ResourceExhaustedError } from '@conifer/core';
import { DEFAULT_RATE_LIMITS, NO_RATE_LIMITS, RateLimiter } from './rate-limits.ts';

const docs = (namespace?: string) => ({ indexId: 'idx_1', indexName: 'docs', namespace });

describe('RateLimiter', () => {
  it('has Pinecone’s serverless limits as defaults', () => {
    expect(new RateLimiter().limits).toEqual(DEFAULT_RATE_LIMITS);
    expect(DEFAULT_RATE_LIMITS).toMatchObject({ queryPerNamespace: 100, queryReadUnitsPerIndex: 2000, fetchPerIndex: 100, listPerIndex: 200 });
  });

  it('allows one second’s worth, then refuses with a message naming the limit, then refills', () => {
    let now = 0;
    const limiter = new RateLimiter({ queryPerNamespace: 3 }, () => now);
    for (let i = 0; i < 3; i++) limiter.take('queryPerNamespace', docs('ns1'));
    const error = (() => {
      try {
        limiter.take('queryPerNamespace', docs('ns1'));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ResourceExhaustedError);
    expect((error as Error).message).toBe(
      'Too many requests: query is limited to 3 requests per second per namespace (namespace "ns1" of index "docs"). Retry later.',
    );
    // Other namespaces have their own bucket.
    expect(() => limiter.take('queryPerNamespace', docs(''))).not.toThrow();
    now += 334; // one token back
    expect(() => limiter.take('queryPerNamespace', docs('ns1'))).not.toThrow();
    expect(() => limiter.take('queryPerNamespace', docs('ns1'))).toThrow(ResourceExhaustedError);
  });

  it('keys per-index limits by index only', () => {
    const limiter = new RateLimiter({ fetchPerIndex: 2 }, () => 0);
    limiter.take('fetchPerIndex', docs('a'));
    limiter.take('fetchPerIndex', docs('b'));
    expect(() => limiter.take('fetchPerIndex', docs('c'))).toThrow('fetch is limited to 2 requests per second per index (index "docs")');
    expect(() => limiter.take('fetchPerIndex', { indexId: 'idx_2', indexName: 'other' })).not.toThrow();
  });

  it('charges after the fact and refuses while in debt', () => {
    let now = 0;
    const limiter = new RateLimiter({ queryReadUnitsPerIndex: 10 }, () => now);
    limiter.check('queryReadUnitsPerIndex', docs());
    limiter.charge('queryReadUnitsPerIndex', docs(), 25); // a big query: 15 in debt
    expect(() => limiter.check('queryReadUnitsPerIndex', docs())).toThrow('read units per second per index');
    now += 1_600;
    expect(() => limiter.check('queryReadUnitsPerIndex', docs())).not.toThrow();
  });

  it('lets one oversized request through a full bucket', () => {
    let now = 0;
    const limiter = new RateLimiter({ upsertBytesPerNamespace: 1000 }, () => now);
    limiter.take('upsertBytesPerNamespace', docs(), 5000);
    expect(() => limiter.take('upsertBytesPerNamespace', docs(), 10)).toThrow(ResourceExhaustedError);
    now += 10_000;
    expect(() => limiter.take('upsertBytesPerNamespace', docs(), 10)).not.toThrow();
  });

  it('switches a limit off at 0', () => {
    const limiter = new RateLimiter(NO_RATE_LIMITS, () => 0);
    for (let i = 0; i < 10_000; i++) limiter.take('queryPerNamespace', docs());
  });
});
