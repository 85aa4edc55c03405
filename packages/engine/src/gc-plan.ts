import type { Manifest } from '@conifer/manifest';

/** What a garbage collection may delete, decided from what it read (see `planGarbageCollection`). */
export interface GcPlan {
  /** Manifest versions no reader can still be on. */
  expiredVersions: number[];
  /** Slab ids no manifest still in use lists, old enough not to be a flush in flight. */
  orphanSlabs: string[];
  /** Log objects whose entries are all at or below this LSN may go. */
  coveredLsn: number;
}

export interface GcInput {
  /** The collector's clock, in ms since the epoch. */
  now: number;
  /** How long an unreferenced object is kept for readers on older manifests. */
  graceMs: number;
  /** The manifest this writer's view is built on. */
  current: Manifest;
  /** Every manifest version readable in the store (any order; the current one may be among them). */
  manifests: readonly Manifest[];
  /** Every slab id found in the store. */
  slabIds: readonly string[];
  /** Slabs written by this process that no committed manifest lists yet. */
  inflight: ReadonlySet<string>;
  /** When a slab was created, read from its id. */
  slabCreatedAt: (id: string) => number;
  /** Slabs a backup references (`backup-pins.ts`): never garbage while the backup exists. */
  pinned?: ReadonlySet<string> | undefined;
}

/**
 * What may be deleted, as a pure function of what the collector read under the manifest lock.
 *
 * - **In use** are the current manifest, every version at or above it (another writer may have
 *   written them and its readers be on them) and every version written within the grace period.
 *   Older versions expire.
 * - **A slab** goes once no manifest in use lists it, it is not a flush or compaction in flight in
 *   this process, and it is older than the grace period (a younger unlisted slab may be another
 *   writer's flush in flight).
 * - **A slab a backup pins** is kept whatever the manifests say: the backup reads it on restore.
 * - **The log** goes only through what a manifest has covered for the whole grace period and every
 *   manifest in use covers. A stale writer whose append lands on a collected key anyway (it stalled
 *   for longer) does not acknowledge it: it confirms after the write that no newer manifest exists
 *   (`fence.ts`).
 */
export function planGarbageCollection(input: GcInput): GcPlan {
  const { now, graceMs, current } = input;
  const written = (m: Manifest) => Date.parse(m.writtenAt);
  const retained: Manifest[] = [];
  const expiredVersions: number[] = [];
  for (const m of input.manifests) {
    if (m.version >= current.version || now - written(m) < graceMs) retained.push(m);
    else expiredVersions.push(m.version);
  }
  if (!retained.some((m) => m.version === current.version)) retained.push(current);
  const referenced = new Set(retained.flatMap((m) => m.slabs.map((s) => s.id)));
  const orphanSlabs = input.slabIds.filter(
    (id) => !referenced.has(id) && !input.inflight.has(id) && !input.pinned?.has(id) && now - input.slabCreatedAt(id) >= graceMs,
  );
  const settled = input.manifests.filter((m) => now - written(m) >= graceMs || graceMs === 0);
  const settledLsn = Math.max(0, ...settled.map((m) => m.flushedLsn));
  const coveredLsn = Math.min(settledLsn, ...retained.map((m) => m.flushedLsn));
  return { expiredVersions: expiredVersions.sort((a, b) => a - b), orphanSlabs, coveredLsn };
}
