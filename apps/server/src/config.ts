import path from 'node:path';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '@conifer/engine';
import type { LatencyModel } from '@conifer/storage';
import { NODE_ROLES, type ControlPlaneConfig, type NodeRole } from '@conifer/control';
import { PINECONE_RATE_LIMITS, type RateLimits } from '@conifer/api';
import { INDEXER_ONLY_NICENESS, readSettings, type IndexHostsMode, type LogLevel } from './settings.ts';

export { LOG_LEVELS, rateLimitVariable, type LogLevel } from './settings.ts';

/**
 * Server configuration, read from the environment through the settings registry (`settings.ts`):
 * each variable's accepted values, default and meaning are there, and only there.
 */
export interface ServerConfig {
  /** `CONIFER_HOST`. */
  host: string;
  /** `CONIFER_PORT`. */
  port: number;
  /** `CONIFER_DATA_DIR`, resolved to an absolute path. */
  dataDir: string;
  /** `CONIFER_STORAGE`, else a file store at `<dataDir>/objects`. */
  storage: string;
  /** `CONIFER_STORAGE_LATENCY`: simulated bucket latency in front of the store (benchmarks). */
  storageLatency?: LatencyModel | undefined;
  /** `CONIFER_DATABASE_URL`; `undefined` runs embedded PGlite under `<dataDir>/control`. */
  databaseUrl: string | undefined;
  /** `CONIFER_API_KEY`; `undefined` generates one at first start. */
  apiKey: string | undefined;
  /** `CONIFER_ROLES`: all four runs the whole database in this process. */
  roles: NodeRole[];
  /** `CONIFER_CLUSTER_SECRET`; required when `roles` is not all four. Never logged. */
  clusterSecret: string | undefined;
  /** `CONIFER_ADVERTISE_URL`: where other nodes call this one; `undefined` announces the listening address. */
  advertiseUrl: string | undefined;
  /** `CONIFER_LOG_LEVEL`. */
  logLevel: LogLevel;
  /** `CONIFER_PUBLIC_URL` without trailing slashes; `undefined` uses each request's scheme and host. */
  publicUrl: string | undefined;
  /**
   * The node's rate limits: Pinecone's (`PINECONE_RATE_LIMITS`) with `CONIFER_RATE_LIMITS=on`,
   * else none, then each `CONIFER_RATE_<LIMIT>` on top (`0` = unlimited). Limits left out are off.
   * An operator's overrides per project and per index (admin API) win over these.
   */
  rateLimits: Partial<RateLimits>;
  /** `CONIFER_INDEX_HOSTS` as it applies: `ports` gives each index a port of `indexPorts`. */
  indexHosts: IndexHostsMode;
  /** `CONIFER_INDEX_PORTS` (or its default); set exactly when `indexHosts` is `ports`. */
  indexPorts: { first: number; last: number } | undefined;
  /** `CONIFER_UPSERT_PARSE_THREADS`; `undefined` keeps the process's default (`defaultUpsertParserThreads`). */
  upsertParseThreads: number | undefined;
  /** Bulk imports may read `file://` URIs (a directory of this machine). */
  importFileUris: boolean;
  /** Control-plane knobs that were set (`CONIFER_USAGE_FLUSH_MS`); the rest keep the control plane's defaults. */
  control: Partial<ControlPlaneConfig>;
  /** Data-plane knobs that were set (`CONIFER_MEMTABLE_*`, `CONIFER_COMPACTION_*`, …); the rest keep the engine's defaults. */
  engine: Partial<EngineConfig>;
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
  const { values: e, rateLimits, errors } = readSettings(env);
  if (errors.length > 0) throw new ConfigError(`Invalid configuration: ${errors.join('; ')}`);
  const dataDir = path.resolve(e.CONIFER_DATA_DIR);
  if (!isAllInOne(e.CONIFER_ROLES)) checkClusterNode(e.CONIFER_ROLES, env, e);
  const { indexHosts, indexPorts } = indexHostsOf(e);
  const niceness = e.CONIFER_COMPACTION_NICENESS ?? (isIndexerOnly(e.CONIFER_ROLES) ? INDEXER_ONLY_NICENESS : undefined);
  return {
    host: e.CONIFER_HOST,
    port: e.CONIFER_PORT,
    dataDir,
    storage: e.CONIFER_STORAGE ?? path.join(dataDir, 'objects'),
    storageLatency: e.CONIFER_STORAGE_LATENCY,
    databaseUrl: e.CONIFER_DATABASE_URL,
    apiKey: e.CONIFER_API_KEY,
    roles: e.CONIFER_ROLES,
    clusterSecret: e.CONIFER_CLUSTER_SECRET,
    advertiseUrl: e.CONIFER_ADVERTISE_URL,
    logLevel: e.CONIFER_LOG_LEVEL,
    publicUrl: e.CONIFER_PUBLIC_URL,
    rateLimits: { ...(e.CONIFER_RATE_LIMITS ? PINECONE_RATE_LIMITS : {}), ...Object.fromEntries(rateLimits) },
    indexHosts,
    indexPorts,
    upsertParseThreads: e.CONIFER_UPSERT_PARSE_THREADS,
    importFileUris: e.CONIFER_IMPORT_FILE_URIS ?? false,
    control: e.CONIFER_USAGE_FLUSH_MS !== undefined ? { usageFlushIntervalMs: e.CONIFER_USAGE_FLUSH_MS } : {},
    engine: {
      ...(e.CONIFER_MEMTABLE_MAX_RECORDS !== undefined ? { memtableMaxRecords: e.CONIFER_MEMTABLE_MAX_RECORDS } : {}),
      ...(e.CONIFER_MEMTABLE_MAX_BYTES !== undefined ? { memtableMaxBytes: e.CONIFER_MEMTABLE_MAX_BYTES } : {}),
      ...(e.CONIFER_MEMTABLE_MAX_AGE_MS !== undefined ? { memtableMaxAgeMs: e.CONIFER_MEMTABLE_MAX_AGE_MS } : {}),
      ...(e.CONIFER_GC_GRACE_MS !== undefined ? { gcGraceMs: e.CONIFER_GC_GRACE_MS } : {}),
      ...(e.CONIFER_INDEX_IDLE_MS !== undefined ? { indexIdleMs: e.CONIFER_INDEX_IDLE_MS } : {}),
      ...(e.CONIFER_MEMORY_BUDGET !== undefined ? { memoryBudgetBytes: e.CONIFER_MEMORY_BUDGET } : {}),
      ...(e.CONIFER_NAMESPACE_IDLE_MS !== undefined ? { namespaceIdleMs: e.CONIFER_NAMESPACE_IDLE_MS } : {}),
      ...(e.CONIFER_COMPACTION_WORKERS !== undefined ||
      e.CONIFER_COMPACTION_THREADS !== undefined ||
      niceness !== undefined ||
      e.CONIFER_COMPACTION_IDLE_MS !== undefined
        ? {
            compactor: {
              ...DEFAULT_ENGINE_CONFIG.compactor,
              ...(e.CONIFER_COMPACTION_WORKERS !== undefined ? { workers: e.CONIFER_COMPACTION_WORKERS } : {}),
              ...(e.CONIFER_COMPACTION_THREADS !== undefined ? { buildThreads: e.CONIFER_COMPACTION_THREADS } : {}),
              ...(niceness !== undefined ? { niceness } : {}),
              ...(e.CONIFER_COMPACTION_IDLE_MS !== undefined ? { idleMs: e.CONIFER_COMPACTION_IDLE_MS } : {}),
            },
          }
        : {}),
      ...(e.CONIFER_COMPACTION_TRIGGER !== undefined || e.CONIFER_MAX_SLAB_SIZE !== undefined
        ? {
            compaction: {
              ...DEFAULT_ENGINE_CONFIG.compaction,
              // A trigger above the default most-merged-at-once raises that cap with it.
              ...(e.CONIFER_COMPACTION_TRIGGER !== undefined
                ? { trigger: e.CONIFER_COMPACTION_TRIGGER, maxMerge: Math.max(DEFAULT_ENGINE_CONFIG.compaction.maxMerge, e.CONIFER_COMPACTION_TRIGGER) }
                : {}),
              ...(e.CONIFER_MAX_SLAB_SIZE !== undefined ? { maxSlabBytes: e.CONIFER_MAX_SLAB_SIZE } : {}),
            },
          }
        : {}),
    },
  };
}

/** How many ports after `CONIFER_PORT` the indexes get by default. */
export const DEFAULT_INDEX_PORT_COUNT = 200;

/**
 * Index hosts by port need one process that owns its ports (a cluster's gateways address indexes
 * by path) and a fixed main port to place the default range after; a public URL names one
 * address, so it keeps paths unless ports are asked for.
 */
function indexHostsOf(e: ReturnType<typeof readSettings>['values']): Pick<ServerConfig, 'indexHosts' | 'indexPorts'> {
  const allInOne = isAllInOne(e.CONIFER_ROLES);
  const mode: IndexHostsMode = e.CONIFER_INDEX_HOSTS ?? (allInOne && e.CONIFER_PUBLIC_URL === undefined && e.CONIFER_PORT !== 0 ? 'ports' : 'paths');
  if (mode === 'paths') return { indexHosts: 'paths', indexPorts: undefined };
  // In a cluster the gateways serve the index ports (ports are assigned in the shared control plane,
  // so every gateway opens the same ones); other roles serve no public API.
  if (!e.CONIFER_ROLES.includes('gateway')) throw new ConfigError('CONIFER_INDEX_HOSTS=ports needs the gateway role: index ports serve the public API');
  const range =
    e.CONIFER_INDEX_PORTS ??
    (e.CONIFER_PORT === 0 ? undefined : { first: e.CONIFER_PORT + 1, last: Math.min(65_535, e.CONIFER_PORT + DEFAULT_INDEX_PORT_COUNT) });
  if (range === undefined)
    throw new ConfigError('CONIFER_INDEX_HOSTS=ports with CONIFER_PORT=0 needs CONIFER_INDEX_PORTS (there is no fixed port to place the range after)');
  if (e.CONIFER_PORT >= range.first && e.CONIFER_PORT <= range.last) {
    throw new ConfigError(`CONIFER_INDEX_PORTS (${range.first}-${range.last}) must not hold CONIFER_PORT (${e.CONIFER_PORT})`);
  }
  return { indexHosts: 'ports', indexPorts: range };
}

/** Whether `roles` are `indexer` alone: a node that only builds (ADR 0006). */
export function isIndexerOnly(roles: readonly NodeRole[]): boolean {
  return roles.length === 1 && roles[0] === 'indexer';
}

/** Whether `roles` are all four: the whole database in one process, as `npm start` runs it. */
export function isAllInOne(roles: readonly NodeRole[]): boolean {
  return NODE_ROLES.every((r) => roles.includes(r));
}

/** Listening addresses that mean "every interface". */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * A node of a cluster shares its state through PostgreSQL and the object store, and calls the
 * other nodes with the cluster secret: each must be set.
 */
function checkClusterNode(
  roles: readonly NodeRole[],
  env: Record<string, string | undefined>,
  e: {
    CONIFER_DATABASE_URL?: string | undefined;
    CONIFER_CLUSTER_SECRET?: string | undefined;
    CONIFER_HOST: string;
    CONIFER_ADVERTISE_URL?: string | undefined;
  },
): void {
  const missing: string[] = [];
  if (WILDCARD_HOSTS.has(e.CONIFER_HOST) && e.CONIFER_ADVERTISE_URL === undefined) {
    missing.push(`CONIFER_ADVERTISE_URL (CONIFER_HOST=${e.CONIFER_HOST} listens on every interface, which names no address other nodes can call)`);
  }
  if (e.CONIFER_DATABASE_URL === undefined) missing.push('CONIFER_DATABASE_URL (the PostgreSQL every node shares; embedded PGlite is one process only)');
  if (!env['CONIFER_STORAGE']?.trim()) missing.push('CONIFER_STORAGE (the object store every node shares)');
  if (e.CONIFER_CLUSTER_SECRET === undefined) missing.push('CONIFER_CLUSTER_SECRET (what the nodes call each other with)');
  if (missing.length > 0) throw new ConfigError(`CONIFER_ROLES=${roles.join(',')} makes this node one of a cluster, which needs ${missing.join('; ')}`);
}
