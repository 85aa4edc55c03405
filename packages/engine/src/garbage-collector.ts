import { failpoint, type Clock } from '@conifer/core';
import type { RequestLog } from '@conifer/log';
import type { Manifest, ManifestStore } from '@conifer/manifest';
import { listAll, type ObjectStore } from '@conifer/storage';
import type { Logger } from 'pino';
import { planGarbageCollection } from './gc-plan.ts';
import { slabIdTime, slabKey } from './layout.ts';
import type { ManifestState } from './manifest-state.ts';
import type { NamespaceStats } from './namespace-stats.ts';
import type { SlabWriter } from './slab-writer.ts';

export interface GarbageCollectorOptions {
  name: string;
  store: ObjectStore;
  /** `<index-id>/<encoded namespace>/` */
  prefix: string;
  graceMs: number;
  logger: Logger;
  manifests: ManifestStore;
  manifest: ManifestState;
  slabs: SlabWriter;
  log: RequestLog;
  stats: NamespaceStats;
  clock: Clock;
  /** True once the namespace is closing: no collection starts. */
  closing: () => boolean;
  /**
   * Whether another writer has taken the namespace over (`WriterFence.overtaken`). Asked after the
   * listings: a slab listed there that a newer owner has in flight was written after that owner's
   * takeover commit, so the takeover is visible by then, and this collector deletes nothing.
   */
  overtaken: () => Promise<boolean>;
  /** Slab ids backups pin in this namespace (`backup-pins.ts`): kept while a backup references them. */
  pinned?: (() => Promise<Iterable<string>>) | undefined;
  /** Slabs of remote builds (indexer nodes) not yet committed: kept like this process's own. */
  remoteInflight?: (() => Promise<Iterable<string>>) | undefined;
}

/**
 * Deletes what no manifest still in use references (the decision is `planGarbageCollection`'s):
 * expired manifest versions, then the slabs only they listed, then the log objects every retained
 * manifest covers. Runs after flushes and compactions, one collection at a time.
 */
export class GarbageCollector {
  readonly #options: GarbageCollectorOptions;
  #scheduled: Promise<void> | undefined;

  constructor(options: GarbageCollectorOptions) {
    this.#options = options;
  }

  /** The collection running now, if any. */
  get running(): Promise<void> | undefined {
    return this.#scheduled;
  }

  /** Starts a collection unless one is running or the namespace is closing. */
  schedule(): void {
    if (this.#scheduled || this.#options.closing()) return;
    this.#scheduled = this.collect()
      .then(() => undefined)
      .catch((err) => this.#options.logger.warn({ err, namespace: this.#options.name }, 'garbage collection failed'))
      .finally(() => {
        this.#scheduled = undefined;
      });
  }

  /** One collection at `now`; resolves with the number of objects deleted. */
  async collect(now = this.#options.clock.now()): Promise<number> {
    const { store, prefix, manifests, manifest, slabs, log, stats, graceMs } = this.#options;
    // Decide under the manifest lock, so no flush or compaction commits while we classify: every
    // slab is then either in a manifest we read, in flight in this process, or an orphan.
    const slabPrefix = `${prefix}slabs/`;
    const plan = await manifest.lock.run(async () => {
      const read: Manifest[] = [];
      for (const version of await manifests.versions()) {
        const m = await manifests.read(version);
        if (m) read.push(m);
      }
      const slabIds: string[] = [];
      for await (const meta of listAll(store, slabPrefix)) slabIds.push(meta.key.slice(slabPrefix.length, -'.slab'.length));
      const remote = this.#options.remoteInflight ? await this.#options.remoteInflight() : [];
      // Read under the lock: a backup pins the current manifest under it too (`Namespace.pin`), so
      // a pin is either seen here or written after this plan, on slabs the plan keeps as current.
      const pinned = new Set(this.#options.pinned ? await this.#options.pinned() : []);
      if (await this.#options.overtaken()) return undefined;
      const inflight = new Set([...slabs.inflight, ...remote]);
      return planGarbageCollection({ now, graceMs, current: manifest.current, manifests: read, slabIds, inflight, slabCreatedAt: slabIdTime, pinned });
    });
    if (!plan) return 0;
    let deleted = 0;
    // Expired manifests first, then the slabs only they referenced: a crash in between never
    // leaves a manifest that points at a deleted slab.
    for (const version of plan.expiredVersions) {
      await manifests.delete(version);
      deleted++;
    }
    if (plan.expiredVersions.length > 0 || plan.orphanSlabs.length > 0) failpoint('gc:mid');
    for (const id of plan.orphanSlabs) {
      await store.delete(slabKey(prefix, id));
      deleted++;
    }
    deleted += await log.truncateThrough(plan.coveredLsn);
    stats.gcDeleted += deleted;
    return deleted;
  }
}
