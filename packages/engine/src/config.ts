import { DEFAULT_COMPACTION_POLICY, type CompactionPolicy } from '@conifer/slab';

/** Tuning knobs of the data plane. Every default is documented where it is defined. */
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
  /** Size-tiered compaction: merge `trigger` adjacent slabs of one level (at most `maxMerge`). */
  compaction: CompactionPolicy;
  /**
   * Objects no longer referenced by the current manifest are deleted only once they have been
   * unreferenced for this long, so readers holding an older manifest (other nodes, in-flight
   * reads) can finish. Default 60 s.
   */
  gcGraceMs: number;
  /** Most writes group-committed into one log object. Default 4096. */
  maxLogBatchEntries: number;
  /** How often background maintenance (age flushes) runs. Default 1 s. */
  tickMs: number;
}

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  memtableMaxRecords: 50_000,
  memtableMaxBytes: 64 * 1024 * 1024,
  memtableMaxAgeMs: 30_000,
  backpressureFactor: 4,
  compaction: DEFAULT_COMPACTION_POLICY,
  gcGraceMs: 60_000,
  maxLogBatchEntries: 4096,
  tickMs: 1000,
};

export function resolveEngineConfig(partial: Partial<EngineConfig> | undefined): EngineConfig {
  return { ...DEFAULT_ENGINE_CONFIG, ...partial, compaction: { ...DEFAULT_COMPACTION_POLICY, ...partial?.compaction } };
}
