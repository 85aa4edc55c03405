import { z } from 'zod';
import { ResourceExhaustedError } from '@conifer/core';

/**
 * Request-rate limits, per second. Every limit is enforced on this node with a token bucket that
 * holds one second's worth of tokens; a request that finds its bucket empty fails with
 * `ResourceExhaustedError` (HTTP 429) naming the limit. `0` switches a limit off.
 *
 * Off by default: on one's own hardware a limit only throttles one's own load. An operator who
 * hosts tenants turns them on for the node (`PINECONE_RATE_LIMITS`, or any values), and sets
 * overrides per project and per index; a request's limit is its index's override, else its
 * project's, else the node's.
 *
 * With several nodes behind a load balancer each node enforces the limits on its own share of the
 * traffic, so the cluster-wide ceiling is the per-node value times the number of nodes.
 */
export interface RateLimits {
  /** Query requests per second per namespace. Pinecone: 100. */
  queryPerNamespace: number;
  /** Query read units per second per index (a query is charged after it ran). Pinecone: 2000. */
  queryReadUnitsPerIndex: number;
  /** Upsert requests per second per namespace. Pinecone: 100. */
  upsertPerNamespace: number;
  /** Upsert payload bytes per second per namespace (records as billed, see `units.ts`). Pinecone: 50 MB. */
  upsertBytesPerNamespace: number;
  /** Update requests (by id or by filter) per second per namespace. Pinecone: 100. */
  updatePerNamespace: number;
  /** Updates by metadata filter per second per namespace. Pinecone: 5. */
  updateByFilterPerNamespace: number;
  /** Updates by metadata filter per second per index. Pinecone: 500. */
  updateByFilterPerIndex: number;
  /** Delete requests per second per namespace. Pinecone: 100. */
  deletePerNamespace: number;
  /** Deletes by metadata filter per second per namespace. Pinecone: 5. */
  deleteByFilterPerNamespace: number;
  /** Deletes by metadata filter per second per index. Pinecone: 500. */
  deleteByFilterPerIndex: number;
  /** Records deleted (by id) per second per namespace. Pinecone: 5000. */
  deleteRecordsPerNamespace: number;
  /** Records deleted (by id) per second per index. Pinecone: 5000. */
  deleteRecordsPerIndex: number;
  /** Fetch and fetch-by-metadata requests per second per index. Pinecone: 100. */
  fetchPerIndex: number;
  /** List requests per second per index. Pinecone: 200. */
  listPerIndex: number;
  /** describe_index_stats requests per second per index. Pinecone: 100. */
  describeIndexStatsPerIndex: number;
}

/** Pinecone's serverless limits (its database-limits page): what `CONIFER_RATE_LIMITS=on` applies. */
export const PINECONE_RATE_LIMITS: Readonly<RateLimits> = Object.freeze({
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

export type RateLimitName = keyof RateLimits;

/** Every limit's name, in the order of `RateLimits`. */
export const RATE_LIMIT_NAMES = Object.keys(PINECONE_RATE_LIMITS) as RateLimitName[];

/** Every limit switched off. */
export const NO_RATE_LIMITS: Readonly<RateLimits> = Object.freeze(Object.fromEntries(RATE_LIMIT_NAMES.map((k) => [k, 0])) as unknown as RateLimits);

/** Overrides of some limits, as a project or an index carries them. */
export type RateLimitOverrides = Readonly<Partial<RateLimits>>;

/**
 * Overrides as an operator sends them: known limit names only, each a finite number >= 0
 * (0 = unlimited). Errors name the limit: `queryPerNamespace: must be a number >= 0`.
 */
export const rateLimitOverridesSchema = z.strictObject(
  Object.fromEntries(
    RATE_LIMIT_NAMES.map((name) => [
      name,
      z
        .number({ error: 'must be a number >= 0 (0 = unlimited)' })
        .min(0, { error: 'must be a number >= 0 (0 = unlimited)' })
        .max(1e12, { error: 'must be at most 1e12' })
        .optional(),
    ]),
  ) as Record<RateLimitName, z.ZodOptional<z.ZodNumber>>,
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown rate limit; known: ${RATE_LIMIT_NAMES.join(', ')}` : 'must be an object') },
);

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

/** Where a limit applies: one index (by id), optionally one namespace of it, and its overrides. */
export interface RateScope {
  indexId: string;
  indexName: string;
  namespace?: string | undefined;
  /** The index's overrides merged over its project's; they win over the node's limits. */
  overrides?: Readonly<Record<string, number>> | undefined;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** The rate the bucket was last filled at (what a sweep refills it to). */
  rate: number;
}

/** Buckets kept before idle (full) ones are swept. */
const SWEEP_THRESHOLD = 10_000;

/**
 * Token buckets keyed by limit and scope. `take` charges up front and refuses when the bucket
 * cannot pay; `charge` debits after the fact (read units are known only once a query ran) and may
 * leave the bucket in debt, which the next `take`/`check` of that limit waits out.
 *
 * @example
 * const limiter = new RateLimiter({ ...PINECONE_RATE_LIMITS, queryPerNamespace: 10 });
 * limiter.take('queryPerNamespace', { indexId, indexName: 'docs', namespace: 'ns1' });
 */
export class RateLimiter {
  readonly limits: Readonly<RateLimits>;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  /** `limits`: the node's own; unset ones are off. */
  constructor(limits: Partial<RateLimits> = {}, now: () => number = performance.now.bind(performance)) {
    this.limits = Object.freeze({ ...NO_RATE_LIMITS, ...limits });
    this.#now = now;
  }

  /** The limit in force for `scope`: its override, else the node's. */
  rateOf(name: RateLimitName, scope: Pick<RateScope, 'overrides'>): number {
    return scope.overrides?.[name] ?? this.limits[name];
  }

  #bucket(name: RateLimitName, scope: RateScope): { bucket: Bucket; rate: number } | undefined {
    const rate = this.rateOf(name, scope);
    if (!(rate > 0)) return undefined;
    const key = `${name}\u0000${scope.indexId}\u0000${perNamespace(name) ? (scope.namespace ?? '') : ''}`;
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= SWEEP_THRESHOLD) this.#sweep(now);
      bucket = { tokens: rate, updatedAt: now, rate };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate);
      bucket.updatedAt = now;
      bucket.rate = rate;
    }
    return { bucket, rate };
  }

  /** Drops buckets that have refilled completely: they hold no state worth keeping. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * bucket.rate >= bucket.rate) this.#buckets.delete(key);
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
