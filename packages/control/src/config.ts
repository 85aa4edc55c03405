/** Tunables of the control plane. Every knob has its default here. */
export interface ControlPlaneConfig {
  /**
   * How long an authenticated key stays in the in-process cache, in ms. Default 10 000.
   * Revocation through the same ControlPlane is immediate; a revocation made by another node
   * takes effect here within this delay.
   */
  authCacheTtlMs: number;
  /** Most keys kept in the auth cache (oldest evicted first). Default 10 000. */
  authCacheMaxEntries: number;
  /** Least time between two writes of a key's `last_used_at`, in ms. Default 60 000. */
  lastUsedWriteIntervalMs: number;
  /**
   * How long an index found by name stays in the in-process cache, in ms. Default 1 000. Every
   * data request resolves its index by name; changes through the same ControlPlane apply at once,
   * a change (or deletion) made by another node takes effect here within this delay. 0 disables it.
   * Rate-limit overrides and namespace schemas (for filters) are cached as long.
   */
  indexCacheTtlMs: number;
  /** Connections in the `pg` pool when a database URL is used. Default 10. */
  postgresPoolSize: number;
  /**
   * How often metered usage (read/write units) is added to the database, in ms. Default 10 000.
   * Units are summed in memory in between; `0` disables the timer (flush on report and close only).
   */
  usageFlushIntervalMs: number;
  /** How often a node refreshes its row in `cluster_nodes`, in ms. Default 1 000. */
  heartbeatIntervalMs: number;
  /**
   * A node whose last heartbeat is older than this (by the database's clock) is not live, in ms.
   * Default 3 000: three missed heartbeats. Routing moves its work once it lapses.
   */
  nodeLeaseMs: number;
  /** A node silent for longer than this is removed from the membership, in ms. Default 600 000 (10 min). */
  nodeForgetMs: number;
  /**
   * Claims an index-build job gets before a failure is final, in claims. Default 3. A failed build
   * returns to the queue while claims remain; a claim that lapsed on the last one fails the job.
   */
  indexJobMaxAttempts: number;
  /**
   * When the database cannot be read, API keys, indexes and rate-limit overrides read within this
   * long past their cache TTL are still served, so the data path rides out a PostgreSQL restart.
   * In ms. Default 300 000 (5 min); 0 turns it off.
   */
  staleIfErrorMs: number;
}

export const DEFAULT_CONFIG: ControlPlaneConfig = {
  authCacheTtlMs: 10_000,
  authCacheMaxEntries: 10_000,
  lastUsedWriteIntervalMs: 60_000,
  indexCacheTtlMs: 1_000,
  postgresPoolSize: 10,
  usageFlushIntervalMs: 10_000,
  heartbeatIntervalMs: 1_000,
  nodeLeaseMs: 3_000,
  nodeForgetMs: 600_000,
  indexJobMaxAttempts: 3,
  staleIfErrorMs: 300_000,
};
