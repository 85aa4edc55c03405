import type { Clock, Metric, RandomSource } from '@conifer/core';
import { readLogTail, RequestLog, type LogOp } from '@conifer/log';
import type { Snapshot } from '@conifer/router';
import type { Compactor } from '@conifer/index-builder';
import { ManifestStore, type Manifest } from '@conifer/manifest';
import type { ObjectStore } from '@conifer/storage';
import type { PageCache, SlabReader } from '@conifer/slab';
import { countLive } from '@conifer/router';
import { pinnedSlabIds } from './backup-pins.ts';
import type { Logger } from 'pino';
import { CompactionScheduler } from './compaction-scheduler.ts';
import type { EngineConfig } from './config.ts';
import { describeNamespace } from './describe.ts';
import { WriterFence } from './fence.ts';
import { FIXED_BYTES_PER_NAMESPACE, type ResidentMemory } from './resident-set.ts';
import { Flusher } from './flusher.ts';
import { GarbageCollector } from './garbage-collector.ts';
import { applyLogEntry, type ApplyResult } from './log-apply.ts';
import { UpdateReads } from './update-reads.ts';
import { ManifestState } from './manifest-state.ts';
import { MemtableLists } from './memtable-lists.ts';
import type { ReleasedMemory } from './released-memory.ts';
import type { NamespaceStats } from './namespace-stats.ts';
import { SlabWriter } from './slab-writer.ts';
import type { RemoteCompactions } from './remote-compactions.ts';
import { storeCall } from './store-errors.ts';

export interface NamespaceOptions {
  store: ObjectStore;
  /** `<index-id>/<encoded namespace>/` */
  prefix: string;
  name: string;
  dimension: number;
  metric: Metric;
  config: EngineConfig;
  logger: Logger;
  /** Runs merges and ANN builds off the event loop. */
  compactor: Compactor;
  /** Indexer nodes that build compactions instead, when a cluster has any live. */
  remoteCompactions?: RemoteCompactions | undefined;
  /** The index the namespace belongs to (a remote build's job names it). */
  indexId: string;
  /** Time of memtable ages, flush backoff, GC and manifest dates. */
  clock: Clock;
  /** Randomness of slab ids. */
  random: RandomSource;
  /** The process's page cache: slabs are then read by range (see ManifestStateOptions.pages). */
  pages?: PageCache | undefined;
  /** Where slab readers this namespace drops are tracked until collected (see ReleasedMemory). */
  released?: ReleasedMemory | undefined;
  /** The node's memory trim, run as a compaction here starts (see CompactionSchedulerOptions.makeRoom). */
  makeRoom?: (() => void) | undefined;
}

/**
 * One namespace's engine, wired from one module per protocol step:
 *
 * - `fence.ts` — may this view still append (no other writer committed past it);
 * - `log-apply.ts` — a durable log entry into the active memtable;
 * - `flusher.ts` — memtables, backpressure, flushes into L0 slabs;
 * - `manifest-state.ts` — the current manifest, its slab readers and shadows, commits;
 * - `compaction-scheduler.ts` — which compaction is next, and running it;
 * - `garbage-collector.ts` with `gc-plan.ts` — what may be deleted, and deleting it;
 * - `describe.ts` — what the console shows.
 *
 * Opening a namespace loads the newest manifest, then its slabs while it reads the log entries the
 * manifest does not cover, and replays those in LSN order once the slabs are in.
 */
export class Namespace {
  readonly name: string;
  readonly stats: NamespaceStats = { flushes: 0, compactions: 0, gcDeleted: 0, flushErrors: 0 };
  readonly #config: EngineConfig;
  readonly #fence: WriterFence;
  readonly #manifest: ManifestState;
  readonly #log: RequestLog;
  /** Vectors that update entries keep from slabs read by range, read before they apply. */
  readonly #updateReads = new UpdateReads(() => this.snapshot());
  readonly #flusher: Flusher;
  /** The memtables' rows put into groups of the quantizer's lists behind the writes. */
  readonly #lists: MemtableLists;
  readonly #compactions: CompactionScheduler;
  readonly #gc: GarbageCollector;
  readonly #logger: Logger;
  readonly #clock: Clock;
  /** The manifest version whose slabs the idle tick last found nothing to index or merge in. */
  #idleCheckedVersion = -1;
  /** Set by close(): background loops stop retrying and compaction stops starting. */
  #closing = false;
  /** The close under way or done. */
  #closed: Promise<void> | undefined;

  private constructor(options: NamespaceOptions, fence: WriterFence, manifests: ManifestStore, manifest: ManifestState) {
    this.name = options.name;
    this.#config = options.config;
    this.#logger = options.logger;
    this.#fence = fence;
    this.#manifest = manifest;
    this.#clock = options.clock;
    const slabs = new SlabWriter(options);
    const closing = () => this.#closing;
    const common = { name: options.name, logger: options.logger, clock: options.clock, slabs, manifest, stats: this.stats, closing };
    this.#log = new RequestLog({
      store: options.store,
      prefix: `${options.prefix}log/`,
      nextLsn: manifest.current.flushedLsn + 1,
      apply: (entry) => applyLogEntry(entry, this.#flusher.activeForWrite(), () => this.snapshot(), this.#updateReads),
      prepare: this.#updateReads,
      maxBatchEntries: options.config.maxLogBatchEntries,
      // Own the namespace before the first append, then check that nobody took it over since.
      beforeAppend: async () => {
        const tookOver = await storeCall(() => this.#manifest.acquire());
        await this.#fence.check(() => this.#manifest.current.version);
        return tookOver;
      },
      beforeAcknowledge: () => this.#fence.confirm(() => this.#manifest.current.version),
      explainGap: async () => ((await this.#fence.overtaken(() => this.#manifest.current.version)) ? this.#fence.fencedError() : undefined),
    });
    const remote = options.remoteCompactions;
    this.#gc = new GarbageCollector({
      ...common,
      store: options.store,
      prefix: options.prefix,
      graceMs: options.config.gcGraceMs,
      manifests,
      log: this.#log,
      remoteInflight: remote ? () => remote.inflight(options.indexId, options.name) : undefined,
      pinned: () => pinnedSlabIds(options.store, options.indexId, options.name),
      overtaken: () => fence.overtaken(() => manifest.current.version),
    });
    this.#compactions = new CompactionScheduler({
      ...common,
      dimension: options.dimension,
      metric: options.metric,
      config: options.config,
      compactor: options.compactor,
      remote,
      indexId: options.indexId,
      prefix: options.prefix,
      onCompacted: () => this.#gc.schedule(),
      makeRoom: options.makeRoom,
    });
    this.#flusher = new Flusher({
      ...common,
      dimension: options.dimension,
      config: options.config,
      onFlushed: () => this.#gc.schedule(),
      // A flushed slab too large to scan exactly is indexed as soon as no merge is due, not when
      // the namespace next goes quiet: until then every query scans it row by row. On the
      // namespace's quantizer its rows keep their lists in later merges, so this moves the
      // assignment earlier rather than adding to it.
      onDrained: () => this.#compactions.schedule(),
    });
    this.#lists = new MemtableLists({
      name: options.name,
      logger: options.logger,
      memtables: () => this.#flusher.memtables(),
      assigner: () => manifest.listAssigner(),
      closing,
    });
  }

  static async open(options: NamespaceOptions): Promise<Namespace> {
    const manifestPrefix = `${options.prefix}manifest/`;
    const manifests = new ManifestStore(options.store, manifestPrefix, options.clock);
    const fence = new WriterFence({ store: options.store, manifestPrefix, namespace: options.name });
    // A takeover (the first write or flush) makes the log read its tail before the next append.
    const opened: { ns?: Namespace } = {};
    const onTakeover = () => opened.ns?.requireLogCatchUp();
    const latest = await manifests.latest();
    // The log after the manifest is read while its slabs load (on a bucket, round trips overlap).
    const tail = readLogTail(options.store, `${options.prefix}log/`, latest.flushedLsn + 1, async () =>
      (await fence.overtaken(() => latest.version)) ? fence.fencedError() : undefined,
    );
    tail.catch(() => undefined); // awaited below, unless the slabs fail to load first
    const manifest = await ManifestState.load(
      { store: options.store, prefix: options.prefix, manifests, fence, onTakeover, pages: options.pages, released: options.released },
      latest,
    );
    const ns = (opened.ns = new Namespace(options, fence, manifests, manifest));
    const replayed = await ns.#log.applyTail(await tail);
    if (replayed > 0) options.logger.info({ namespace: options.name, replayed, lastLsn: ns.#log.lastLsn }, 'replayed request log');
    return ns;
  }

  /** Makes the next append read the log's tail first. */
  requireLogCatchUp(): void {
    this.#log.requireCatchUp();
  }

  /** The state a read runs against. */
  snapshot(): Snapshot {
    return { memtables: this.#flusher.memtables(), slabs: this.#manifest.layers };
  }

  /** The state a read runs against, every slab's shadows marked: what exact record counts need. */
  async settledSnapshot(): Promise<Snapshot> {
    await this.#manifest.settledLayers();
    return this.snapshot();
  }

  /** Memory held: memtables and the current manifest's slab readers. */
  memory(): ResidentMemory {
    return {
      memtables: this.#flusher.memoryBytes(),
      slabs: this.#manifest.memoryBytes(),
      fixed: FIXED_BYTES_PER_NAMESPACE,
      compactions: this.#compactions.workingBytes,
    };
  }

  /** The slabs whose vectors could move between memory and the store (see Resident). */
  slabReaders(): Iterable<SlabReader> {
    return this.#manifest.readers();
  }

  /** The requests that opened it are answered: the comparison of its slabs' ids may start (see Resident). */
  answered(): void {
    this.#manifest.compareIdsInBackground();
    // A replayed memtable's rows, or rows written before the namespace had a quantizer.
    this.#lists.kick();
  }

  /**
   * A flush, compaction or collection is under way: closing now would wait for it (an ANN build
   * takes minutes), so a memory trim passes this namespace over.
   */
  get busy(): boolean {
    return this.#flusher.running !== undefined || this.#compactions.running !== undefined || this.#gc.running !== undefined;
  }

  get lastLsn(): number {
    return this.#log.lastLsn;
  }

  /** True once another writer has advanced the manifest: the engine reopens this namespace. */
  get stale(): boolean {
    return this.#fence.stale;
  }

  /** Appends a write; resolves once it is durable and visible. */
  async write(op: LogOp): Promise<{ lsn: number; result: ApplyResult }> {
    await this.#flusher.backpressure();
    const appended = await this.#log.append<ApplyResult>(op);
    this.#flusher.maybeFlush();
    this.#lists.kick();
    return appended;
  }

  /**
   * Called periodically: flushes a memtable whose first write is older than the age limit, and
   * indexes large flat slabs once no flush has happened for `indexIdleMs`.
   */
  tick(now: number): void {
    if (this.#closing) return;
    this.#manifest.compareIdsInBackground();
    // A replayed memtable's rows, or rows written before the namespace had a quantizer.
    this.#lists.kick();
    // Only the owner flushes and compacts: a view opened to read must not take the namespace over
    // from the writer that owns it (it would fence that writer) — unless this process is the only
    // writer there is (a single node), which then compacts what a restart left uncompacted
    // without waiting for a write (the compaction's commit takes the namespace over).
    if (this.#fence.epoch === 0 && !this.#config.soleWriter) return;
    if (this.#flusher.tooOld(now)) {
      this.requestFlush().catch(() => undefined); // logged by the flush loop
    } else if (!this.#flusher.running && now - this.#flusher.lastFlushAt >= this.#config.indexIdleMs) {
      // Planning is looked at again only once the manifest has moved: a node holding tens of
      // thousands of quiet namespaces must not plan each of them every tick.
      const version = this.#manifest.current.version;
      if (version === this.#idleCheckedVersion) return;
      this.#compactions.schedule();
      if (this.#compactions.running === undefined) this.#idleCheckedVersion = version;
    }
  }

  /** Freezes the active memtable (if it holds anything) and makes sure the flush loop runs. */
  requestFlush(): Promise<void> {
    return this.#flusher.requestFlush();
  }

  /** Deletes what no manifest still in use references; resolves with the number of objects deleted. */
  collectGarbage(now = this.#clock.now()): Promise<number> {
    return this.#gc.collect(now);
  }

  /** Flushes everything written so far and waits for the compactions and GC that follow. */
  async settle(): Promise<void> {
    await this.requestFlush();
    await this.#compactions.running;
    this.#compactions.schedule();
    await this.#compactions.running;
    await this.#gc.running;
  }

  /**
   * A backup of this namespace (`backup-pins.ts`): flushes every write acknowledged so far into
   * slabs, then hands the manifest that covers them, and its live record count, to `pin` under the
   * manifest lock — where GC classifies — so no collection deletes those slabs before the pin is
   * stored. Resolves with what `pin` returned.
   */
  async pin<T>(pin: (manifest: Manifest, records: number) => Promise<T>): Promise<T> {
    await this.requestFlush();
    await this.#manifest.settledLayers();
    return this.#manifest.lock.run(async () => pin(this.#manifest.current, countLive({ memtables: [], slabs: await this.#manifest.settledLayers() })));
  }

  describe() {
    return describeNamespace({
      name: this.name,
      writtenLsn: this.#log.lastLsn,
      manifest: this.#manifest.current,
      memtable: this.#flusher.held(),
      reader: (id) => this.#manifest.reader(id),
      stats: this.stats,
      ownedEpoch: this.#fence.epoch,
      compactionDue: this.#compactions.pending,
    });
  }

  /**
   * Stops writes; with `flush`, writes the memtable out so the next open replays nothing. A second
   * call (a namespace deleted while the engine closes) waits for the first close.
   */
  close(options: { flush: boolean }): Promise<void> {
    this.#closed ??= this.#close(options);
    return this.#closed;
  }

  async #close(options: { flush: boolean }): Promise<void> {
    // Closing first: no flush, compaction or GC starts from here on but the final flush below.
    this.#closing = true;
    await this.#log.close();
    try {
      if (options.flush && this.#fence.epoch > 0) await this.#flusher.requestFlush({ final: true });
      await this.#flusher.running;
    } catch (err) {
      // Nothing is lost: every acknowledged write is in the log and is replayed on the next open.
      this.#logger.warn({ err, namespace: this.name }, 'final flush failed; the log will be replayed on next open');
    }
    await this.#compactions.running;
    await this.#gc.running;
    await this.#lists.running;
    this.#manifest.letGo();
  }
}
