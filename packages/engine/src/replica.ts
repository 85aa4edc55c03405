import { UnavailableError } from '@conifer/core';
import { firstObjectAfter, readLogRun, readLogTail, type LogEntry } from '@conifer/log';
import { manifestKey, ManifestStore, type Manifest } from '@conifer/manifest';
import { Memtable } from '@conifer/memtable';
import type { Snapshot } from '@conifer/router';
import type { PageCache, SlabReader } from '@conifer/slab';
import type { ObjectStore } from '@conifer/storage';
import { WriterFence } from './fence.ts';
import { FIXED_BYTES_PER_NAMESPACE, type ResidentMemory } from './resident-set.ts';
import type { NamespaceInternals } from './data-plane.ts';
import { describeNamespace } from './describe.ts';
import { applyLogEntry } from './log-apply.ts';
import { MemtableLists } from './memtable-lists.ts';
import { applyWithReads, UpdateReads } from './update-reads.ts';
import { ManifestState } from './manifest-state.ts';
import type { ReleasedMemory } from './released-memory.ts';

/**
 * A read-only replica of one namespace, built from the object store alone — never from its
 * writer, so a writer's load never reaches the nodes that serve queries, and a writer's death
 * loses a replica nothing. It holds a manifest version (its slabs) and the log entries after that
 * version's `flushedLsn`, in a memtable of its own, up to `appliedLsn`.
 *
 * `refresh` moves it forward: when a newer manifest exists (the writer flushed or compacted), the
 * replica installs it and rebuilds its memtable from the log after the new `flushedLsn` (the older
 * log objects may already be collected); otherwise it reads the log objects after `appliedLsn`.
 * Either way every state it exposes is a consistent LSN prefix of the namespace.
 */
export interface ReplicaOptions {
  store: ObjectStore;
  /** `<index-id>/<encoded namespace>/` */
  prefix: string;
  name: string;
  /** The process's page cache: slabs are then read by range (see ManifestStateOptions.pages). */
  pages?: PageCache | undefined;
  /** Where slab readers this replica drops are tracked until collected (see ReleasedMemory). */
  released?: ReleasedMemory | undefined;
}

/** Rebuilds after which a replica still behind a moving manifest reports it cannot keep up. */
const MAX_REBUILDS = 5;

export class Replica {
  readonly name: string;
  readonly #store: ObjectStore;
  readonly #logPrefix: string;
  readonly #manifestPrefix: string;
  readonly #manifests: ManifestStore;
  readonly #state: ManifestState;
  #memtable = new Memtable();
  readonly #updateReads = new UpdateReads(() => this.snapshot());
  #appliedLsn: number;
  /** Etag of the installed manifest version's object (undefined for an empty namespace). */
  #baseEtag: string | undefined;
  #refreshing: Promise<void> | undefined;
  /** The memtable's rows put into groups of the quantizer's lists, as the writer's are. */
  readonly #lists: MemtableLists;
  #dropped = false;

  private constructor(options: ReplicaOptions, manifests: ManifestStore, state: ManifestState) {
    this.name = options.name;
    this.#store = options.store;
    this.#logPrefix = `${options.prefix}log/`;
    this.#manifestPrefix = `${options.prefix}manifest/`;
    this.#manifests = manifests;
    this.#state = state;
    this.#appliedLsn = state.current.flushedLsn;
    this.#lists = new MemtableLists({
      name: options.name,
      memtables: () => [this.#memtable],
      assigner: () => state.listAssigner(),
      closing: () => this.#dropped,
    });
  }

  /** Loads the newest manifest and the log after it; resolves only once the replica is complete. */
  static async open(options: ReplicaOptions): Promise<Replica> {
    const manifestPrefix = `${options.prefix}manifest/`;
    const manifests = new ManifestStore(options.store, manifestPrefix);
    // The fence is never asked to commit: a replica writes nothing.
    const fence = new WriterFence({ store: options.store, manifestPrefix, namespace: options.name });
    const { manifest, etag } = await manifests.latestEntry();
    // The log after the manifest is read while its slabs load (on a bucket, round trips overlap).
    // Should that read find a hole (the writer collected objects a newer manifest covers), the
    // replica catches up the usual way instead.
    const tail = readLogTail(options.store, `${options.prefix}log/`, manifest.flushedLsn + 1).catch(() => undefined);
    const state = await ManifestState.load(
      { store: options.store, prefix: options.prefix, manifests, fence, onTakeover: () => undefined, pages: options.pages, released: options.released },
      manifest,
    );
    const replica = new Replica(options, manifests, state);
    replica.#baseEtag = etag;
    const read = await tail;
    if (read) await replica.#apply(read.entries);
    else await replica.refresh();
    return replica;
  }

  /** Every write at or below this LSN is visible; none above it. */
  get appliedLsn(): number {
    return this.#appliedLsn;
  }

  get manifestVersion(): number {
    return this.#state.current.version;
  }

  /** Memory held: the memtable and the current manifest's slab readers. */
  memory(): ResidentMemory {
    return { memtables: this.#memtable.memoryBytes, slabs: this.#state.memoryBytes(), fixed: FIXED_BYTES_PER_NAMESPACE, compactions: 0 };
  }

  /** The slabs whose vectors could move between memory and the store (see Resident). */
  slabReaders(): Iterable<SlabReader> {
    return this.#state.readers();
  }

  /** The requests that opened it are answered: the comparison of its slabs' ids may start (see Resident). */
  answered(): void {
    this.compareIdsInBackground();
  }

  /** Starts comparing its slabs' ids, unless that runs or is done (ManifestState.compareIdsInBackground). */
  compareIdsInBackground(): void {
    this.#state.compareIdsInBackground();
  }

  /** Ends its slabs' promotions and tracks their memory until collected: the replica is dropped. */
  letGo(): void {
    this.#dropped = true;
    this.#state.letGo();
  }

  /** Replicas drop without waiting for anything: they own no writes. */
  get busy(): boolean {
    return false;
  }

  snapshot(): Snapshot {
    return { memtables: [this.#memtable], slabs: this.#state.layers };
  }

  /** The state a read runs against, every slab's shadows marked: what exact record counts need. */
  async settledSnapshot(): Promise<Snapshot> {
    await this.#state.settledLayers();
    return this.snapshot();
  }

  /** Reads what the store has beyond this replica's state. Concurrent callers share one refresh. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** A refresh that starts after this call: a strong read must not take an older one's result. */
  async refreshAfterNow(): Promise<void> {
    await this.#refreshing?.catch(() => undefined);
    await this.refresh();
  }

  async #refresh(): Promise<void> {
    for (let rebuild = 0; rebuild <= MAX_REBUILDS; rebuild++) {
      const version = this.#state.current.version;
      const [newer, current] = await Promise.all([
        // From an empty namespace, any version may be the first one left (GC collects the oldest).
        version > 0 ? this.#store.head(manifestKey(this.#manifestPrefix, version + 1)) : this.#anyManifest(),
        version > 0 ? this.#store.head(manifestKey(this.#manifestPrefix, version)) : Promise.resolve(null),
      ]);
      // A newer version (a flush, a compaction, a takeover), or ours gone or rewritten: the writer
      // collected it after committing newer ones, or the namespace was deleted (and perhaps
      // created again, reusing version numbers and LSNs).
      const replaced = version > 0 && current?.etag !== this.#baseEtag;
      if (newer || replaced) await this.#install(await this.#manifests.latestEntry());
      if (await this.#readLog()) return;
      // A log object is missing below a later one: the writer collected it, so a newer manifest
      // covers it. Read that manifest and rebuild from there.
    }
    throw new UnavailableError(`namespace replica ${this.name} could not catch up with its writer; retry`);
  }

  /** Makes `manifest` the replica's base and empties the memtable: the log after it is read next. */
  async #install({ manifest, etag }: { manifest: Manifest; etag: string | undefined }): Promise<void> {
    await this.#state.install(manifest, new Map());
    this.#baseEtag = etag;
    this.#memtable = new Memtable();
    this.#appliedLsn = manifest.flushedLsn;
  }

  /** Applies the log objects after `appliedLsn`; false when one is missing below a later one. */
  async #readLog(): Promise<boolean> {
    const next = await readLogRun(this.#store, this.#logPrefix, this.#appliedLsn + 1, (entries) => this.#apply(entries));
    return (await firstObjectAfter(this.#store, this.#logPrefix, next)) === undefined;
  }

  /** Applies entries that follow `appliedLsn`, in order. */
  #apply(entries: readonly LogEntry[]): Promise<void> {
    return applyWithReads(this.#updateReads, entries, (entry) => {
      applyLogEntry(entry, this.#memtable, () => this.snapshot(), this.#updateReads);
      this.#appliedLsn = entry.lsn;
    }).then(() => this.#lists.kick());
  }

  async #anyManifest(): Promise<boolean> {
    return (await this.#store.list(this.#manifestPrefix, { limit: 1 })).objects.length > 0;
  }

  /** What the console shows of the replica: its manifest and slabs, and how far it has read. */
  describe(): NamespaceInternals {
    return describeNamespace({
      name: this.name,
      writtenLsn: this.#appliedLsn,
      manifest: this.#state.current,
      memtable: { records: this.#memtable.size, bytes: this.#memtable.bytes, grouped: this.#memtable.assignedRows },
      reader: (id) => this.#state.reader(id),
      stats: { flushes: 0, compactions: 0, gcDeleted: 0, flushErrors: 0 },
      ownedEpoch: 0,
    });
  }
}
