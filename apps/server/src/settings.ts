import { DEFAULT_CONFIG as CONTROL_DEFAULTS, NODE_ROLES, type NodeRole } from '@conifer/control';
import { DEFAULT_ENGINE_CONFIG } from '@conifer/engine';
import { parseByteSize } from '@conifer/core';
import { parseLatencyModel, type LatencyModel } from '@conifer/storage';
import { PINECONE_RATE_LIMITS, RATE_LIMIT_NAMES, type RateLimitName } from '@conifer/api';

/**
 * The registry of the server's settings: every environment variable the server reads, with its
 * parser, accepted values, default and documentation. `loadConfig` reads through it, and the
 * settings tables of README.md and docs/operations.md are generated from it
 * (`node apps/server/src/write-settings-docs.ts`; a test fails when they are stale).
 *
 * A default owned by a package (engine thresholds, control-plane timers) stays defined there and
 * is only shown here: the setting then parses to `undefined` when unset, and the package applies
 * its own default. The server's own settings (`default` present) get their default here.
 */
export interface Setting<T> {
  readonly env: string;
  readonly group: SettingGroup;
  /** What a valid value looks like; an invalid value fails startup with `<env>: must be <accepts>`. */
  readonly accepts: string;
  /** The default as the docs show it (Markdown), rendered from the value that applies. */
  readonly defaultText: string;
  /** One line for README.md's table (Markdown). */
  readonly doc: string;
  /** Trade-offs for docs/operations.md, sentences appended to `doc` there (Markdown). */
  readonly tuning?: string;
  /** The value of a non-blank (trimmed) string, or `undefined` when it is not accepted. */
  readonly parse: (raw: string) => T | undefined;
}

/** A setting whose default the server owns: unset or blank gives `default`. */
export interface DefaultedSetting<T> extends Setting<T> {
  readonly default: T;
}

export const SETTING_GROUPS = ['server', 'storage', 'control plane', 'cluster', 'data plane', 'rate limits'] as const;
export type SettingGroup = (typeof SETTING_GROUPS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const code = (value: string | number): string => `\`${value}\``;

/**
 * The nice value of a node whose only role is `indexer` when `CONIFER_COMPACTION_NICENESS` is not
 * set: the lowest priority. All such a node does is background work, and a writer it shares a core
 * with acknowledges writes only as fast as that core lets it; at the single process's 10, an indexer
 * beside a writer at full speed still took about a tenth of their core (ADR 0006 addendum).
 */
export const INDEXER_ONLY_NICENESS = 19;

const MiB = 2 ** 20;
const bytes = (n: number): string => (n % MiB === 0 ? `${code(n)} (${n / MiB} MiB)` : code(n));
const ms = (n: number): string => (n % 1000 === 0 && n > 0 ? `${code(n)} (${n / 1000} s)` : code(n));

function integer(min: number, max = Number.MAX_SAFE_INTEGER): { accepts: string; parse: (raw: string) => number | undefined } {
  return {
    accepts: max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`,
    parse: (raw) => (/^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max ? Number(raw) : undefined),
  };
}

/** A size in bytes (`512MiB`, `3GiB` or a number) of at least `minMiB` MiB; `examples` name two in the docs. */
function byteSize(minMiB: number, examples: string): { accepts: string; parse: (raw: string) => number | undefined } {
  return {
    accepts: `a size of at least ${minMiB}MiB, such as ${examples} or a number of bytes`,
    parse: (raw) => {
      const bytes = parseByteSize(raw);
      return bytes !== undefined && bytes >= minMiB * MiB ? bytes : undefined;
    },
  };
}

const text = (raw: string): string => raw;

/** `CONIFER_INDEX_HOSTS`: how index hosts address the data plane. */
export type IndexHostsMode = 'ports' | 'paths';

/** `first-last`, both 1–65535, first <= last. */
function parsePortRange(raw: string): { first: number; last: number } | undefined {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(raw);
  if (!match) return undefined;
  const first = Number(match[1]);
  const last = Number(match[2]);
  return first >= 1 && last <= 65_535 && first <= last ? { first, last } : undefined;
}

const engine = DEFAULT_ENGINE_CONFIG;

export const SETTINGS = {
  CONIFER_HOST: {
    env: 'CONIFER_HOST',
    group: 'server',
    accepts: 'a host name or IP address',
    default: '127.0.0.1',
    defaultText: code('127.0.0.1'),
    doc: 'interface to listen on (`0.0.0.0` for all)',
    tuning: 'The default serves this machine only.',
    parse: text,
  },
  CONIFER_PORT: {
    env: 'CONIFER_PORT',
    group: 'server',
    ...integer(0, 65_535),
    default: 5080,
    defaultText: code(5080),
    doc: 'HTTP port (`0` picks a free one)',
  },
  CONIFER_DATA_DIR: {
    env: 'CONIFER_DATA_DIR',
    group: 'server',
    accepts: 'a directory path',
    default: './.conifer',
    defaultText: code('./.conifer'),
    doc: 'local state: objects, embedded database, admin key file',
    parse: text,
  },
  CONIFER_PUBLIC_URL: {
    env: 'CONIFER_PUBLIC_URL',
    group: 'server',
    accepts: 'an http:// or https:// URL',
    defaultText: "each request's scheme and `Host`",
    doc: 'base URL clients reach this server at, used in the `host` of every index the API describes',
    tuning: 'Needed behind a proxy or load balancer that changes the host clients see.',
    parse: (raw) => (/^https?:\/\/[^/\s]+(\/\S*)?$/.test(raw) ? raw.replace(/\/+$/, '') : undefined),
  } satisfies Setting<string>,
  CONIFER_INDEX_HOSTS: {
    env: 'CONIFER_INDEX_HOSTS',
    group: 'server',
    accepts: '`ports` or `paths`',
    defaultText: '`ports` on a single node with a fixed `CONIFER_PORT` and no `CONIFER_PUBLIC_URL`, else `paths`',
    doc: "how an index's `host` addresses its data plane: `ports` gives each index its own port (REST and gRPC); `paths` puts it under `/projects/<id>/indexes/<name>` of the main port (REST only)",
    tuning:
      "gRPC clients (Pinecone's Python `grpc=True`, Go) cannot dial a host with a path, so they need `ports`. Behind a proxy that publishes one address, `paths` keeps everything on it. In a cluster, set it on the gateways (with the same `CONIFER_INDEX_PORTS` on each, published by the load balancer).",
    parse: (raw) => (raw === 'ports' || raw === 'paths' ? raw : undefined),
  } satisfies Setting<IndexHostsMode>,
  CONIFER_INDEX_PORTS: {
    env: 'CONIFER_INDEX_PORTS',
    group: 'server',
    accepts: 'a port range `first-last` (1–65535)',
    defaultText: 'the 200 ports after `CONIFER_PORT` (`5081-5280`)',
    doc: 'ports the indexes are served on when `CONIFER_INDEX_HOSTS=ports`; each index keeps its port across restarts',
    tuning: 'One port per live index: the range bounds how many indexes this node can hold.',
    parse: parsePortRange,
  } satisfies Setting<{ first: number; last: number }>,
  CONIFER_LOG_LEVEL: {
    env: 'CONIFER_LOG_LEVEL',
    group: 'server',
    accepts: `one of ${LOG_LEVELS.join(', ')}`,
    default: 'info' as LogLevel,
    defaultText: code('info'),
    doc: 'pino level of the JSON logs on stdout (`debug` and finer add two lines per HTTP request)',
    parse: (raw) => LOG_LEVELS.find((level) => level === raw),
  },
  CONIFER_API_KEY: {
    env: 'CONIFER_API_KEY',
    group: 'server',
    accepts: '16–256 printable ASCII characters without spaces',
    defaultText: 'generated',
    doc: 'admin API key registered at first start (else one is generated, printed once and written to `<data dir>/admin-api-key`)',
    parse: (raw) => (/^[\x21-\x7e]{16,256}$/.test(raw) ? raw : undefined),
  } satisfies Setting<string>,
  CONIFER_STORAGE: {
    env: 'CONIFER_STORAGE',
    group: 'storage',
    accepts: 'a path or an object-store URL (`file://`, `s3://`, `gs://`, `az://`, `memory://`)',
    defaultText: '`<data dir>/objects`',
    doc: 'where vectors live: a path or `file://` (local disk), `s3://`, `gs://`, `az://` (docs/storage.md), `memory://` (tests)',
    parse: text,
  } satisfies Setting<string>,
  CONIFER_STORAGE_LATENCY: {
    env: 'CONIFER_STORAGE_LATENCY',
    group: 'storage',
    accepts: '`s3` or `<p50 ms>/<p99 ms>/<MB per second>`',
    defaultText: 'none',
    doc: 'for benchmarks: simulated object-store latency added to every store call — a log-normal time to first byte with that median and 99th percentile, then the body at that rate; `s3` is `25/80/100`',
    tuning: 'Local disk and emulators answer in microseconds; this shows what the same data costs from a bucket. Never set it in production.',
    parse: (raw) => parseLatencyModel(raw),
  } satisfies Setting<LatencyModel>,
  CONIFER_S3_FORCE_PATH_STYLE: {
    env: 'CONIFER_S3_FORCE_PATH_STYLE',
    group: 'storage',
    accepts: 'true or false (or 1/0, yes/no)',
    defaultText: code('false'),
    doc: 'path-style S3 addressing (`http://host/bucket/key`), which most S3-compatible services need',
    // Read again by the storage package from the environment when it opens the store; parsed here
    // so that a typo fails startup instead of silently meaning `false`.
    parse: (raw) => (/^(1|true|yes)$/i.test(raw) ? true : /^(0|false|no)$/i.test(raw) ? false : undefined),
  } satisfies Setting<boolean>,
  CONIFER_DATABASE_URL: {
    env: 'CONIFER_DATABASE_URL',
    group: 'control plane',
    accepts: 'a postgres:// or postgresql:// URL',
    defaultText: 'embedded PGlite',
    doc: 'PostgreSQL of the control plane; unset runs embedded PGlite under `<data dir>/control`',
    parse: (raw) => (/^postgres(ql)?:\/\//.test(raw) ? raw : undefined),
  } satisfies Setting<string>,
  CONIFER_ROLES: {
    env: 'CONIFER_ROLES',
    group: 'cluster',
    accepts: `a comma-separated list of ${NODE_ROLES.join(', ')}`,
    default: [...NODE_ROLES] as NodeRole[],
    defaultText: 'all four (one process)',
    doc: 'this node\'s roles in a cluster (docs/operations.md, "Running a cluster")',
    tuning:
      'Anything but all four makes the node one of a cluster: it then needs `CONIFER_DATABASE_URL`, a shared `CONIFER_STORAGE` and `CONIFER_CLUSTER_SECRET`. Reads go to `query` nodes when the cluster has any, else to the writer owning the namespace; compactions go to `indexer` nodes while one is live, else the writer builds them itself.',
    parse: (raw) => {
      const roles = raw.split(',').map((r) => r.trim());
      if (!roles.every((r): r is NodeRole => (NODE_ROLES as readonly string[]).includes(r))) return undefined;
      return NODE_ROLES.filter((r) => roles.includes(r));
    },
  } satisfies DefaultedSetting<NodeRole[]>,
  CONIFER_CLUSTER_SECRET: {
    env: 'CONIFER_CLUSTER_SECRET',
    group: 'cluster',
    accepts: '16–256 printable ASCII characters without spaces',
    defaultText: 'none',
    doc: "shared secret the nodes of a cluster call each other's internal endpoints with (never a user's API key)",
    tuning: 'The same on every node; required on every node that is not all four roles.',
    parse: (raw) => (/^[\x21-\x7e]{16,256}$/.test(raw) ? raw : undefined),
  } satisfies Setting<string>,
  CONIFER_ADVERTISE_URL: {
    env: 'CONIFER_ADVERTISE_URL',
    group: 'cluster',
    accepts: 'an http:// or https:// URL',
    defaultText: '`http://<CONIFER_HOST>:<port>`',
    doc: 'URL the other nodes of a cluster call this node at, as it announces it in the membership',
    tuning:
      "Required on a cluster node listening on every interface (`CONIFER_HOST=0.0.0.0` or `::`), where the listening address names no host others can reach: set it to this machine's address or DNS name and the port (a pod's address in Kubernetes).",
    parse: (raw) => (/^https?:\/\/[^/\s]+\/?$/.test(raw) ? raw.replace(/\/+$/, '') : undefined),
  } satisfies Setting<string>,
  CONIFER_USAGE_FLUSH_MS: {
    env: 'CONIFER_USAGE_FLUSH_MS',
    group: 'control plane',
    ...integer(0),
    defaultText: ms(CONTROL_DEFAULTS.usageFlushIntervalMs),
    doc: 'how often metered read/write units are written to the database (`0`: only on close)',
  },
  CONIFER_MEMTABLE_MAX_RECORDS: {
    env: 'CONIFER_MEMTABLE_MAX_RECORDS',
    group: 'data plane',
    ...integer(1),
    defaultText: code(engine.memtableMaxRecords),
    doc: "records in a namespace's memtable before it is flushed to a slab",
    tuning: 'Bigger: fewer, larger L0 slabs; more replay after a crash, slower memtable scans.',
  },
  CONIFER_MEMTABLE_MAX_BYTES: {
    env: 'CONIFER_MEMTABLE_MAX_BYTES',
    group: 'data plane',
    ...integer(1024),
    defaultText: bytes(engine.memtableMaxBytes),
    doc: "bytes in a namespace's memtable before it is flushed",
  },
  CONIFER_MEMTABLE_MAX_AGE_MS: {
    env: 'CONIFER_MEMTABLE_MAX_AGE_MS',
    group: 'data plane',
    ...integer(1),
    defaultText: ms(engine.memtableMaxAgeMs),
    doc: "age of a memtable's first write at which it is flushed",
    tuning: 'Idle namespaces flush so that the log stays short.',
  },
  CONIFER_COMPACTION_TRIGGER: {
    env: 'CONIFER_COMPACTION_TRIGGER',
    group: 'data plane',
    ...integer(2),
    defaultText: code(engine.compaction.trigger),
    doc: 'adjacent slabs of one level merged into one',
    tuning: 'Lower: fewer slabs to search, more rewriting.',
  },
  CONIFER_MAX_SLAB_SIZE: {
    env: 'CONIFER_MAX_SLAB_SIZE',
    group: 'data plane',
    ...byteSize(1, '`256MiB`, `1GiB`'),
    defaultText: 'a quarter of `CONIFER_MEMORY_BUDGET`',
    doc: 'largest slab a compaction writes (the sum of the slabs it merges); slabs that cannot merge under it stay apart and queries search each',
    tuning:
      'A compaction holds its inputs, its output and the index it builds at once, a few times this size. Larger: fewer slabs per query in namespaces larger than it, more memory and longer merges.',
  } satisfies Setting<number>,
  CONIFER_GC_GRACE_MS: {
    env: 'CONIFER_GC_GRACE_MS',
    group: 'data plane',
    ...integer(0),
    defaultText: ms(engine.gcGraceMs),
    doc: 'how long unreferenced objects are kept for readers on older manifests',
  },
  CONIFER_COMPACTION_WORKERS: {
    env: 'CONIFER_COMPACTION_WORKERS',
    group: 'data plane',
    ...integer(1),
    defaultText: code(engine.compactor.workers),
    doc: 'compactions (merge + ANN build) running at once, each in its own worker thread',
    tuning: 'The event loop serving queries never runs them.',
  },
  CONIFER_COMPACTION_THREADS: {
    env: 'CONIFER_COMPACTION_THREADS',
    group: 'data plane',
    ...integer(1),
    // Computed from the machine's cores in packages/engine/src/config.ts.
    defaultText: 'cores − 1 (at least 1)',
    doc: 'OpenMP threads each compaction may train and fill faiss indexes with',
    tuning: 'Leave at least one core for queries.',
  },
  CONIFER_IMPORT_FILE_URIS: {
    env: 'CONIFER_IMPORT_FILE_URIS',
    group: 'data plane',
    accepts: 'true or false (or 1/0, yes/no)',
    defaultText: code('false'),
    doc: "let bulk imports (`/bulk/imports`) read `file://` URIs, a directory of the server's machine, besides `s3://`, `gs://` and `az://`",
    tuning: 'Any key that can write can then read Parquet files the server can: turn it on only where those keys are trusted (tests, a single-user machine).',
    parse: (raw) => (/^(1|true|yes)$/i.test(raw) ? true : /^(0|false|no)$/i.test(raw) ? false : undefined),
  } satisfies Setting<boolean>,
  CONIFER_UPSERT_PARSE_THREADS: {
    env: 'CONIFER_UPSERT_PARSE_THREADS',
    group: 'data plane',
    ...integer(0, 64),
    // Computed from the machine's cores in apps/server/src/pinecone/upsert-parser.ts.
    defaultText: 'cores − 1, at most 2',
    doc: 'worker threads that read large upsert bodies (64 KiB and more) off the event loop (`0`: on the event loop)',
    tuning: 'Reading the digits of vectors is most of an upsert; the write path after it stays on the event loop.',
  },
  CONIFER_COMPACTION_NICENESS: {
    env: 'CONIFER_COMPACTION_NICENESS',
    group: 'data plane',
    ...integer(0, 19),
    defaultText: `${code(engine.compactor.niceness)}; ${code(INDEXER_ONLY_NICENESS)} on a node whose only role is \`indexer\``,
    doc: "Linux nice value of the compaction threads and of V8's helper threads (garbage collection); on a node whose only role is `indexer`, of the whole process (and of its session's scheduling group when it leads its own session)",
    tuning: 'The event loop serving requests gets a core first; `0` leaves priorities alone.',
  },
  CONIFER_COMPACTION_IDLE_MS: {
    env: 'CONIFER_COMPACTION_IDLE_MS',
    group: 'data plane',
    ...integer(0),
    defaultText: ms(engine.compactor.idleMs),
    doc: 'how long a compaction worker with no job is kept before it is stopped (`0` keeps it)',
    tuning: 'Stopping it and trimming the C heap gives back the memory of the last merge and index build; the next compaction starts a new worker.',
  },
  CONIFER_INDEX_IDLE_MS: {
    env: 'CONIFER_INDEX_IDLE_MS',
    group: 'data plane',
    ...integer(0),
    defaultText: ms(engine.indexIdleMs),
    doc: 'quiet time (no flush) before a flat slab too large to scan exactly that is still unindexed gets its own ANN index (a flushed one is indexed as soon as no merge is due)',
  },
  CONIFER_MEMORY_BUDGET: {
    env: 'CONIFER_MEMORY_BUDGET',
    group: 'data plane',
    ...byteSize(16, '`512MiB`, `3GiB`'),
    defaultText: "half the memory the process may use (its cgroup's limit, else the machine's)",
    doc: "memory this node's process may hold: its own (runtime, code, embedded database), its open namespaces (memtables, slabs) and its caches; past it the least recently used namespaces are closed and reopened on their next request",
    tuning:
      "A closed namespace costs its next request an open from the store (manifest, slabs, log tail); a writer flushes it first. The page cache of slabs read by range takes an eighth of the budget (at most 1 GiB), the slab cache on a cloud bucket another eighth (at most 256 MiB), the process's own memory (measured at start, about 300 MiB with the embedded database) what it holds, and the open namespaces the rest, at least a quarter. A namespace in use is never closed, so one larger than the budget still opens. Requests in flight and a compaction's peak come on top.",
  } satisfies Setting<number>,
  CONIFER_NAMESPACE_IDLE_MS: {
    env: 'CONIFER_NAMESPACE_IDLE_MS',
    group: 'data plane',
    ...integer(0),
    defaultText: ms(engine.namespaceIdleMs),
    doc: 'a namespace no request used for this long is closed, whatever the budget (`0`: only the budget closes namespaces)',
  },
  CONIFER_RATE_LIMITS: {
    env: 'CONIFER_RATE_LIMITS',
    group: 'rate limits',
    accepts: "'on' or 'off'",
    default: false,
    defaultText: code('off'),
    doc: "`on` applies Pinecone's serverless rate limits to this node; each `CONIFER_RATE_<LIMIT>` then overrides one",
    tuning:
      "Off on one's own hardware, where limits would only throttle one's own load; operators who host tenants also set them per project and per index (docs/api.md).",
    parse: (raw) => (raw === 'on' ? true : raw === 'off' ? false : undefined),
  } satisfies DefaultedSetting<boolean>,
} satisfies Record<string, Setting<unknown> | DefaultedSetting<unknown>>;

/** `queryPerNamespace` → `CONIFER_RATE_QUERY_PER_NAMESPACE`. */
export function rateLimitVariable(name: RateLimitName): string {
  return `CONIFER_RATE_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** One setting per rate limit of the node (packages/api/src/rate-limits.ts documents each). */
export const RATE_LIMIT_SETTINGS: ReadonlyMap<RateLimitName, Setting<number>> = new Map(
  RATE_LIMIT_NAMES.map((name) => [
    name,
    {
      env: rateLimitVariable(name),
      group: 'rate limits',
      accepts: 'a non-negative number (0 = unlimited)',
      defaultText: `${code(0)} (off; Pinecone: ${code(PINECONE_RATE_LIMITS[name])})`,
      doc: `the node's \`${name}\` limit, per second`,
      parse: (raw: string) => (/^\d+(\.\d+)?$/.test(raw) ? Number(raw) : undefined),
    },
  ]),
);

/** Every setting, in the order the docs list them. */
export const ALL_SETTINGS: readonly Setting<unknown>[] = [...Object.values(SETTINGS), ...RATE_LIMIT_SETTINGS.values()].sort(
  (a, b) => SETTING_GROUPS.indexOf(a.group) - SETTING_GROUPS.indexOf(b.group),
);

type Env = Record<string, string | undefined>;
type ValueOf<S> = S extends DefaultedSetting<infer T> ? T : S extends Setting<infer T> ? T | undefined : never;
export type SettingValues = { -readonly [K in keyof typeof SETTINGS]: ValueOf<(typeof SETTINGS)[K]> };

/**
 * Reads one setting: unset or blank gives its default (or `undefined`, leaving the owning
 * package's default), anything else must parse.
 */
export function readSetting<T>(setting: Setting<T>, env: Env): { value: T | undefined } | { error: string } {
  const raw = env[setting.env]?.trim();
  if (raw === undefined || raw === '') return { value: 'default' in setting ? (setting as DefaultedSetting<T>).default : undefined };
  const value = setting.parse(raw);
  return value === undefined ? { error: `${setting.env}: must be ${setting.accepts}` } : { value };
}

/** Reads every setting; `errors` names each invalid variable and what it accepts. */
export function readSettings(env: Env): { values: SettingValues; rateLimits: Map<RateLimitName, number>; errors: string[] } {
  const errors: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const read = readSetting(setting, env);
    if ('error' in read) errors.push(read.error);
    else values[key] = read.value;
  }
  const rateLimits = new Map<RateLimitName, number>();
  for (const [name, setting] of RATE_LIMIT_SETTINGS) {
    const read = readSetting(setting, env);
    if ('error' in read) errors.push(read.error);
    else if (read.value !== undefined) rateLimits.set(name, read.value);
  }
  return { values: values as SettingValues, rateLimits, errors };
}
