/**
 * When a namespace behind the server has settled — seen from outside, through the engine state
 * the console shows (tRPC `namespaces.internals`, the engine's describeNamespace): nothing left in
 * the memtable, every logged write in a slab, no run of slabs the size-tiered policy would still
 * merge, and no flush or compaction committed since the previous poll.
 */
export interface InternalsView {
  writtenLsn: number;
  flushedLsn: number;
  manifestVersion: number;
  memtable: { records: number };
  slabs: { level: number; records: number; index: string }[];
  compactions: number;
  flushes: number;
  /** The writer's own answer to "is a compaction running or due" (servers since the largest-slab bound). */
  compactionDue?: boolean;
}

/** Mirrors the engine's planCompaction: `trigger` or more adjacent slabs of one level get merged. */
export function compactionPending(levels: readonly number[], trigger: number): boolean {
  let run = 0;
  for (let i = 0; i < levels.length; i++) {
    run = i > 0 && levels[i] === levels[i - 1] ? run + 1 : 1;
    if (run >= trigger) return true;
  }
  return false;
}

/**
 * Mirrors the engine's indexing of flat slabs: one whose rows × dimension exceed the planner's
 * exact budget (2^21 floats by default) gets its own ANN index once flushed (or once quiet).
 */
export function indexingPending(slabs: InternalsView['slabs'], dimension: number, exactBudget = 2 ** 21): boolean {
  return slabs.some((s) => s.index === 'flat' && s.records * dimension > exactBudget);
}

export function settled(previous: InternalsView | undefined, now: InternalsView, trigger: number, dimension = 0): boolean {
  return (
    previous !== undefined &&
    now.memtable.records === 0 &&
    now.flushedLsn >= now.writtenLsn &&
    // The writer knows its policy (the largest-slab bound included); the mirror is for views without it.
    (now.compactionDue !== undefined
      ? !now.compactionDue
      : !indexingPending(now.slabs, dimension) &&
        !compactionPending(
          now.slabs.map((s) => s.level),
          trigger,
        )) &&
    previous.manifestVersion === now.manifestVersion &&
    previous.compactions === now.compactions &&
    previous.flushes === now.flushes
  );
}
