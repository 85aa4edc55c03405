import { ResourceExhaustedError } from '@conifer/core';

/**
 * Request-rate limits, per second, as Pinecone documents them for serverless indexes
 * (database-limits page). Every limit is enforced on this node with a token bucket that holds one
 * second's worth of tokens; a request that finds its bucket empty fails with
 * `ResourceExhaustedError` (HTTP 429) naming the limit. `0` switches a limit off.
 *
 * With several nodes behind a load balancer each node enforces the limits on its own share of the
 * traffic, so the cluster-wide ceiling is the per-node value times the number of nodes.
 */
export interface RateLimits {
  /** Query requests per second per namespace. Default 100. */
  queryPerNamespace: number;
  /** Query read units per second per index (a query is charged after it ran). Default 2000. */
  queryReadUnitsPerIndex: number;
  /** Upsert requests per second per namespace. Default 100. */
  upsertPerNamespace: number;
  /** Upsert payload bytes per second per namespace (records as billed, see `units.ts`). Default 50 MB. */
  upsertBytesPerNamespace: number;
  /** Update requests (by id or by filter) per second per namespace. Default 100. */
  updatePerNamespace: number;
  /** Updates by metadata filter per second per namespace. Default 5. */
  updateByFilterPerNamespace: number;
  /** Updates by metadata filter per second per index. Default 500. */
  updateByFilterPerIndex: number;
  /** Delete requests per second per namespace. Default 100. */
  deletePerNamespace: number;
  /** Deletes by metadata filter per second per namespace. Default 5. */
  deleteByFilterPerNamespace: number;
  /** Deletes by metadata filter per second per index. Default 500. */
  deleteByFilterPerIndex: number;
  /** Records deleted (by id) per second per namespace. Default 5000. */
  deleteRecordsPerNamespace: number;
  /** Records deleted (by id) per second per index. Default 5000. */
  deleteRecordsPerIndex: number;
  /** Fetch and fetch-by-metadata requests per second per index. Default 100. */
  fetchPerIndex: number;
  /** List requests per second per index. Default 200. */
  listPerIndex: number;
  /** describe_index_stats requests per second per index. Default 100. */
  describeIndexStatsPerIndex: number;
}

export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = Object.freeze({
  queryPerNamespace: 100,
  queryReadUnitsPerIndex: 2000,
  upsertPerNamespace: 100,
  upsertBytesPerNamespace: 50 * 1024 * 1024,
  updatePerNamespace: 100,
  updateByFilterPerNamespace: 5,
  updateByFilterPerIndex: 500,
  deletePerNamespace: 100,
  deleteByFilterPerNamespace: 5,
  deleteByFilterPerIndex: 500,
  deleteRecordsPerNamespace: 5000,
  deleteRecordsPerIndex: 5000,
  fetchPerIndex: 100,
  listPerIndex: 200,
  describeIndexStatsPerIndex: 100,
});

/** Every limit switched off. */
export const NO_RATE_LIMITS: Readonly<RateLimits> = Object.freeze(
  Object.fromEntries(Object.keys(DEFAULT_RATE_LIMITS).map((k) => [k, 0])) as unknown as RateLimits,
);

export type RateLimitName = keyof RateLimits;

/** How messages name each limit: what is limited, and the unit of its rate. */
const DESCRIPTION: Record<RateLimitName, [what: string, unit: string]> = {
  queryPerNamespace: ['query', 'requests per second per namespace'],
  queryReadUnitsPerIndex: ['query', 'read units per second per index'],
  upsertPerNamespace: ['upsert', 'requests per second per namespace'],
  upsertBytesPerNamespace: ['upsert', 'bytes per second per namespace'],
  updatePerNamespace: ['update', 'requests per second per namespace'],
  updateByFilterPerNamespace: ['update by metadata', 'requests per second per namespace'],
  updateByFilterPerIndex: ['update by metadata', 'requests per second per index'],
  deletePerNamespace: ['delete', 'requests per second per namespace'],
  deleteByFilterPerNamespace: ['delete by metadata', 'requests per second per namespace'],
  deleteByFilterPerIndex: ['delete by metadata', 'requests per second per index'],
  deleteRecordsPerNamespace: ['delete', 'records per second per namespace'],
  deleteRecordsPerIndex: ['delete', 'records per second per index'],
  fetchPerIndex: ['fetch', 'requests per second per index'],
  listPerIndex: ['list', 'requests per second per index'],
  describeIndexStatsPerIndex: ['describe_index_stats', 'requests per second per index'],
};

const perNamespace = (name: RateLimitName): boolean => DESCRIPTION[name][1].endsWith('namespace');

/** Where a limit applies: one index (by id), optionally one namespace of it. */
export interface RateScope {
  indexId: string;
  indexName: string;
  namespace?: string | undefined;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets kept before idle (full) ones are swept. */
const SWEEP_THRESHOLD = 10_000;

/**
 * Token buckets keyed by limit and scope. `take` charges up front and refuses when the bucket
 * cannot pay; `charge` debits after the fact (read units are known only once a query ran) and may
 * leave the bucket in debt, which the next `take`/`check` of that limit waits out.
 *
 * @example
 * const limiter = new RateLimiter({ ...DEFAULT_RATE_LIMITS, queryPerNamespace: 10 });
 * limiter.take('queryPerNamespace', { indexId, indexName: 'docs', namespace: 'ns1' });
 */
export class RateLimiter {
  readonly limits: Readonly<RateLimits>;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limits: Partial<RateLimits> = {}, now: () => number = performance.now.bind(performance)) {
    this.limits = Object.freeze({ ...DEFAULT_RATE_LIMITS, ...limits });
    this.#now = now;
  }

  #bucket(name: RateLimitName, scope: RateScope): { bucket: Bucket; rate: number } | undefined {
    const rate = this.limits[name];
    if (!(rate > 0)) return undefined;
    const key = `${name}\u0000${scope.indexId}\u0000${perNamespace(name) ? (scope.namespace ?? '') : ''}`;
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= SWEEP_THRESHOLD) this.#sweep(now);
      bucket = { tokens: rate, updatedAt: now };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate);
      bucket.updatedAt = now;
    }
    return { bucket, rate };
  }

  /** Drops buckets that have refilled completely: they hold no state worth keeping. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      const name = key.slice(0, key.indexOf('\u0000')) as RateLimitName;
      const rate = this.limits[name];
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate >= rate) this.#buckets.delete(key);
    }
  }

  /**
   * Takes `cost` tokens or throws `ResourceExhaustedError`. A cost above one second's worth is let
   * through when the bucket is full (one oversized request per second rather than never).
   */
  take(name: RateLimitName, scope: RateScope, cost = 1): void {
    const found = this.#bucket(name, scope);
    if (found === undefined) return;
    const { bucket, rate } = found;
    if (bucket.tokens >= cost || bucket.tokens >= rate) {
      bucket.tokens -= cost;
      return;
    }
    throw exhausted(name, rate, scope);
  }

  /** Throws `ResourceExhaustedError` while the bucket is empty or in debt; takes nothing. */
  check(name: RateLimitName, scope: RateScope): void {
    const found = this.#bucket(name, scope);
    if (found !== undefined && found.bucket.tokens <= 0) throw exhausted(name, found.rate, scope);
  }

  /** Debits `cost` tokens without refusing (the bucket may go into debt). */
  charge(name: RateLimitName, scope: RateScope, cost: number): void {
    const found = this.#bucket(name, scope);
    if (found !== undefined) found.bucket.tokens -= cost;
  }
}

function exhausted(name: RateLimitName, rate: number, scope: RateScope): ResourceExhaustedError {
  const [what, unit] = DESCRIPTION[name];
  const namespace = scope.namespace === '' || scope.namespace === undefined ? '__default__' : scope.namespace;
  const where = perNamespace(name) ? `namespace "${namespace}" of index "${scope.indexName}"` : `index "${scope.indexName}"`;
  return new ResourceExhaustedError(`Too many requests: ${what} is limited to ${rate} ${unit} (${where}). Retry later.`);
}
