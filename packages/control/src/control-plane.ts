import { createKeyStore, type KeyStore } from './api-keys.ts';
import { recentAudit, recordAudit } from './audit.ts';
import { createAuthenticator } from './authenticator.ts';
import { createBackups, type Backups } from './backups.ts';
import { createBulkImports, type BulkImports } from './bulk-imports.ts';
import { bootstrap, type BootstrapOptions, type BootstrapResult } from './bootstrap.ts';
import { DEFAULT_CONFIG, type ControlPlaneConfig } from './config.ts';
import { openDatabase } from './database.ts';
import { createIndexJobs, type IndexJobs } from './index-jobs.ts';
import { createIndexStore, type IndexStore } from './indexes.ts';
import { createMembership, type Membership } from './membership.ts';
import { migrateToLatest } from './migrate.ts';
import { createNamespaceSchemaStore, type NamespaceSchemaStore } from './namespace-schemas.ts';
import { createProjectStore, type ProjectStore } from './projects.ts';
import { createRestoreJobs, type RestoreJobs } from './restore-jobs.ts';
import { createRateLimitOverrideStore, type RateLimitOverrideStore } from './rate-limit-overrides.ts';
import { createUsageMeter, type UsageMeter } from './usage.ts';
import type { AuditEvent, AuthContext } from './types.ts';

export interface ControlPlaneOptions {
  /** `postgres://…`: use this PostgreSQL server (wins over `dataDir`). */
  databaseUrl?: string | undefined;
  /** Embedded PGlite persisted in this directory; in memory when neither option is given. */
  dataDir?: string | undefined;
  /** In-memory PGlite only: start from this dump of a data directory instead of running initdb (see `openDatabase`). */
  pgliteDump?: Blob | undefined;
  /** Overrides of the defaults in `config.ts`. */
  config?: Partial<ControlPlaneConfig> | undefined;
  /** Clock in ms since the epoch, for the auth cache, `last_used_at` and usage days. Default `Date.now`. */
  now?: (() => number) | undefined;
  /** Called when a background usage flush fails (the units are kept and retried). */
  onUsageFlushError?: ((error: unknown) => void) | undefined;
}

/** Projects, API keys, indexes and audit events, over PostgreSQL or embedded PGlite. */
export interface ControlPlane {
  /**
   * Ensures the "default" project and an admin key exist; returns the key's plaintext only from
   * the call that created it. Idempotent.
   *
   * @example const { apiKey } = await cp.bootstrap({ apiKey: process.env.CONIFER_API_KEY });
   */
  bootstrap(options?: BootstrapOptions): Promise<BootstrapResult>;
  /**
   * The caller behind an API key, or null for an unknown or revoked key. Cached in process
   * (`authCacheTtlMs`); revocations through this ControlPlane apply at once.
   *
   * @example const auth = await cp.authenticate(req.headers['api-key']); if (!auth) throw new UnauthenticatedError();
   */
  authenticate(rawKey: string): Promise<AuthContext | null>;
  /** {@link authenticate} answered from the cache at once, or undefined when it must be asked. */
  authenticateCached(rawKey: string): AuthContext | undefined;
  readonly projects: ProjectStore;
  readonly keys: KeyStore;
  readonly indexes: IndexStore;
  /** Rate-limit overrides of projects and indexes (an operator's, for tenants). */
  readonly rateLimits: RateLimitOverrideStore;
  /** The metadata schemas namespaces were created with (which fields are indexed). */
  readonly namespaceSchemas: NamespaceSchemaStore;
  /** Read/write units per index per day, buffered in memory and flushed in the background. */
  readonly usage: UsageMeter;
  /** The nodes of the cluster and their heartbeats (docs/adr/0006-cluster-roles.md). */
  readonly membership: Membership;
  /** The queue of compactions and index builds that writers plan and indexers claim (docs/adr/0006-cluster-roles.md). */
  readonly indexJobs: IndexJobs;
  /** Bulk imports of indexes (`/bulk/imports`), their progress and outcome. */
  readonly imports: BulkImports;
  /** Backups of indexes (`/backups`); what they hold is pinned in the object store. */
  readonly backups: Backups;
  /** Restores of backups into new indexes (`/restore-jobs`). */
  readonly restoreJobs: RestoreJobs;
  /** The tunables in effect (defaults plus overrides). */
  readonly config: Readonly<ControlPlaneConfig>;
  /**
   * Records an audit event for actions the control plane does not record itself (its own
   * mutations are audited in their transaction).
   *
   * @example await cp.audit(auth.projectId, auth.keyId, 'namespace.delete', 'index:products/ns:a');
   */
  audit(projectId: string, actorKeyId: string | null, action: string, target: string): Promise<void>;
  /** The newest audit events of a project, newest first (default 50). */
  recentAudit(projectId: string, limit?: number): Promise<AuditEvent[]>;
  /** Flushes metered usage, then closes the database (pool or PGlite). Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens the database, runs pending migrations and returns the control plane.
 *
 * @example
 * const cp = await createControlPlane({ dataDir: '.conifer/control' });
 * const { apiKey } = await cp.bootstrap();
 */
export async function createControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const config: ControlPlaneConfig = { ...DEFAULT_CONFIG, ...options.config };
  const now = options.now ?? Date.now;
  const db = await openDatabase({
    databaseUrl: options.databaseUrl,
    dataDir: options.dataDir,
    pgliteDump: options.pgliteDump,
    poolSize: config.postgresPoolSize,
  });
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const authenticator = createAuthenticator(db, config, now);
  const usage = createUsageMeter(db, { flushIntervalMs: config.usageFlushIntervalMs, now, onFlushError: options.onUsageFlushError });
  let closing: Promise<void> | undefined;

  return {
    bootstrap: (bootstrapOptions) => bootstrap(db, bootstrapOptions),
    authenticate: (rawKey) => authenticator.authenticate(rawKey),
    authenticateCached: (rawKey) => authenticator.cached(rawKey),
    projects: createProjectStore(db),
    keys: createKeyStore(db, (hash) => authenticator.invalidate(hash)),
    indexes: createIndexStore(db, { cacheTtlMs: config.indexCacheTtlMs, now, staleIfErrorMs: config.staleIfErrorMs }),
    rateLimits: createRateLimitOverrideStore(db, { cacheTtlMs: config.indexCacheTtlMs, now, staleIfErrorMs: config.staleIfErrorMs }),
    namespaceSchemas: createNamespaceSchemaStore(db, { cacheTtlMs: config.indexCacheTtlMs, now, staleIfErrorMs: config.staleIfErrorMs }),
    usage,
    membership: createMembership(db),
    indexJobs: createIndexJobs(db, { maxAttempts: config.indexJobMaxAttempts }),
    imports: createBulkImports(db, now),
    backups: createBackups(db, now),
    restoreJobs: createRestoreJobs(db, now),
    config,
    audit: (projectId, actorKeyId, action, target) => recordAudit(db, { projectId, actorKeyId, action, target }),
    recentAudit: (projectId, limit = 50) => recentAudit(db, projectId, limit),
    close() {
      closing ??= usage
        .close()
        .catch(() => {}) // the database is going away; nothing left to retry with
        .then(() => db.destroy());
      return closing;
    },
  };
}
