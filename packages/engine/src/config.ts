import { availableParallelism, totalmem } from 'node:os';
import {
  DEFAULT_ANN_POLICY,
  DEFAULT_COMPACTION_POLICY,
  DEFAULT_COMPACTOR_OPTIONS,
  type AnnPolicy,
  type CompactionPolicy,
  type CompactorOptions,
} from '@conifer/index-builder';
import { DEFAULT_MAX_BATCH_ENTRIES } from '@conifer/log';
import { DEFAULT_EXACT_BUDGET } from '@conifer/router';

/**
 * Tuning knobs of the data plane. A default that belongs to the package doing the work (the
 * planner's exact budget, the log's batch size, compaction and ANN policies) is imported from
 * there, so each is defined once.
 */
export interface EngineConfig {
  /** Flush the memtable into an L0 slab once it holds this many records. Default 50,000. */
  memtableMaxRecords: number;
  /** …or this many bytes (approximate). Default 64 MiB. */
  memtableMaxBytes: number;
  /** …or once its first write is this old, so idle namespaces do not keep a long log. Default 30 s. */
  memtableMaxAgeMs: number;
  /**
   * Write backpressure: when a flush is already running and the active memtable has grown to this
   * many times its limit, writes wait for the flush. Default 4.
   */
  backpressureFactor: number;
  /**
   * Size-tiered compaction: merge `trigger` adjacent slabs of one level (at most `maxMerge`), into
   * slabs of at most `maxSlabBytes` (default: a quarter of the memory budget, see
   * {@link maxSlabShare}).
   */
  compaction: CompactionPolicy;
  /**
   * ANN tier: compaction outputs with at least `minRows` rows (default 20,000) get an IVF index
   * calibrated for `recallTarget` (default 0.95 recall@10); smaller slabs are scanned exactly.
   */
  ann: AnnPolicy;
  /**
   * Where compactions run: `workers` worker threads (default 1), each letting faiss train with
   * `buildThreads` OpenMP threads (default: all cores but one, at least 1), so merges and index
   * builds never run on the event loop that serves queries. `inline: true` runs them on the
   * event loop instead (slices that yield; for environments without worker threads). The workers
   * and V8's helper threads run at `niceness` (default 10, Linux), so the event loop gets the
   * CPU first.
   */
  compactor: CompactorOptions;
  /**
   * Query planner: eligible rows × dimension a query scans exactly over all its layers; a slab
   * that fits what is left is scanned exactly instead of through its ANN index (a native scan of
   * the eligible rows, in place; the router's ExactAllowance). 2^21 floats:
   * about the cost of an IVF search of a million-row slab, so a 1% filter on a million
   * vectors (10k rows) is scanned exactly — where IVF would have to probe ~100× more lists to find
   * enough eligible rows — and anything broader goes through the index. Default: the router's
   * `DEFAULT_EXACT_BUDGET`.
   */
  exactBudget: number;
  /**
   * Objects no longer referenced by the current manifest are deleted only once they have been
   * unreferenced for this long, so readers holding an older manifest (other nodes, in-flight
   * reads) can finish. Default 60 s.
   */
  gcGraceMs: number;
  /**
   * A flat slab too large to scan exactly (rows × dimension above `exactBudget`) gets an ANN index
   * of its own once its flush loop has drained and no merge is due. One left flat otherwise (a
   * namespace reopened with flat slabs, or taken over by a sole writer) is indexed once the
   * namespace has had no flush for this long. Default 2 s.
   */
  indexIdleMs: number;
  /** Most writes group-committed into one log object. Default: the log's `DEFAULT_MAX_BATCH_ENTRIES`. */
  maxLogBatchEntries: number;
  /** How often background maintenance (age flushes) runs. Default 1 s. */
  tickMs: number;
  /**
   * Query replicas (`ReplicaEngine`) read what their writers added every this often: the
   * staleness bound of a default read is this plus one refresh. Each refresh of a namespace costs
   * two HEADs and a GET. Default 100 ms.
   */
  replicaRefreshMs: number;
  /**
   * A replica not read for this long is no longer refreshed in the background (an idle namespace
   * costs the store nothing); its next read refreshes it first, so that read is no staler than
   * the bound above. Default 30 s.
   */
  replicaIdleMs: number;
  /**
   * Memory the open namespaces of this node (memtables and slab readers; replicas on a query node)
   * may hold. Past it, the least recently used ones that no request is using are closed (a writer's
   * flushed first) and reopened from the store on their next request. Default: half the memory
   * the process may use (its cgroup limit, else the machine's).
   */
  memoryBudgetBytes: number;
  /** A namespace no request used for this long is closed whatever the budget; 0: never by time. Default 10 min. */
  namespaceIdleMs: number;
  /**
   * This process is the only writer of every namespace (a single node, not a cluster): a namespace
   * opened by a read may be taken over to compact it. Default false: a cluster's writer compacts
   * only what it owns.
   */
  soleWriter: boolean;
  /** Longest a read with a `minLsn` waits for a replica to reach it before answering 503. Default 5 s. */
  minLsnWaitMs: number;
  /**
   * Which open namespaces get the vectors of their slabs read into memory while the budget has
   * room: `always` (default: a single node answers every read itself), or `whenRead` — only those
   * read in the last minute, for a cluster's writer, whose reads go to query nodes while any is
   * live: loading the slabs its compactions produce would cost its core and its memory for
   * nothing. A namespace read by such a writer (no query node live) is promoted as before.
   */
  promoteSlabs: 'always' | 'whenRead';
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  memtableMaxRecords: 50_000,
  memtableMaxBytes: 64 * 1024 * 1024,
  memtableMaxAgeMs: 30_000,
  backpressureFactor: 4,
  compaction: DEFAULT_COMPACTION_POLICY,
  ann: DEFAULT_ANN_POLICY,
  compactor: { ...DEFAULT_COMPACTOR_OPTIONS, buildThreads: Math.max(1, availableParallelism() - 1) },
  exactBudget: DEFAULT_EXACT_BUDGET,
  gcGraceMs: 60_000,
  indexIdleMs: 2000,
  maxLogBatchEntries: DEFAULT_MAX_BATCH_ENTRIES,
  tickMs: 1000,
  replicaRefreshMs: 100,
  replicaIdleMs: 30_000,
  minLsnWaitMs: 5_000,
  memoryBudgetBytes: defaultMemoryBudget(),
  soleWriter: false,
  namespaceIdleMs: 600_000,
  promoteSlabs: 'always',
};

/** Half the memory this process may use: its cgroup's limit when it has one, else the machine's. */
export function defaultMemoryBudget(): number {
  const constrained = process.constrainedMemory();
  const limit = constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
  return Math.floor(limit / 2);
}

export function resolveEngineConfig(partial: Partial<EngineConfig> | undefined): EngineConfig {
  const memoryBudgetBytes = partial?.memoryBudgetBytes ?? DEFAULT_ENGINE_CONFIG.memoryBudgetBytes;
  return {
    ...DEFAULT_ENGINE_CONFIG,
    ...partial,
    compaction: { ...DEFAULT_COMPACTION_POLICY, ...partial?.compaction, maxSlabBytes: partial?.compaction?.maxSlabBytes ?? maxSlabShare(memoryBudgetBytes) },
    ann: { ...DEFAULT_ANN_POLICY, ...partial?.ann },
    compactor: { ...DEFAULT_ENGINE_CONFIG.compactor, ...partial?.compactor },
  };
}

/**
 * The largest slab a compaction writes by default: a quarter of the memory budget. A merge holds
 * its inputs, its output and the index it builds at once, a few times the output's size, so
 * bounding the output bounds that; and a namespace larger than the budget is kept as several
 * slabs whose vectors can be held or read by range one slab at a time.
 */
export function maxSlabShare(memoryBudget: number): number {
  return Math.floor(memoryBudget / 4);
}

/**
 * The page cache's share of a memory budget: an eighth, at most 1 GiB. Pages of slabs read by range
 * live there; promoted slabs (vectors held whole) count against the namespaces' share.
 */
export function pageCacheShare(memoryBudget: number): number {
  return Math.min(1024 * 1024 * 1024, Math.floor(memoryBudget / 8));
}
