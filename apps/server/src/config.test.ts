import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PINECONE_RATE_LIMITS, RateLimiter } from '@conifer/api';
import { DEFAULT_ENGINE_CONFIG, resolveEngineConfig } from '@conifer/engine';
import { ConfigError, loadConfig, rateLimitVariable } from './config.ts';
import { INDEXER_ONLY_NICENESS } from './settings.ts';

describe('loadConfig', () => {
  it('has documented defaults', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      host: '127.0.0.1',
      port: 5080,
      dataDir: path.resolve('.conifer'),
      storage: path.join(path.resolve('.conifer'), 'objects'),
      databaseUrl: undefined,
      apiKey: undefined,
      roles: ['gateway', 'writer', 'query', 'indexer'],
      clusterSecret: undefined,
      logLevel: 'info',
      publicUrl: undefined,
      indexHosts: 'ports',
      indexPorts: { first: 5081, last: 5280 },
      importFileUris: false,
      rateLimits: {},
      control: {},
      engine: {},
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      CONIFER_HOST: '0.0.0.0',
      CONIFER_PORT: '8080',
      CONIFER_DATA_DIR: '/var/lib/conifer',
      CONIFER_STORAGE: 'memory://',
      CONIFER_DATABASE_URL: 'postgres://u:p@db:5432/conifer',
      CONIFER_API_KEY: 'cnf_0123456789abcdef',
      CONIFER_LOG_LEVEL: 'debug',
      CONIFER_MEMTABLE_MAX_RECORDS: '1000',
      CONIFER_MEMTABLE_MAX_BYTES: '1048576',
      CONIFER_MEMTABLE_MAX_AGE_MS: '5000',
      CONIFER_COMPACTION_TRIGGER: '3',
      CONIFER_GC_GRACE_MS: '0',
      CONIFER_COMPACTION_WORKERS: '2',
      CONIFER_COMPACTION_THREADS: '3',
      CONIFER_COMPACTION_NICENESS: '0',
      CONIFER_COMPACTION_IDLE_MS: '60000',
      CONIFER_INDEX_IDLE_MS: '0',
      CONIFER_MEMORY_BUDGET: '3GiB',
      CONIFER_NAMESPACE_IDLE_MS: '0',
      CONIFER_PUBLIC_URL: 'https://vectors.example.com/',
      CONIFER_RATE_QUERY_PER_NAMESPACE: '10',
      CONIFER_RATE_UPSERT_BYTES_PER_NAMESPACE: '0',
      CONIFER_USAGE_FLUSH_MS: '500',
      CONIFER_ROLES: 'writer, gateway',
      CONIFER_CLUSTER_SECRET: 'cluster-secret-0123456789',
      CONIFER_ADVERTISE_URL: 'http://10.0.0.7:8080',
      CONIFER_IMPORT_FILE_URIS: 'true',
    });
    expect(config).toEqual({
      host: '0.0.0.0',
      port: 8080,
      dataDir: '/var/lib/conifer',
      storage: 'memory://',
      databaseUrl: 'postgres://u:p@db:5432/conifer',
      apiKey: 'cnf_0123456789abcdef',
      roles: ['gateway', 'writer'],
      clusterSecret: 'cluster-secret-0123456789',
      advertiseUrl: 'http://10.0.0.7:8080',
      logLevel: 'debug',
      publicUrl: 'https://vectors.example.com',
      indexHosts: 'paths',
      indexPorts: undefined,
      importFileUris: true,
      rateLimits: { queryPerNamespace: 10, upsertBytesPerNamespace: 0 },
      control: { usageFlushIntervalMs: 500 },
      engine: {
        memtableMaxRecords: 1000,
        memtableMaxBytes: 1048576,
        memtableMaxAgeMs: 5000,
        compaction: { trigger: 3, maxMerge: 8 },
        gcGraceMs: 0,
        indexIdleMs: 0,
        memoryBudgetBytes: 3 * 2 ** 30,
        namespaceIdleMs: 0,
        compactor: { workers: 2, buildThreads: 3, inline: false, niceness: 0, idleMs: 60_000, retireAfterBytes: 64 * 1024 * 1024 },
      },
    });
  });

  it('gives indexes ports of their own where that can work, paths elsewhere, and refuses ports it cannot serve', () => {
    expect(loadConfig({ CONIFER_PORT: '6000' })).toMatchObject({ indexHosts: 'ports', indexPorts: { first: 6001, last: 6200 } });
    expect(loadConfig({ CONIFER_PORT: '65500' }).indexPorts).toEqual({ first: 65501, last: 65535 });
    expect(loadConfig({ CONIFER_PORT: '0' })).toMatchObject({ indexHosts: 'paths', indexPorts: undefined });
    expect(loadConfig({ CONIFER_PUBLIC_URL: 'https://v.example.com' })).toMatchObject({ indexHosts: 'paths', indexPorts: undefined });
    expect(loadConfig({ CONIFER_INDEX_HOSTS: 'paths' })).toMatchObject({ indexHosts: 'paths', indexPorts: undefined });
    expect(loadConfig({ CONIFER_PORT: '0', CONIFER_INDEX_HOSTS: 'ports', CONIFER_INDEX_PORTS: '7000-7009' }).indexPorts).toEqual({ first: 7000, last: 7009 });
    expect(() => loadConfig({ CONIFER_PORT: '0', CONIFER_INDEX_HOSTS: 'ports' })).toThrow(/CONIFER_INDEX_PORTS/);
    expect(() => loadConfig({ CONIFER_INDEX_PORTS: '5000-5100' })).toThrow(/must not hold CONIFER_PORT \(5080\)/);
    expect(() => loadConfig({ CONIFER_INDEX_HOSTS: 'hosts' })).toThrow(/CONIFER_INDEX_HOSTS: must be `ports` or `paths`/);
    expect(loadConfig({ CONIFER_MEMORY_BUDGET: '512MiB' }).engine.memoryBudgetBytes).toBe(512 * 2 ** 20);
    // The largest slab: set alone, beside the trigger (which it must not reset), or left to the engine (a quarter of the budget).
    expect(loadConfig({ CONIFER_MAX_SLAB_SIZE: '256MiB' }).engine.compaction).toEqual({ trigger: 4, maxMerge: 8, maxSlabBytes: 256 * 2 ** 20 });
    expect(loadConfig({ CONIFER_MAX_SLAB_SIZE: '1GiB', CONIFER_COMPACTION_TRIGGER: '2' }).engine.compaction).toEqual({
      trigger: 2,
      maxMerge: 8,
      maxSlabBytes: 2 ** 30,
    });
    expect(loadConfig({}).engine.compaction?.maxSlabBytes).toBeUndefined();
    for (const bad of ['512KiB', 'big', '0'])
      expect(() => loadConfig({ CONIFER_MAX_SLAB_SIZE: bad })).toThrow(/CONIFER_MAX_SLAB_SIZE: must be a size of at least 1MiB/);
    expect(loadConfig({ CONIFER_STORAGE_LATENCY: 's3' }).storageLatency).toEqual({ firstByteMs: { p50: 25, p99: 80 }, bytesPerSecond: 100e6 });
    expect(() => loadConfig({ CONIFER_STORAGE_LATENCY: '80/25/100' })).toThrow(/CONIFER_STORAGE_LATENCY: must be `s3` or/);
    for (const bad of ['8MiB', '3 parsecs', '-1GiB'])
      expect(() => loadConfig({ CONIFER_MEMORY_BUDGET: bad })).toThrow(/CONIFER_MEMORY_BUDGET: must be a size of at least 16MiB/);
    for (const bad of ['5100', '5200-5100', '0-10', '1-70000', 'a-b']) {
      expect(() => loadConfig({ CONIFER_INDEX_PORTS: bad })).toThrow(/CONIFER_INDEX_PORTS: must be a port range/);
    }
    const cluster = {
      CONIFER_ROLES: 'gateway',
      CONIFER_DATABASE_URL: 'postgres://db/c',
      CONIFER_STORAGE: 's3://b',
      CONIFER_CLUSTER_SECRET: 'cluster-secret-0123456789',
    };
    expect(loadConfig(cluster).indexHosts).toBe('paths');
    // A cluster's gateways may serve index ports (gRPC); a node without the gateway role may not.
    expect(loadConfig({ ...cluster, CONIFER_PORT: '6000', CONIFER_INDEX_HOSTS: 'ports' })).toMatchObject({
      indexHosts: 'ports',
      indexPorts: { first: 6001, last: 6200 },
    });
    expect(() => loadConfig({ ...cluster, CONIFER_ROLES: 'writer,query', CONIFER_INDEX_HOSTS: 'ports' })).toThrow(/needs the gateway role/);
  });

  it('runs an indexer-only node at the lowest priority unless CONIFER_COMPACTION_NICENESS says otherwise; other nodes keep the compaction default', () => {
    const cluster = { CONIFER_DATABASE_URL: 'postgres://db/conifer', CONIFER_STORAGE: 's3://bucket', CONIFER_CLUSTER_SECRET: 'cluster-secret-0123456789' };
    const niceness = (env: Record<string, string>) => resolveEngineConfig(loadConfig(env).engine).compactor.niceness;
    expect(niceness({ ...cluster, CONIFER_ROLES: 'indexer' })).toBe(INDEXER_ONLY_NICENESS);
    expect(INDEXER_ONLY_NICENESS).toBe(19);
    expect(niceness({ ...cluster, CONIFER_ROLES: 'indexer', CONIFER_COMPACTION_NICENESS: '12' })).toBe(12);
    expect(niceness({ ...cluster, CONIFER_ROLES: 'indexer', CONIFER_COMPACTION_NICENESS: '0' })).toBe(0);
    for (const roles of ['writer', 'writer,indexer', 'gateway,writer,query,indexer'])
      expect(niceness({ ...cluster, CONIFER_ROLES: roles })).toBe(DEFAULT_ENGINE_CONFIG.compactor.niceness);
    expect(niceness({})).toBe(DEFAULT_ENGINE_CONFIG.compactor.niceness);
  });

  it('makes a node that is not all four roles one of a cluster, which needs PostgreSQL, a shared store and the cluster secret', () => {
    const cluster = { CONIFER_DATABASE_URL: 'postgres://db/conifer', CONIFER_STORAGE: 's3://bucket', CONIFER_CLUSTER_SECRET: 'cluster-secret-0123456789' };
    expect(loadConfig({ ...cluster, CONIFER_ROLES: 'writer' }).roles).toEqual(['writer']);
    expect(loadConfig({ ...cluster, CONIFER_ROLES: 'gateway' }).roles).toEqual(['gateway']);
    // Each missing setting is named.
    expect(() => loadConfig({ CONIFER_ROLES: 'writer' })).toThrow(/CONIFER_DATABASE_URL .*CONIFER_STORAGE .*CONIFER_CLUSTER_SECRET/);
    expect(() => loadConfig({ ...cluster, CONIFER_STORAGE: '', CONIFER_ROLES: 'gateway' })).toThrow(/needs CONIFER_STORAGE/);
    expect(() => loadConfig({ ...cluster, CONIFER_CLUSTER_SECRET: undefined, CONIFER_ROLES: 'writer' })).toThrow(/needs CONIFER_CLUSTER_SECRET/);
    // Unknown roles and short secrets are refused.
    expect(loadConfig({ ...cluster, CONIFER_ROLES: 'query' }).roles).toEqual(['query']);
    expect(loadConfig({ ...cluster, CONIFER_ROLES: 'indexer' }).roles).toEqual(['indexer']);
    expect(() => loadConfig({ ...cluster, CONIFER_ROLES: 'writer,reader' })).toThrow(
      /CONIFER_ROLES: must be a comma-separated list of gateway, writer, query, indexer/,
    );
    expect(() => loadConfig({ ...cluster, CONIFER_ROLES: 'writer', CONIFER_CLUSTER_SECRET: 'short' })).toThrow(/CONIFER_CLUSTER_SECRET: must be 16–256/);
    // Listening on every interface names no address to call: the node must say where it is reached.
    expect(() => loadConfig({ ...cluster, CONIFER_ROLES: 'writer', CONIFER_HOST: '0.0.0.0' })).toThrow(/needs CONIFER_ADVERTISE_URL \(CONIFER_HOST=0\.0\.0\.0/);
    expect(loadConfig({ ...cluster, CONIFER_ROLES: 'writer', CONIFER_HOST: '::', CONIFER_ADVERTISE_URL: 'http://10.0.0.5:5080/' }).advertiseUrl).toBe(
      'http://10.0.0.5:5080',
    );
    expect(() => loadConfig({ ...cluster, CONIFER_ROLES: 'writer', CONIFER_ADVERTISE_URL: '10.0.0.5:5080' })).toThrow(/CONIFER_ADVERTISE_URL: must be an http/);
    expect(loadConfig({ CONIFER_HOST: '0.0.0.0' }).advertiseUrl).toBeUndefined();
    // All four, in any order, is the single process: nothing else is required.
    expect(loadConfig({ CONIFER_ROLES: 'indexer,query,writer,gateway' }).roles).toEqual(['gateway', 'writer', 'query', 'indexer']);
  });

  it('leaves rate limits off unless asked: CONIFER_RATE_LIMITS=on gives Pinecone’s, single variables set single limits', () => {
    expect(new RateLimiter(loadConfig({}).rateLimits).limits.queryPerNamespace).toBe(0);
    expect(loadConfig({ CONIFER_RATE_LIMITS: 'off' }).rateLimits).toEqual({});
    expect(loadConfig({ CONIFER_RATE_LIMITS: 'on' }).rateLimits).toEqual(PINECONE_RATE_LIMITS);
    const { rateLimits } = loadConfig({ CONIFER_RATE_LIMITS: 'on', CONIFER_RATE_LIST_PER_INDEX: '7', CONIFER_RATE_QUERY_PER_NAMESPACE: '0' });
    expect(rateLimits).toEqual({ ...PINECONE_RATE_LIMITS, listPerIndex: 7, queryPerNamespace: 0 });
    const alone = new RateLimiter(loadConfig({ CONIFER_RATE_QUERY_PER_NAMESPACE: '500' }).rateLimits).limits;
    expect(alone.queryPerNamespace).toBe(500);
    expect(alone.fetchPerIndex).toBe(0);
  });

  it('names a variable for every rate limit', () => {
    expect(rateLimitVariable('describeIndexStatsPerIndex')).toBe('CONIFER_RATE_DESCRIBE_INDEX_STATS_PER_INDEX');
  });

  it('puts the default object store under the data directory', () => {
    expect(loadConfig({ CONIFER_DATA_DIR: '/data' }).storage).toBe('/data/objects');
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({ CONIFER_STORAGE: '', CONIFER_API_KEY: ' ', CONIFER_DATABASE_URL: '', CONIFER_PORT: '', CONIFER_HOST: ' ' });
    expect(config).toEqual(loadConfig({}));
  });

  it.each([
    [{ CONIFER_PORT: 'http' }, 'CONIFER_PORT: must be an integer from 0 to 65535'],
    [{ CONIFER_PORT: '70000' }, 'CONIFER_PORT: must be an integer from 0 to 65535'],
    [{ CONIFER_S3_FORCE_PATH_STYLE: 'on' }, 'CONIFER_S3_FORCE_PATH_STYLE: must be true or false (or 1/0, yes/no)'],
    [{ CONIFER_USAGE_FLUSH_MS: '1.5' }, 'CONIFER_USAGE_FLUSH_MS: must be an integer >= 0'],
    [{ CONIFER_PORT: 'http', CONIFER_GC_GRACE_MS: 'soon' }, 'CONIFER_PORT: must be an integer from 0 to 65535; CONIFER_GC_GRACE_MS: must be an integer >= 0'],
    [{ CONIFER_LOG_LEVEL: 'verbose' }, 'CONIFER_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent'],
    [{ CONIFER_DATABASE_URL: 'mysql://x' }, 'CONIFER_DATABASE_URL: must be a postgres:// or postgresql:// URL'],
    [{ CONIFER_API_KEY: 'short' }, 'CONIFER_API_KEY: must be 16–256 printable ASCII characters without spaces'],
    [{ CONIFER_MEMTABLE_MAX_RECORDS: '0' }, 'CONIFER_MEMTABLE_MAX_RECORDS: must be an integer >= 1'],
    [{ CONIFER_COMPACTION_TRIGGER: 'lots' }, 'CONIFER_COMPACTION_TRIGGER: must be an integer >= 2'],
    [{ CONIFER_COMPACTION_NICENESS: '20' }, 'CONIFER_COMPACTION_NICENESS: must be an integer from 0 to 19'],
    [{ CONIFER_COMPACTION_IDLE_MS: '-1' }, 'CONIFER_COMPACTION_IDLE_MS: must be an integer >= 0'],
    [{ CONIFER_PUBLIC_URL: '127.0.0.1:5080' }, 'CONIFER_PUBLIC_URL: must be an http:// or https:// URL'],
    [{ CONIFER_RATE_LIMITS: 'maybe' }, "CONIFER_RATE_LIMITS: must be 'on' or 'off'"],
    [{ CONIFER_RATE_FETCH_PER_INDEX: '-1' }, 'CONIFER_RATE_FETCH_PER_INDEX: must be a non-negative number (0 = unlimited)'],
  ])('rejects %o with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(`Invalid configuration: ${message}`);
  });
});
