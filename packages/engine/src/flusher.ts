import { failpoint, sleep, type Clock } from '@conifer/core';
import { Memtable } from '@conifer/memtable';
import { attachRowGroups } from '@conifer/router';
import { buildSlab, ListAssigner, rowsFromMemtable, sortRows, type SlabReader, type SlabRow } from '@conifer/slab';
import type { Logger } from 'pino';
import type { EngineConfig } from './config.ts';
import type { ManifestState } from './manifest-state.ts';
import type { NamespaceStats } from './namespace-stats.ts';
import type { SlabWriter, WrittenSlab } from './slab-writer.ts';

export interface FlusherOptions {
  name: string;
  dimension: number;
  config: EngineConfig;
  logger: Logger;
  slabs: SlabWriter;
  manifest: ManifestState;
  stats: NamespaceStats;
  /** True once the namespace is closing: a failing flush stops retrying. */
  closing: () => boolean;
  clock: Clock;
  /** After each flush has committed (GC may follow). */
  onFlushed: () => void;
  /** After the flush loop has emptied the frozen memtables (compaction may follow). */
  onDrained: () => void;
}

/**
 * The memtables of a namespace and their way to object storage: the active memtable takes applied
 * writes; a full (or old) one is frozen and flushed, oldest first, as an L0 slab in a manifest that
 * covers its LSNs. Writes wait (backpressure) while the active memtable is far over its limits and
 * a flush runs. A failed flush is retried with backoff; nothing is lost meanwhile, since every
 * acknowledged write is in the log.
 */
export class Flusher {
  readonly #options: FlusherOptions;
  #active = new Memtable();
  /** When the active memtable took its first write (it flushes once that is `memtableMaxAgeMs` old). */
  #activeSince = 0;
  /** Frozen memtables waiting to be flushed, newest first. */
  #frozen: Memtable[] = [];
  #loop: Promise<void> | undefined;
  /** When the last flush committed (a namespace indexes flat slabs left unindexed once it has been quiet). */
  lastFlushAt: number;

  constructor(options: FlusherOptions) {
    this.#options = options;
    this.lastFlushAt = options.clock.now();
  }

  /** Every memtable, newest first: what reads see besides the slabs. */
  memtables(): Memtable[] {
    return [this.#active, ...this.#frozen];
  }

  /** The memtable the next applied write goes into. */
  activeForWrite(): Memtable {
    if (this.#active.isEmpty) this.#activeSince = this.#options.clock.now();
    return this.#active;
  }

  /** The flush running now, if any. */
  get running(): Promise<void> | undefined {
    return this.#loop;
  }

  /** Records and bytes held in memtables. */
  held(): { records: number; bytes: number; grouped: number } {
    const all = this.memtables();
    return { records: all.reduce((n, m) => n + m.size, 0), bytes: all.reduce((n, m) => n + m.bytes, 0), grouped: all.reduce((n, m) => n + m.assignedRows, 0) };
  }

  /** Memory the memtables hold (what a memory budget counts). */
  memoryBytes(): number {
    return this.memtables().reduce((n, m) => n + m.memoryBytes, 0);
  }

  /** Waits while the active memtable is far over its limits and a flush is under way. */
  async backpressure(): Promise<void> {
    const { memtableMaxRecords, memtableMaxBytes, backpressureFactor } = this.#options.config;
    while (this.#loop && (this.#active.size > memtableMaxRecords * backpressureFactor || this.#active.bytes > memtableMaxBytes * backpressureFactor)) {
      await this.#loop;
    }
  }

  /** Flushes when the active memtable is full (not once the namespace is closing). */
  maybeFlush(): void {
    const { memtableMaxRecords, memtableMaxBytes } = this.#options.config;
    // Nobody waits for this flush: its failure is logged by the loop (and the log keeps the writes).
    if (this.#active.size >= memtableMaxRecords || this.#active.bytes >= memtableMaxBytes) this.requestFlush().catch(() => undefined);
  }

  /** Whether the active memtable holds writes older than the age limit at `now`. */
  tooOld(now: number): boolean {
    return !this.#active.isEmpty && now - this.#activeSince >= this.#options.config.memtableMaxAgeMs;
  }

  /**
   * Freezes the active memtable (if it holds anything) and makes sure the flush loop runs. Once the
   * namespace is closing only its own `final` flush starts: a flush begun after a close has waited
   * for the flush loop would commit a manifest behind the close — after a namespace deletion had
   * removed the slabs that manifest lists.
   */
  requestFlush(options: { final?: boolean } = {}): Promise<void> {
    if (this.#options.closing() && !options.final) return this.#loop ?? Promise.resolve();
    if (!this.#active.isEmpty) {
      this.#active.freeze();
      this.#frozen.unshift(this.#active);
      this.#active = new Memtable();
    }
    this.#loop ??= this.#run().finally(() => {
      this.#loop = undefined;
    });
    return this.#loop;
  }

  async #run(): Promise<void> {
    const { stats, logger, name } = this.#options;
    let backoff = 100;
    while (this.#frozen.length > 0) {
      const oldest = this.#frozen[this.#frozen.length - 1]!;
      try {
        await this.#flush(oldest);
        backoff = 100;
      } catch (err) {
        stats.flushErrors++;
        logger.error({ err, namespace: name }, 'flush failed; will retry');
        if (this.#options.closing()) throw err;
        await sleep(this.#options.clock, backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
    this.#options.onDrained();
  }

  /** Writes a frozen memtable as an L0 slab and commits a manifest that covers its LSNs. */
  async #flush(mem: Memtable): Promise<void> {
    // In slab order (by id): the rows' groups below line up with the slab's rows.
    const rows = sortRows(rowsFromMemtable(mem));
    let built: WrittenSlab | undefined;
    if (rows.length > 0) {
      // Built on the event loop, and replaced by a compaction soon after: its pages are not worth
      // the kernel compacting memory into huge ones while the flush writes them (sharedArray).
      const { bytes, header } = await buildSlab(rows, { dimension: this.#options.dimension, level: 0, hugePages: false });
      built = await this.#options.slabs.write(bytes, header);
      keepGroups(mem, rows, built.reader);
    }
    failpoint('flush:after-slab');
    try {
      await this.#commit(mem, built);
    } finally {
      this.#options.slabs.release(built);
    }
    this.#options.stats.flushes++;
    this.lastFlushAt = this.#options.clock.now();
    this.#options.onFlushed();
  }

  async #commit(mem: Memtable, built: WrittenSlab | undefined): Promise<void> {
    const { manifest } = this.#options;
    await manifest.lock.run(async () => {
      const base = manifest.current;
      // A deleteAll in this memtable hides everything older: the slabs before it leave the manifest.
      const kept = mem.clearedAtLsn > 0 ? [] : base.slabs;
      const next = await manifest.commit(base, {
        flushedLsn: mem.maxLsn,
        slabs: built ? [...kept, built.ref] : kept,
      });
      failpoint('flush:after-manifest');
      await manifest.install(next, built ? new Map([[built.ref.id, built.reader]]) : new Map());
      this.#frozen = this.#frozen.filter((m) => m !== mem);
    });
  }
}

/**
 * Gives a flushed slab its memtable's row groups (see attachRowGroups) before the slab becomes
 * visible, so that no query scans it whole: until it has its own index, queries scan the rows of
 * the groups they probe. One synchronous pass of map lookups by the ids in hand (`rows`, in slab
 * order). Mapping the slab's rows back by its stored ids instead (decoding each) took long enough
 * to be sliced and then run behind the commit, and meanwhile the queries of a busy namespace
 * scanned the new slab exactly.
 */
function keepGroups(mem: Memtable, rows: readonly SlabRow[], reader: SlabReader): void {
  const assigner = mem.listQuantizer;
  if (!(assigner instanceof ListAssigner) || mem.assignedRows === 0) return;
  const groups = new Int32Array(rows.length);
  for (let row = 0; row < rows.length; row++) groups[row] = mem.listOf(rows[row]!.id);
  attachRowGroups(reader, assigner, groups);
}
