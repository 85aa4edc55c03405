import type { Manifest } from '@conifer/manifest';
import type { SlabReader } from '@conifer/slab';
import type { CachedObjectStore, ObjectStore } from '@conifer/storage';
import type { NamespaceInternals } from './data-plane.ts';
import type { NamespaceStats } from './namespace-stats.ts';

/**
 * What the console shows of one namespace's engine: LSNs, memtables, slabs by level and index
 * type (`flat` for a slab scanned exactly), and the background work done since it was opened.
 */
export function describeNamespace(state: {
  name: string;
  writtenLsn: number;
  manifest: Manifest;
  /** `grouped`: dense rows put into groups of the quantizer's lists (scanned by group, not exactly). */
  memtable: { records: number; bytes: number; grouped: number };
  reader: (id: string) => SlabReader | undefined;
  stats: NamespaceStats;
  /** The epoch this node owns the namespace at, 0 when it does not. */
  ownedEpoch: number;
  /** Set by the namespace's writer: see NamespaceInternals.compactionDue. */
  compactionDue?: boolean;
}) {
  return {
    name: state.name,
    writtenLsn: state.writtenLsn,
    flushedLsn: state.manifest.flushedLsn,
    manifestVersion: state.manifest.version,
    writerEpoch: state.manifest.writerEpoch,
    owner: state.ownedEpoch > 0,
    memtable: state.memtable,
    slabs: state.manifest.slabs.map((s) => {
      const ann = state.reader(s.id)?.header.ann;
      return {
        id: s.id,
        level: s.level,
        records: s.count,
        bytes: s.bytes,
        minLsn: s.minLsn,
        maxLsn: s.maxLsn,
        index: ann ? ann.factory : 'flat',
        ...(ann ? { calibration: { param: ann.param, points: ann.calibration.map(({ value, recall }) => ({ value, recall })) } } : {}),
      };
    }),
    compactions: state.stats.compactions,
    flushes: state.stats.flushes,
    ...(state.compactionDue !== undefined ? { compactionDue: state.compactionDue } : {}),
  };
}

/** The node's slab cache as the console shows it; undefined when slabs are read straight from disk. */
export function slabCacheStats(store: ObjectStore): NamespaceInternals['slabCache'] {
  const cache = (store as Partial<CachedObjectStore>).cache?.stats();
  if (!cache) return undefined;
  const hits = cache.memoryHits + cache.diskHits;
  return {
    hits,
    misses: cache.misses,
    hitRate: hits + cache.misses === 0 ? 0 : hits / (hits + cache.misses),
    bytesFromStore: cache.bytesFromStore,
    memoryBytes: cache.memoryBytes,
    diskBytes: cache.diskBytes,
  };
}
