import { failpoint, UnavailableError, type Metadata, type Metric } from '@conifer/core';
import { RequestLog, type LogEntry, type LogOp } from '@conifer/log';
import { Memtable } from '@conifer/memtable';
import { computeShadows, getRecord, type Snapshot, type SlabLayer } from '@conifer/router';
import {
  buildSlab,
  ManifestConflictError,
  manifestKey,
  ManifestStore,
  planCompaction,
  rowsFromMemtable,
  SlabReader,
  type AnnDonor,
  type CompactionPlan,
  type Compactor,
  type Manifest,
  type SlabHeader,
  type SlabRef,
} from '@conifer/slab';
import { listAll, type ObjectStore } from '@conifer/storage';
import type { Logger } from 'pino';
import type { EngineConfig } from './config.ts';
import { newSlabId, slabIdTime, slabKey } from './layout.ts';
import { Mutex } from './mutex.ts';

function staleError(namespace: string): UnavailableError {
  return new UnavailableError(`namespace ${namespace === '' ? '__default__' : namespace} was advanced by another writer; retry the write`);
}

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
}

/** What applying one log entry reports back to the writer. */
export type ApplyResult = { matched: number };

/**
 * One namespace's engine: the write path (log → memtable → flush → compaction → GC) and the state
 * reads run against. Opening it loads the newest manifest and its slabs, then replays the log
 * entries the manifest does not cover, in LSN order.
 */
export class Namespace {
  readonly name: string;
  readonly #store: ObjectStore;
  readonly #prefix: string;
  readonly #dimension: number;
  readonly #metric: Metric;
  readonly #config: EngineConfig;
  readonly #log: RequestLog;
  readonly #logger: Logger;
  readonly #compactor: Compactor;
  readonly #manifests: ManifestStore;
  /** Serializes manifest changes (flush and compaction commits). */
  readonly #manifestLock = new Mutex();

  #manifest: Manifest;
  #readers = new Map<string, SlabReader>();
  #layers: SlabLayer[] = [];
  #active = new Memtable();
  #activeSince = 0;
  #lastFlushAt = Date.now();
  /** Frozen memtables waiting to be flushed, newest first. */
  #frozen: Memtable[] = [];
  #flushLoop: Promise<void> | undefined;
  #compactionLoop: Promise<void> | undefined;
  #gcScheduled: Promise<void> | undefined;
  /** Set by close(): background loops stop retrying and compaction stops starting. */
  #closing = false;
  /** Manifest version this process is committing right now (not someone else's). */
  #committingVersion = 0;
  /** Set when another writer advanced the manifest: this view is stale and must be reopened. */
  #stale = false;
  /** Slabs written by this process but not yet in a committed manifest: GC must not touch them. */
  readonly #inflightSlabs = new Set<string>();
  readonly stats = { flushes: 0, compactions: 0, gcDeleted: 0, flushErrors: 0 };

  private constructor(options: NamespaceOptions, manifest: Manifest) {
    this.name = options.name;
    this.#store = options.store;
    this.#prefix = options.prefix;
    this.#dimension = options.dimension;
    this.#metric = options.metric;
    this.#config = options.config;
    this.#logger = options.logger;
    this.#compactor = options.compactor;
    this.#manifests = new ManifestStore(options.store, `${options.prefix}manifest/`);
    this.#manifest = manifest;
    this.#log = new RequestLog({
      store: options.store,
      prefix: `${options.prefix}log/`,
      nextLsn: manifest.flushedLsn + 1,
      apply: (entry) => this.#apply(entry),
      maxBatchEntries: options.config.maxLogBatchEntries,
      beforeAppend: () => this.#fence(),
    });
  }

  static async open(options: NamespaceOptions): Promise<Namespace> {
    const manifests = new ManifestStore(options.store, `${options.prefix}manifest/`);
    const manifest = await manifests.latest();
    const ns = new Namespace(options, manifest);
    await ns.#installManifest(manifest, new Map());
    const replayed = await ns.#log.catchUp();
    if (replayed > 0) options.logger.info({ namespace: options.name, replayed, lastLsn: ns.#log.lastLsn }, 'replayed request log');
    return ns;
  }

  /** The state a read runs against. */
  snapshot(): Snapshot {
    return { memtables: [this.#active, ...this.#frozen], slabs: this.#layers };
  }

  get lastLsn(): number {
    return this.#log.lastLsn;
  }

  /** True once another writer has advanced the manifest: the engine reopens this namespace. */
  get stale(): boolean {
    return this.#stale;
  }

  /**
   * Refuses to append when another writer has committed a manifest newer than the one this view
   * is built on (one HEAD per group commit). Its flush may have covered — and its GC deleted — log
   * objects at LSNs this view would append at, and put-if-absent cannot detect a reuse of a deleted
   * key. The caller gets a retryable error; the engine reopens the namespace from the new manifest.
   */
  async #fence(): Promise<void> {
    if (this.#stale) throw staleError(this.name);
    const next = this.#manifest.version + 1;
    if (next === this.#committingVersion) return;
    let newer;
    try {
      newer = await this.#store.head(manifestKey(`${this.#prefix}manifest/`, next));
    } catch (err) {
      throw new UnavailableError('the write could not be made durable; retry it', { cause: err });
    }
    if (!newer) return;
    if (next === this.#committingVersion || next <= this.#manifest.version) return; // our own flush landed meanwhile
    this.#stale = true;
    throw staleError(this.name);
  }

  /** Appends a write; resolves once it is durable and visible. */
  async write(op: LogOp): Promise<{ lsn: number; result: ApplyResult }> {
    await this.#backpressure();
    const appended = await this.#log.append<ApplyResult>(op);
    this.#maybeFlush();
    return appended;
  }

  /** Applies one durable entry to the active memtable (called by the log, in LSN order). */
  #apply(entry: LogEntry): ApplyResult {
    const { lsn, op } = entry;
    const mem = this.#active;
    if (mem.isEmpty) this.#activeSince = Date.now();
    switch (op.kind) {
      case 'put':
        for (const r of op.records) mem.put(lsn, r.id, r.values, r.metadata, r.sparse);
        return { matched: op.records.length };
      case 'delete':
        for (const id of op.ids) mem.delete(lsn, id);
        return { matched: op.ids.length };
      case 'deleteAll':
        mem.deleteAll(lsn);
        return { matched: 0 };
      case 'update': {
        // Resolved against the state just before this LSN, so replay reproduces it exactly.
        let matched = 0;
        for (const id of op.ids) {
          const current = getRecord(this.snapshot(), id);
          if (!current) continue;
          const metadata: Metadata | undefined = op.setMetadata ? { ...current.metadata, ...op.setMetadata } : current.metadata;
          mem.put(lsn, id, op.values ?? current.values, metadata, op.sparse ?? current.sparse);
          matched++;
        }
        if (matched === 0) mem.noop(lsn);
        return { matched };
      }
    }
  }

  async #backpressure(): Promise<void> {
    const { memtableMaxRecords, memtableMaxBytes, backpressureFactor } = this.#config;
    while (
      this.#flushLoop &&
      (this.#active.size > memtableMaxRecords * backpressureFactor || this.#active.bytes > memtableMaxBytes * backpressureFactor)
    ) {
      await this.#flushLoop;
    }
  }

  #maybeFlush(): void {
    const { memtableMaxRecords, memtableMaxBytes } = this.#config;
    if (this.#active.size >= memtableMaxRecords || this.#active.bytes >= memtableMaxBytes) this.requestFlush();
  }

  /**
   * Called periodically: flushes a memtable whose first write is older than the age limit, and
   * indexes large flat slabs once no flush has happened for `indexIdleMs`.
   */
  tick(now: number): void {
    if (!this.#active.isEmpty && now - this.#activeSince >= this.#config.memtableMaxAgeMs) this.requestFlush();
    else if (!this.#flushLoop && now - this.#lastFlushAt >= this.#config.indexIdleMs) this.#scheduleCompaction(true);
  }

  /** Freezes the active memtable (if it holds anything) and makes sure the flush loop runs. */
  requestFlush(): Promise<void> {
    if (!this.#active.isEmpty) {
      this.#active.freeze();
      this.#frozen.unshift(this.#active);
      this.#active = new Memtable();
    }
    this.#flushLoop ??= this.#runFlushLoop().finally(() => {
      this.#flushLoop = undefined;
    });
    return this.#flushLoop;
  }

  async #runFlushLoop(): Promise<void> {
    let backoff = 100;
    while (this.#frozen.length > 0) {
      const oldest = this.#frozen[this.#frozen.length - 1]!;
      try {
        await this.#flush(oldest);
        backoff = 100;
      } catch (err) {
        this.stats.flushErrors++;
        this.#logger.error({ err, namespace: this.name }, 'flush failed; will retry');
        if (this.#closing) throw err;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
    this.#scheduleCompaction();
  }

  /** Writes a frozen memtable as an L0 slab and commits a manifest that covers its LSNs. */
  async #flush(mem: Memtable): Promise<void> {
    const rows = rowsFromMemtable(mem);
    let built: { ref: SlabRef; reader: SlabReader } | undefined;
    if (rows.length > 0) built = await this.#writeSlab(rows);
    failpoint('flush:after-slab');
    try {
      await this.#commitFlush(mem, built);
    } finally {
      if (built) this.#inflightSlabs.delete(built.ref.id);
    }
    this.stats.flushes++;
    this.#lastFlushAt = Date.now();
    this.#scheduleGc();
  }

  async #commitFlush(mem: Memtable, built: { ref: SlabRef; reader: SlabReader } | undefined): Promise<void> {
    await this.#manifestLock.run(async () => {
      const base = this.#manifest;
      // A deleteAll in this memtable hides everything older: the slabs before it leave the manifest.
      const kept = mem.clearedAtLsn > 0 ? [] : base.slabs;
      const next = await this.#commitManifest(base, {
        flushedLsn: mem.maxLsn,
        slabs: built ? [...kept, built.ref] : kept,
      });
      failpoint('flush:after-manifest');
      await this.#installManifest(next, built ? new Map([[built.ref.id, built.reader]]) : new Map());
      this.#frozen = this.#frozen.filter((m) => m !== mem);
    });
  }

  /** Serializes rows (a flushed memtable) as an L0 slab and stores it. */
  async #writeSlab(rows: Parameters<typeof buildSlab>[0]): Promise<{ ref: SlabRef; reader: SlabReader }> {
    const { bytes, header } = await buildSlab(rows, { dimension: this.#dimension, level: 0 });
    return this.#storeSlab(bytes, header);
  }

  /** Stores a built slab under a new id (tracked as in flight until a manifest lists it). */
  async #storeSlab(bytes: Uint8Array, header: SlabHeader): Promise<{ ref: SlabRef; reader: SlabReader }> {
    const id = newSlabId();
    this.#inflightSlabs.add(id);
    await this.#store.putIfAbsent(slabKey(this.#prefix, id), bytes);
    const ref: SlabRef = {
      id,
      level: header.level,
      count: header.count,
      tombstones: header.tombstones,
      bytes: bytes.length,
      minLsn: header.minLsn,
      maxLsn: header.maxLsn,
    };
    // Built by this process a moment ago: no checksum pass needed.
    return { ref, reader: await SlabReader.load(id, bytes, { verify: false }) };
  }

  /** The largest ANN slab of the namespace: its trained quantizer can serve the next build. */
  #annDonor(): AnnDonor | undefined {
    let best: SlabReader | undefined;
    for (const reader of this.#readers.values()) if (reader.header.ann && (!best || reader.count > best.count)) best = reader;
    return best ? { header: best.header.ann!, bytes: best.annBytes()! } : undefined;
  }

  /** Merges a compaction's inputs into one slab (in a worker thread) and stores it. */
  async #compact(plan: CompactionPlan & { index: boolean }): Promise<{ ref: SlabRef; reader: SlabReader } | undefined> {
    const output = await this.#compactor.run({
      inputs: plan.inputs.map((ref) => ({ id: ref.id, bytes: this.#readers.get(ref.id)!.bytes })),
      dropTombstones: plan.dropTombstones,
      dimension: this.#dimension,
      metric: this.#metric,
      level: plan.outputLevel,
      ann: this.#config.ann,
      indexAlways: plan.index,
      donor: this.#annDonor(),
    });
    if (output.annBuild) this.#logger.info({ namespace: this.name, rows: output.header?.count, ...output.annBuild }, 'built ANN index');
    return output.header ? this.#storeSlab(output.bytes, output.header) : undefined;
  }

  /**
   * Writes the next manifest version. Losing the race to another writer makes this view stale:
   * the engine reopens the namespace from the winner's manifest (what this view had is in the log).
   */
  async #commitManifest(base: Manifest, next: Omit<Manifest, 'version' | 'writtenAt'>): Promise<Manifest> {
    this.#committingVersion = base.version + 1;
    try {
      return await this.#manifests.commit(base, next);
    } catch (err) {
      this.#committingVersion = 0;
      if (err instanceof ManifestConflictError) this.#stale = true;
      throw err;
    }
  }

  /** Makes `manifest` current: loads slabs not yet in memory and recomputes shadows. */
  async #installManifest(manifest: Manifest, fresh: Map<string, SlabReader>): Promise<void> {
    const readers = new Map<string, SlabReader>();
    await Promise.all(
      manifest.slabs.map(async (ref) => {
        let reader = fresh.get(ref.id) ?? this.#readers.get(ref.id);
        if (!reader) {
          const obj = await this.#store.get(slabKey(this.#prefix, ref.id));
          if (!obj) throw new Error(`slab ${ref.id} referenced by manifest v${manifest.version} is missing`);
          reader = await SlabReader.load(ref.id, obj.data);
        }
        // The ANN index is read into native memory off the event loop before queries see the slab.
        await reader.loadAnn();
        readers.set(ref.id, reader);
      }),
    );
    const newestFirst = [...manifest.slabs].reverse().map((ref) => readers.get(ref.id)!);
    const layers = await computeShadows(newestFirst, this.#layers);
    this.#manifest = manifest;
    this.#readers = readers;
    this.#layers = layers;
  }

  /**
   * The next compaction: a size-tiered merge when one is due; otherwise, with `indexFlat`, the
   * indexing of a flat slab too large to scan cheaply (the newest first). Left alone, the last
   * flushes before a namespace goes quiet would stay flat — tens of thousands of rows every query
   * scans exactly — until more writes arrive to merge them with.
   */
  #nextCompaction(indexFlat: boolean): (CompactionPlan & { index: boolean }) | null {
    const merge = planCompaction(this.#manifest.slabs, this.#config.compaction);
    if (merge) return { ...merge, index: false };
    if (!indexFlat) return null;
    const slabs = this.#manifest.slabs;
    for (let i = slabs.length - 1; i >= 0; i--) {
      const ref = slabs[i]!;
      const reader = this.#readers.get(ref.id);
      if (!reader || reader.header.ann || (ref.count - ref.tombstones) * this.#dimension <= this.#config.exactBudget) continue;
      return { start: i, inputs: [ref], outputLevel: ref.level + 1, dropTombstones: i === 0, index: true };
    }
    return null;
  }

  #scheduleCompaction(indexFlat = false): void {
    if (this.#closing || this.#compactionLoop) return;
    if (!this.#nextCompaction(indexFlat)) return;
    this.#compactionLoop = this.#runCompactions(indexFlat)
      .catch((err) => this.#logger.error({ err, namespace: this.name }, 'compaction failed'))
      .finally(() => {
        this.#compactionLoop = undefined;
      });
  }

  async #runCompactions(indexFlat: boolean): Promise<void> {
    for (;;) {
      if (this.#closing) return;
      const plan = this.#nextCompaction(indexFlat);
      if (!plan) return;
      const built = await this.#compact(plan);
      failpoint('compaction:after-slab');
      const committed = await this.#manifestLock
        .run(async () => {
        const base = this.#manifest;
        const start = base.slabs.findIndex((s) => s.id === plan.inputs[0]!.id);
        const stillThere = start !== -1 && plan.inputs.every((ref, i) => base.slabs[start + i]?.id === ref.id);
        // The inputs moved (a deleteAll flush dropped them): give up; GC removes the output.
        if (!stillThere || (plan.dropTombstones && start !== 0)) return false;
        const slabs = [...base.slabs.slice(0, start), ...(built ? [built.ref] : []), ...base.slabs.slice(start + plan.inputs.length)];
        const next = await this.#commitManifest(base, { flushedLsn: base.flushedLsn, slabs });
        failpoint('compaction:after-manifest');
        await this.#installManifest(next, built ? new Map([[built.ref.id, built.reader]]) : new Map());
        return true;
      })
        .finally(() => {
          if (built) this.#inflightSlabs.delete(built.ref.id);
        });
      if (!committed) return;
      this.stats.compactions++;
      this.#scheduleGc();
    }
  }

  #scheduleGc(): void {
    if (this.#gcScheduled) return;
    this.#gcScheduled = this.collectGarbage()
      .then(() => undefined)
      .catch((err) => this.#logger.warn({ err, namespace: this.name }, 'garbage collection failed'))
      .finally(() => {
        this.#gcScheduled = undefined;
      });
  }

  /**
   * Deletes what no manifest still in use references. In use: the current manifest and every
   * version written within the grace period (another reader may still be on it). Log objects go
   * once every retained manifest covers them; slabs once no retained manifest lists them and
   * they are older than the grace period (a younger unlisted slab may be a flush in flight).
   */
  async collectGarbage(now = Date.now()): Promise<number> {
    // Decide under the manifest lock, so no flush or compaction commits while we classify: every
    // slab is then either in a manifest we read, in flight in this process, or an orphan.
    const plan = await this.#manifestLock.run(async () => {
      const grace = this.#config.gcGraceMs;
      const current = this.#manifest;
      const retained: Manifest[] = [];
      const allManifests: Manifest[] = [];
      const expiredVersions: number[] = [];
      for (const version of await this.#manifests.versions()) {
        const m = await this.#manifests.read(version);
        if (!m) continue;
        allManifests.push(m);
        // Versions at or above ours may have been written by another writer: always kept.
        if (version >= current.version || now - Date.parse(m.writtenAt) < grace) retained.push(m);
        else expiredVersions.push(version);
      }
      if (!retained.some((m) => m.version === current.version)) retained.push(current);
      const referenced = new Set(retained.flatMap((m) => m.slabs.map((s) => s.id)));
      const slabPrefix = `${this.#prefix}slabs/`;
      const orphanSlabs: string[] = [];
      for await (const meta of listAll(this.#store, slabPrefix)) {
        const id = meta.key.slice(slabPrefix.length, -'.slab'.length);
        if (!referenced.has(id) && !this.#inflightSlabs.has(id) && now - slabIdTime(id) >= grace) orphanSlabs.push(meta.key);
      }
      // The log goes only through what a manifest has covered for the whole grace period: a writer
      // whose fence (a HEAD of the next manifest version) saw nothing newer is then sure its next
      // log key still exists, unless its append stalls longer than the grace period.
      const settled = allManifests.filter((m) => now - Date.parse(m.writtenAt) >= grace || grace === 0);
      const settledLsn = Math.max(0, ...settled.map((m) => m.flushedLsn));
      const coveredLsn = Math.min(settledLsn, ...retained.map((m) => m.flushedLsn));
      return { expiredVersions, orphanSlabs, coveredLsn };
    });
    let deleted = 0;
    // Expired manifests first, then the slabs only they referenced: a crash in between never
    // leaves a manifest that points at a deleted slab.
    for (const version of plan.expiredVersions) {
      await this.#manifests.delete(version);
      deleted++;
    }
    if (plan.expiredVersions.length > 0 || plan.orphanSlabs.length > 0) failpoint('gc:mid');
    for (const key of plan.orphanSlabs) {
      await this.#store.delete(key);
      deleted++;
    }
    deleted += await this.#log.truncateThrough(plan.coveredLsn);
    this.stats.gcDeleted += deleted;
    return deleted;
  }

  /** Flushes everything written so far and waits for the compactions and GC that follow. */
  async settle(): Promise<void> {
    await this.requestFlush();
    await this.#compactionLoop;
    this.#scheduleCompaction(true);
    await this.#compactionLoop;
    await this.#gcScheduled;
  }

  describe() {
    return {
      name: this.name,
      writtenLsn: this.#log.lastLsn,
      flushedLsn: this.#manifest.flushedLsn,
      manifestVersion: this.#manifest.version,
      memtable: {
        records: this.#active.size + this.#frozen.reduce((n, m) => n + m.size, 0),
        bytes: this.#active.bytes + this.#frozen.reduce((n, m) => n + m.bytes, 0),
      },
      slabs: this.#manifest.slabs.map((s) => {
        const ann = this.#readers.get(s.id)?.header.ann;
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
      compactions: this.stats.compactions,
      flushes: this.stats.flushes,
    };
  }

  /** Stops writes; with `flush`, writes the memtable out so the next open replays nothing. */
  async close(options: { flush: boolean }): Promise<void> {
    await this.#log.close();
    this.#closing = true;
    try {
      if (options.flush) await this.requestFlush();
      await this.#flushLoop;
    } catch (err) {
      // Nothing is lost: every acknowledged write is in the log and is replayed on the next open.
      this.#logger.warn({ err, namespace: this.name }, 'final flush failed; the log will be replayed on next open');
    }
    await this.#compactionLoop;
    await this.#gcScheduled;
  }
}


function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
