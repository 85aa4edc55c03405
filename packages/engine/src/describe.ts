import type { Manifest } from '@conifer/manifest';
import type { SlabReader } from '@conifer/slab';
import type { NamespaceStats } from './namespace-stats.ts';

/**
 * What the console shows of one namespace's engine: LSNs, memtables, slabs by level and index
 * type (`flat` for a slab scanned exactly), and the background work done since it was opened.
 */
export function describeNamespace(state: {
  name: string;
  writtenLsn: number;
  manifest: Manifest;
  memtable: { records: number; bytes: number };
  reader: (id: string) => SlabReader | undefined;
  stats: NamespaceStats;
}) {
  return {
    name: state.name,
    writtenLsn: state.writtenLsn,
    flushedLsn: state.manifest.flushedLsn,
    manifestVersion: state.manifest.version,
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
        ...(ann ? { calibration: { param: ann.param, points: ann.calibration } } : {}),
      };
    }),
    compactions: state.stats.compactions,
    flushes: state.stats.flushes,
  };
}
