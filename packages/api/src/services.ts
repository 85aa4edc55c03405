import type { ControlPlane, PortRange } from '@conifer/control';
import { createAdminService, type AdminService } from './admin-service.ts';
import type { AuthContext } from './auth.ts';
import { createClusterService, type ClusterService, type ServiceDataPlane } from './cluster-service.ts';
import { createDataService, type DataService } from './data-service.ts';
import { createBackupService, type BackupService } from './backup-service.ts';
import { createImportService, type ImportService, type ImportServiceOptions } from './import-service.ts';
import { createRestoreService, type RestoreService } from './restore-service.ts';
import { createIndexService, type IndexService } from './index-service.ts';
import { RateLimiter, type RateLimits } from './rate-limits.ts';

/**
 * The service layer: every operation of the public API, as plain async functions taking the
 * caller's `AuthContext` and an already-validated request. The tRPC router and the
 * Pinecone-compatible REST API are two faces over these same functions; neither holds business
 * logic of its own (roles, rate limits, usage metering and project scoping all live here).
 */
export interface Services extends IndexService, DataService, AdminService, ClusterService, ImportService, BackupService, RestoreService {
  /** The caller behind a raw API key, or null when the key is unknown or revoked. */
  authenticate(rawKey: string): Promise<AuthContext | null>;
  /**
   * The caller behind a key the control plane's cache holds, at once (no promise); undefined when
   * {@link authenticate} must be asked.
   */
  authenticateCached(rawKey: string): AuthContext | undefined;
  /** The rate limiter the data operations share (its `limits` are the ones in force). */
  readonly limiter: RateLimiter;
  /**
   * Gives every live index without a port one from `indexHostPorts` (indexes made before ports, or
   * while they were off); returns how many. For the server to call at start, before it listens on
   * `control.indexes.hostPorts()`. Without `indexHostPorts`, does nothing and returns 0.
   */
  assignMissingHostPorts(): Promise<number>;
}

export interface ServiceDeps {
  control: ControlPlane;
  /** The engine (single process) or a cluster gateway's routing data plane, which also says where each namespace lives. */
  data: ServiceDataPlane;
  /** The node's own rate limits; unset ones are off (see `RateLimits`). */
  rateLimits?: Partial<RateLimits> | undefined;
  /** Project whose admin keys may create projects (the bootstrapped one). None: nobody may. */
  operatorProjectId?: string | undefined;
  /** This process's id in the cluster membership (the single process names itself as every namespace's owner). */
  nodeId?: string | undefined;
  /** Monotonic clock in ms for the rate limiter. Default `performance.now`. */
  now?: (() => number) | undefined;
  /** Give each index its own TCP port from this range (`CONIFER_INDEX_PORTS`). None: indexes get no port. */
  indexHostPorts?: PortRange | undefined;
  /**
   * Called after an index is created or deleted through any face, before the call answers: the
   * server opens or closes the index's port, so a host is served by the time it is described.
   */
  afterIndexesChange?: (() => Promise<void>) | undefined;
  /** Bulk imports (`import-service.ts`): which URIs are allowed, slab size. */
  imports?: ImportServiceOptions | undefined;
  /** Where restore jobs' background failures go besides the job's row (the server logs them). */
  onRestoreError?: ((error: unknown, jobId: string) => void) | undefined;
}

/**
 * @example
 * const services = createServices({ control, data: engine, operatorProjectId });
 * const auth = await services.authenticate(key);
 * if (auth) await services.createIndex(auth, { name: 'docs', dimension: 3, metric: 'cosine', deletionProtection: 'disabled' });
 */
export function createServices(deps: ServiceDeps): Services {
  const limiter = new RateLimiter(deps.rateLimits, deps.now);
  return {
    authenticate: (rawKey) => deps.control.authenticate(rawKey),
    authenticateCached: (rawKey) => deps.control.authenticateCached(rawKey),
    limiter,
    assignMissingHostPorts: () => (deps.indexHostPorts === undefined ? Promise.resolve(0) : deps.control.indexes.assignMissingHostPorts(deps.indexHostPorts)),
    ...createIndexService(deps),
    ...createDataService({ ...deps, limiter }),
    ...createAdminService({ ...deps, limiter }),
    ...createClusterService(deps),
    ...createImportService(deps),
    ...createBackupService(deps),
    ...createRestoreService({ ...deps, onRestoreError: deps.onRestoreError }),
  };
}
