import { describe, expect, it } from 'vitest';
import { ResourceExhaustedError } from '@conifer/core';
import { NO_RATE_LIMITS, PINECONE_RATE_LIMITS, RateLimiter, rateLimitOverridesSchema } from './rate-limits.ts';

const docs = (namespace?: string) => ({ indexId: 'idx_1', indexName: 'docs', namespace });

describe('RateLimiter', () => {
  it('has every limit off by default; Pinecone’s serverless limits are there to turn on', () => {
    expect(new RateLimiter().limits).toEqual(NO_RATE_LIMITS);
    const limiter = new RateLimiter({}, () => 0);
    for (let i = 0; i < 10_000; i++) limiter.take('queryPerNamespace', docs());
    expect(PINECONE_RATE_LIMITS).toMatchObject({ queryPerNamespace: 100, queryReadUnitsPerIndex: 2000, fetchPerIndex: 100, listPerIndex: 200 });
  });

  it('applies a scope’s overrides over the node’s limits, both ways, and follows a change of override', () => {
    const limiter = new RateLimiter({ queryPerNamespace: 2 }, () => 0);
    const tenant = { ...docs('t'), overrides: { queryPerNamespace: 5 } };
    for (let i = 0; i < 5; i++) limiter.take('queryPerNamespace', tenant);
    expect(() => limiter.take('queryPerNamespace', tenant)).toThrow('query is limited to 5 requests per second per namespace');
    // An override of 0 lifts the node's limit for that scope only.
    const unlimited = { ...docs('u'), overrides: { queryPerNamespace: 0 } };
    for (let i = 0; i < 100; i++) limiter.take('queryPerNamespace', unlimited);
    limiter.take('queryPerNamespace', docs('n'));
    limiter.take('queryPerNamespace', docs('n'));
    expect(() => limiter.take('queryPerNamespace', docs('n'))).toThrow('limited to 2 requests');
    // An override set on a node that has the limit off turns it on for that scope.
    const off = new RateLimiter({}, () => 0);
    off.take('fetchPerIndex', { ...docs(), overrides: { fetchPerIndex: 1 } });
    expect(() => off.take('fetchPerIndex', { ...docs(), overrides: { fetchPerIndex: 1 } })).toThrow('fetch is limited to 1');
    expect(limiter.rateOf('queryPerNamespace', tenant)).toBe(5);
    expect(limiter.rateOf('queryPerNamespace', {})).toBe(2);
  });

  it('checks overrides: known names only, numbers >= 0, errors naming the limit', () => {
    expect(rateLimitOverridesSchema.parse({ queryPerNamespace: 10, fetchPerIndex: 0 })).toEqual({ queryPerNamespace: 10, fetchPerIndex: 0 });
    const issues = (input: unknown) => rateLimitOverridesSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ queryPerNamespace: -1 })).toEqual(['queryPerNamespace: must be a number >= 0 (0 = unlimited)']);
    expect(issues({ queryPerNamespace: '10' })).toEqual(['queryPerNamespace: must be a number >= 0 (0 = unlimited)']);
    expect(issues({ queriesPerSecond: 1 })?.[0]).toMatch(/^: unknown rate limit; known: queryPerNamespace, /);
    expect(issues([1])).toEqual([': must be an object']);
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
