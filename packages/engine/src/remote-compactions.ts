import type { Metric } from '@conifer/core';
import type { AnnPolicy } from '@conifer/index-builder';

/**
 * Where a writer sends its compactions when other nodes (indexers) build them: the writer still
 * plans each one and commits its result, so it stays the only committer of its manifests; the
 * build — merge, ANN training — runs elsewhere. A cluster provides it (a job queue in
 * PostgreSQL); the single process compacts in its own worker threads.
 */
export interface RemoteCompactions {
  /** Whether builds can go out now (an indexer is live); otherwise the writer compacts itself. */
  available(): Promise<boolean>;
  /**
   * Queues a build and resolves once an indexer stored its output as `outputId` (true) or found
   * every row dropped (false). Rejects when the build failed or `abandon()` turned true first, and
   * with NoIndexerError when it was withdrawn because no indexer is live.
   */
  build(job: RemoteCompactionJob, abandon: () => boolean): Promise<boolean>;
  /** Slab ids of this namespace's builds that are queued, running or done but not yet committed. */
  inflight(indexId: string, namespace: string): Promise<Iterable<string>>;
}

/** The build was withdrawn because no indexer is live any more: the writer compacts itself. */
export class NoIndexerError extends Error {
  override name = 'NoIndexerError';
}

/** Everything an indexer needs to build one compaction's output from the store. */
export interface RemoteCompactionJob {
  indexId: string;
  namespace: string;
  /** `<index-id>/<encoded namespace>/`: the slabs are under `slabs/` there. */
  prefix: string;
  /** Input slab ids, oldest first. */
  inputs: string[];
  /** The id the output is stored under, chosen by the writer so that its GC knows it in advance. */
  outputId: string;
  dropTombstones: boolean;
  dimension: number;
  metric: Metric;
  level: number;
  ann: AnnPolicy;
  /** Build an ANN index whatever the row count (a flat slab too large to scan). */
  index: boolean;
  /** The manifest version and writer epoch the job was planned against. */
  baseVersion: number;
  writerEpoch: number;
}
