import path from 'node:path';
import { z } from 'zod';
import { formatIssues } from '@conifer/core';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '@conifer/engine';
import type { ControlPlaneConfig } from '@conifer/control';
import { PINECONE_RATE_LIMITS, RATE_LIMIT_NAMES, type RateLimits } from '@conifer/api';

/**
 * Server configuration, read from the environment. Every knob, its variable and its default is
 * documented here and nowhere else.
 */
export interface ServerConfig {
  /** `CONIFER_HOST`: interface to listen on. Default `127.0.0.1` (local only); `0.0.0.0` for all. */
  host: string;
  /** `CONIFER_PORT`: TCP port. Default `5080`; `0` picks a free port (tests). */
  port: number;
  /** `CONIFER_DATA_DIR`: directory for local state (objects, embedded database, admin key). Default `./.conifer`. */
  dataDir: string;
  /**
   * `CONIFER_STORAGE`: where vectors live, as an object-store URL: a plain path or `file:///path`
   * (local disk), `memory://` (tests; nothing survives a restart), or a cloud URL the storage
   * package supports. Default: a file store at `<dataDir>/objects`.
   */
  storage: string;
  /**
   * `CONIFER_DATABASE_URL`: PostgreSQL URL of the control plane (`postgres://…`). Default: none,
   * which runs embedded PGlite with its files under `<dataDir>/control`.
   */
  databaseUrl: string | undefined;
  /**
   * `CONIFER_API_KEY`: admin API key to register at first start. Default: none, which generates one,
   * prints it once and writes it to `<dataDir>/admin-api-key` (mode 0600).
   */
  apiKey: string | undefined;
  /** `CONIFER_LOG_LEVEL`: pino level (`fatal error warn info debug trace silent`). Default `info`. */
  logLevel: LogLevel;
  /**
   * `CONIFER_PUBLIC_URL`: the base URL clients reach this server at (`http://…` or `https://…`),
   * used in the `host` of every index the Pinecone API describes. Default: none, which uses the
   * scheme and `Host` header of each request (right whenever clients reach the server directly).
   */
  publicUrl: string | undefined;
  /**
   * The node's own rate limits of the data plane (packages/api/src/rate-limits.ts documents each).
   * Off by default: on one's own hardware they would only throttle one's own load.
   * `CONIFER_RATE_LIMITS=on` turns on Pinecone's serverless limits (`PINECONE_RATE_LIMITS`);
   * `off` (the default) leaves every limit off. Then, either way, each limit has its own variable,
   * `CONIFER_RATE_` + its name in upper snake case, taking a non-negative number per second
   * (`0` = unlimited) — e.g. `CONIFER_RATE_QUERY_PER_NAMESPACE=500` alone limits only queries.
   * The variables: `CONIFER_RATE_QUERY_PER_NAMESPACE` (Pinecone: 100),
   * `CONIFER_RATE_QUERY_READ_UNITS_PER_INDEX` (2000), `CONIFER_RATE_UPSERT_PER_NAMESPACE` (100),
   * `CONIFER_RATE_UPSERT_BYTES_PER_NAMESPACE` (52428800), `CONIFER_RATE_UPDATE_PER_NAMESPACE` (100),
   * `CONIFER_RATE_UPDATE_BY_FILTER_PER_NAMESPACE` (5), `CONIFER_RATE_UPDATE_BY_FILTER_PER_INDEX` (500),
   * `CONIFER_RATE_DELETE_PER_NAMESPACE` (100), `CONIFER_RATE_DELETE_BY_FILTER_PER_NAMESPACE` (5),
   * `CONIFER_RATE_DELETE_BY_FILTER_PER_INDEX` (500), `CONIFER_RATE_DELETE_RECORDS_PER_NAMESPACE` (5000),
   * `CONIFER_RATE_DELETE_RECORDS_PER_INDEX` (5000), `CONIFER_RATE_FETCH_PER_INDEX` (100),
   * `CONIFER_RATE_LIST_PER_INDEX` (200), `CONIFER_RATE_DESCRIBE_INDEX_STATS_PER_INDEX` (100).
   * An operator's overrides per project and per index (admin API) win over these. Exceeding a
   * limit answers HTTP 429 with a message naming it.
   */
  rateLimits: Partial<RateLimits>;
  /**
   * Control-plane tuning; unset knobs keep the defaults documented in
   * packages/control/src/config.ts: `CONIFER_USAGE_FLUSH_MS` (how often metered read/write units
   * are written to the database; default 10000).
   */
  control: Partial<ControlPlaneConfig>;
  /**
   * Data-plane tuning; unset knobs keep the engine's defaults (documented in
   * packages/engine/src/config.ts):
   * `CONIFER_MEMTABLE_MAX_RECORDS`, `CONIFER_MEMTABLE_MAX_BYTES`, `CONIFER_MEMTABLE_MAX_AGE_MS`
   * (flush thresholds), `CONIFER_COMPACTION_TRIGGER` (adjacent slabs of one level that are merged),
   * `CONIFER_GC_GRACE_MS` (how long unreferenced objects are kept), `CONIFER_COMPACTION_WORKERS`
   * (compactions running at once, each in a worker thread), `CONIFER_COMPACTION_THREADS` (OpenMP
   * threads each may train indexes with), `CONIFER_COMPACTION_NICENESS` (CPU priority of the
   * compaction and V8 helper threads, 0–19), `CONIFER_COMPACTION_IDLE_MS` (how long an idle
   * compaction worker is kept before it is stopped and its memory returned; 0 keeps it),
   * `CONIFER_INDEX_IDLE_MS` (quiet time before a large flat slab gets its own ANN index).
   */
  engine: Partial<EngineConfig>;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const envSchema = z.object({
  CONIFER_HOST: z.string().min(1, { error: 'must not be empty' }).default('127.0.0.1'),
  CONIFER_PORT: z
    .string()
    .default('5080')
    .refine((v) => /^\d+$/.test(v.trim()), { error: 'must be an integer 0–65535' })
    .transform((v) => Number(v))
    .pipe(z.number({ error: 'must be a number' }).int({ error: 'must be an integer 0–65535' }).min(0, { error: 'must be 0–65535' }).max(65535, { error: 'must be 0–65535' })),
  CONIFER_DATA_DIR: z.string().min(1, { error: 'must not be empty' }).default('./.conifer'),
  CONIFER_STORAGE: optionalString,
  CONIFER_DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    error: 'must be a postgres:// or postgresql:// URL',
  }),
  CONIFER_API_KEY: optionalString.refine((v) => v === undefined || /^[\x21-\x7e]{16,256}$/.test(v), {
    error: 'must be 16–256 printable ASCII characters without spaces',
  }),
  CONIFER_LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  CONIFER_PUBLIC_URL: optionalString.refine((v) => v === undefined || /^https?:\/\/[^/\s]+(\/\S*)?$/.test(v), {
    error: 'must be an http:// or https:// URL',
  }),
  CONIFER_RATE_LIMITS: optionalString.refine((v) => v === undefined || v === 'on' || v === 'off', { error: "must be 'on' or 'off'" }),
  CONIFER_USAGE_FLUSH_MS: positiveInt(0),
  CONIFER_MEMTABLE_MAX_RECORDS: positiveInt(1),
  CONIFER_MEMTABLE_MAX_BYTES: positiveInt(1024),
  CONIFER_MEMTABLE_MAX_AGE_MS: positiveInt(1),
  CONIFER_COMPACTION_TRIGGER: positiveInt(2),
  CONIFER_GC_GRACE_MS: positiveInt(0),
  CONIFER_COMPACTION_WORKERS: positiveInt(1),
  CONIFER_COMPACTION_THREADS: positiveInt(1),
  CONIFER_COMPACTION_NICENESS: positiveInt(0, 19),
  CONIFER_COMPACTION_IDLE_MS: positiveInt(0),
  CONIFER_INDEX_IDLE_MS: positiveInt(0),
});

/** An optional integer knob with a lower bound; unset or empty keeps the engine default. */
function positiveInt(min: number, max = Infinity) {
  const error = max === Infinity ? `must be an integer >= ${min}` : `must be an integer from ${min} to ${max}`;
  return optionalString
    .refine((v) => v === undefined || (/^\d+$/.test(v) && Number(v) >= min && Number(v) <= max), { error })
    .transform((v) => (v === undefined ? undefined : Number(v)));
}

/** `queryPerNamespace` → `CONIFER_RATE_QUERY_PER_NAMESPACE`. */
export function rateLimitVariable(name: keyof RateLimits): string {
  return `CONIFER_RATE_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

function readRateLimits(env: Record<string, string | undefined>, pinecone: boolean): Partial<RateLimits> {
  const limits: Partial<RateLimits> = pinecone ? { ...PINECONE_RATE_LIMITS } : {};
  for (const name of RATE_LIMIT_NAMES) {
    const variable = rateLimitVariable(name);
    const raw = env[variable]?.trim();
    if (raw === undefined || raw === '') continue;
    if (!/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(`Invalid configuration: ${variable}: must be a non-negative number (0 = unlimited)`);
    limits[name] = Number(raw);
  }
  return limits;
}

/** Invalid configuration; `main` prints the message and exits with code 1. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the configuration.
 *
 * @example loadConfig({ CONIFER_PORT: '8080' }).port // 8080
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`Invalid configuration: ${formatIssues(parsed.error.issues)}`);
  const e = parsed.data;
  const dataDir = path.resolve(e.CONIFER_DATA_DIR);
  return {
    host: e.CONIFER_HOST,
    port: e.CONIFER_PORT,
    dataDir,
    storage: e.CONIFER_STORAGE ?? path.join(dataDir, 'objects'),
    databaseUrl: e.CONIFER_DATABASE_URL,
    apiKey: e.CONIFER_API_KEY,
    logLevel: e.CONIFER_LOG_LEVEL,
    publicUrl: e.CONIFER_PUBLIC_URL?.replace(/\/+$/, ''),
    rateLimits: readRateLimits(env, e.CONIFER_RATE_LIMITS === 'on'),
    control: e.CONIFER_USAGE_FLUSH_MS !== undefined ? { usageFlushIntervalMs: e.CONIFER_USAGE_FLUSH_MS } : {},
    engine: {
      ...(e.CONIFER_MEMTABLE_MAX_RECORDS !== undefined ? { memtableMaxRecords: e.CONIFER_MEMTABLE_MAX_RECORDS } : {}),
      ...(e.CONIFER_MEMTABLE_MAX_BYTES !== undefined ? { memtableMaxBytes: e.CONIFER_MEMTABLE_MAX_BYTES } : {}),
      ...(e.CONIFER_MEMTABLE_MAX_AGE_MS !== undefined ? { memtableMaxAgeMs: e.CONIFER_MEMTABLE_MAX_AGE_MS } : {}),
      ...(e.CONIFER_GC_GRACE_MS !== undefined ? { gcGraceMs: e.CONIFER_GC_GRACE_MS } : {}),
      ...(e.CONIFER_INDEX_IDLE_MS !== undefined ? { indexIdleMs: e.CONIFER_INDEX_IDLE_MS } : {}),
      ...(e.CONIFER_COMPACTION_WORKERS !== undefined ||
      e.CONIFER_COMPACTION_THREADS !== undefined ||
      e.CONIFER_COMPACTION_NICENESS !== undefined ||
      e.CONIFER_COMPACTION_IDLE_MS !== undefined
        ? {
            compactor: {
              ...DEFAULT_ENGINE_CONFIG.compactor,
              ...(e.CONIFER_COMPACTION_WORKERS !== undefined ? { workers: e.CONIFER_COMPACTION_WORKERS } : {}),
              ...(e.CONIFER_COMPACTION_THREADS !== undefined ? { buildThreads: e.CONIFER_COMPACTION_THREADS } : {}),
              ...(e.CONIFER_COMPACTION_NICENESS !== undefined ? { niceness: e.CONIFER_COMPACTION_NICENESS } : {}),
              ...(e.CONIFER_COMPACTION_IDLE_MS !== undefined ? { idleMs: e.CONIFER_COMPACTION_IDLE_MS } : {}),
            },
          }
        : {}),
      ...(e.CONIFER_COMPACTION_TRIGGER !== undefined
        ? { compaction: { trigger: e.CONIFER_COMPACTION_TRIGGER, maxMerge: Math.max(8, e.CONIFER_COMPACTION_TRIGGER) } }
        : {}),
    },
  };
}
