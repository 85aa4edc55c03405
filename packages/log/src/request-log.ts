import { failpoint, UnavailableError } from '@conifer/core';
import { isPreconditionFailed, listAll, type ObjectStore } from '@conifer/storage';
import { encodeLogBatch } from './codec.ts';
import type { LogEntry, LogOp } from './entry.ts';
import { logKey, lsnOfKey, readLogTail, type LogTail } from './log-reader.ts';

/**
 * The durable request log of one namespace.
 *
 * - Every write gets the namespace's next LSN; LSNs are gapless and strictly increasing.
 * - Concurrent appends are group-committed: while one log object is being written, new appends
 *   queue, and the next object carries all of them. An idle log writes at once (no added latency);
 *   a busy one pays one object-store round trip per batch, not per request.
 * - An object is named by its first LSN (20 digits) and written with put-if-absent, so it is never
 *   overwritten; a writer that loses the race for an LSN (another process wrote it) reads what the
 *   other wrote, applies it, and retries with later LSNs.
 * - `apply` runs synchronously, in LSN order, only after the object is durable, and before the
 *   appender's promise resolves: an acknowledged write is already visible to reads.
 */
/** Rounds of reading ahead before an entry applies, at most (see `prepare`). */
const PREPARE_ATTEMPTS = 8;

export interface RequestLogOptions {
  store: ObjectStore;
  /** Key prefix of the log, ending in '/'. */
  prefix: string;
  /** The LSN the next write gets (one past the last durable entry). */
  nextLsn: number;
  /** Applies a durable entry to in-memory state; its return value is handed to the appender. */
  apply: (entry: LogEntry) => unknown;
  /**
   * Reads what entries need before they apply (apply itself is synchronous): while `ready` says
   * no, the log awaits `load` and asks again; entries apply in the step `ready` says yes, and
   * `done` follows. The namespace reads the vectors of slab rows updates keep.
   */
  prepare?: { ready(entries: readonly LogEntry[]): boolean; load(entries: readonly LogEntry[]): Promise<void>; done(): void } | undefined;
  /** Cap on entries per log object. Default `DEFAULT_MAX_BATCH_ENTRIES`. */
  maxBatchEntries?: number;
  /** How many times a batch is retried after losing an LSN race. Default 8. */
  maxConflictRetries?: number;
  /**
   * Runs before every append; throwing rejects the batch with that error and writes nothing. The
   * namespace uses it to take ownership on the first write and as a fence: a writer whose view is
   * older than the newest manifest must not append. Resolving `true` (ownership was just taken)
   * makes the log read its tail before writing: the previous owner may have appended since.
   */
  beforeAppend?: () => Promise<boolean | void>;
  /**
   * Runs once a batch is durable, before it is applied and acknowledged; throwing rejects the batch
   * with that error (the entries stay in the log, unacknowledged, as after a crash). The namespace
   * confirms here that no other writer took over while the object was written: a deleted log key
   * below another writer's flushed LSN can be written again by a writer that stalled.
   */
  beforeAcknowledge?: () => Promise<void>;
  /**
   * Asked when the log has a hole (an object missing, a later one present): an error to throw
   * instead of declaring the log corrupt, when the hole is explained — the namespace's view is
   * stale, and another writer collected the objects its newer manifest covers.
   */
  explainGap?: () => Promise<Error | undefined>;
}

export interface Appended<T = unknown> {
  lsn: number;
  result: T;
}

interface Pending {
  op: LogOp;
  resolve: (value: Appended) => void;
  reject: (reason: unknown) => void;
}

/**
 * Most entries group-committed into one log object: enough that a busy namespace pays one
 * round trip for thousands of writes, few enough that one object stays small to write and replay.
 */
export const DEFAULT_MAX_BATCH_ENTRIES = 4096;

export class RequestLog {
  readonly #store: ObjectStore;
  readonly #prefix: string;
  readonly #apply: (entry: LogEntry) => unknown;
  readonly #prepare: RequestLogOptions['prepare'];
  readonly #maxBatchEntries: number;
  readonly #maxConflictRetries: number;
  readonly #beforeAppend: (() => Promise<boolean | void>) | undefined;
  readonly #beforeAcknowledge: (() => Promise<void>) | undefined;
  readonly #explainGap: (() => Promise<Error | undefined>) | undefined;
  #nextLsn: number;
  #queue: Pending[] = [];
  #draining: Promise<void> | undefined;
  /** Set when an append's outcome is unknown or lost a race: read the log's tail before writing. */
  #needsCatchUp = false;
  #closed = false;
  #objectsWritten = 0;

  constructor(options: RequestLogOptions) {
    this.#store = options.store;
    this.#prefix = options.prefix;
    this.#apply = options.apply;
    this.#prepare = options.prepare;
    this.#nextLsn = options.nextLsn;
    this.#maxBatchEntries = options.maxBatchEntries ?? DEFAULT_MAX_BATCH_ENTRIES;
    this.#maxConflictRetries = options.maxConflictRetries ?? 8;
    this.#beforeAppend = options.beforeAppend;
    this.#beforeAcknowledge = options.beforeAcknowledge;
    this.#explainGap = options.explainGap;
  }

  /** LSN of the last durable entry (0 when none). */
  get lastLsn(): number {
    return this.#nextLsn - 1;
  }

  get objectsWritten(): number {
    return this.#objectsWritten;
  }

  /** Appends one write; resolves once it is durable and applied. */
  append<T = unknown>(op: LogOp): Promise<Appended<T>> {
    if (this.#closed) return Promise.reject(new UnavailableError('the namespace is closing; retry the write'));
    return new Promise<Appended<T>>((resolve, reject) => {
      this.#queue.push({ op, resolve: resolve as (v: Appended) => void, reject });
      this.#draining ??= this.#drain().finally(() => {
        this.#draining = undefined;
      });
    });
  }

  /** Makes the next append read the log's tail first (another writer may have appended to it). */
  requireCatchUp(): void {
    this.#needsCatchUp = true;
  }

  /** Stops accepting appends and waits for the ones in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#draining;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatchEntries);
      await this.#commit(batch);
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    for (let attempt = 0; attempt <= this.#maxConflictRetries; attempt++) {
      try {
        if ((await this.#beforeAppend?.()) === true) this.#needsCatchUp = true;
      } catch (err) {
        batch.forEach((p) => p.reject(err));
        return;
      }
      try {
        if (this.#needsCatchUp) await this.catchUp();
      } catch (err) {
        batch.forEach((p) => p.reject(new UnavailableError('the request log could not be read; retry the write', { cause: err })));
        return;
      }
      const first = this.#nextLsn;
      const entries: LogEntry[] = batch.map((p, i) => ({ lsn: first + i, op: p.op }));
      try {
        await this.#store.putIfAbsent(logKey(this.#prefix, first), encodeLogBatch(entries));
      } catch (err) {
        // Lost the race for this LSN, or the outcome is unknown (the object may exist): either
        // way the tail must be read before the next attempt.
        this.#needsCatchUp = true;
        if (isPreconditionFailed(err)) continue;
        batch.forEach((p) => p.reject(new UnavailableError('the write could not be made durable; retry it', { cause: err })));
        return;
      }
      failpoint('log:after-append');
      this.#objectsWritten++;
      try {
        await this.#beforeAcknowledge?.();
      } catch (err) {
        // Durable but unacknowledged: the next attempt reads these entries back from the log.
        this.#needsCatchUp = true;
        batch.forEach((p) => p.reject(err));
        return;
      }
      try {
        // The last readiness check and the apply below run in one synchronous step.
        for (let attempt = 0; this.#prepare && !this.#prepare.ready(entries); attempt++) await this.#prepareRound(entries, attempt);
      } catch (err) {
        // Durable but unacknowledged, as above.
        this.#needsCatchUp = true;
        batch.forEach((p) => p.reject(err));
        return;
      }
      this.#nextLsn = first + entries.length;
      entries.forEach((entry, i) => {
        const pending = batch[i]!;
        try {
          pending.resolve({ lsn: entry.lsn, result: this.#apply(entry) });
        } catch (err) {
          pending.reject(err);
        }
      });
      this.#prepare?.done();
      return;
    }
    batch.forEach((p) => p.reject(new UnavailableError('too many concurrent writers on this namespace; retry the write')));
  }

  /**
   * Reads and applies every durable entry at or after the next LSN (written by a previous run of
   * this process, or by another process). Used at open (replay) and after a lost race.
   */
  async catchUp(): Promise<number> {
    return this.applyTail(await readLogTail(this.#store, this.#prefix, this.#nextLsn, this.#explainGap));
  }

  /**
   * One round of reading what entries need before they apply. Each load reads what the last check
   * found missing; only a manifest change between the two (a compaction moving rows to a new
   * slab) makes another round necessary.
   */
  async #prepareRound(entries: readonly LogEntry[], attempt: number): Promise<void> {
    if (attempt === PREPARE_ATTEMPTS) throw new UnavailableError('the records an update reads kept moving between slabs; retry it');
    await this.#prepare!.load(entries);
  }

  /**
   * Applies a tail read from this log's next LSN (`readLogTail`, started before the state the
   * entries apply to was ready: a namespace's slabs load while its log is read). Returns how many
   * entries it applied.
   */
  async applyTail(tail: LogTail): Promise<number> {
    if (tail.from !== this.#nextLsn) throw new Error(`log tail read from LSN ${tail.from}, but the log is at ${this.#nextLsn}`);
    for (const entry of tail.entries) {
      const one = [entry];
      for (let attempt = 0; this.#prepare && !this.#prepare.ready(one); attempt++) await this.#prepareRound(one, attempt);
      this.#apply(entry);
      this.#prepare?.done();
      this.#nextLsn = entry.lsn + 1;
    }
    this.#needsCatchUp = false;
    return tail.entries.length;
  }

  /**
   * Deletes log objects whose entries are all at or below `lsn` (they are covered by slabs the
   * manifest references). Returns how many objects were deleted.
   */
  async truncateThrough(lsn: number): Promise<number> {
    const firsts: number[] = [];
    for await (const meta of listAll(this.#store, this.#prefix)) firsts.push(lsnOfKey(this.#prefix, meta.key));
    firsts.sort((a, b) => a - b);
    let deleted = 0;
    for (let i = 0; i < firsts.length; i++) {
      const lastOfObject = i + 1 < firsts.length ? firsts[i + 1]! - 1 : this.lastLsn;
      if (lastOfObject > lsn) break;
      await this.#store.delete(logKey(this.#prefix, firsts[i]!));
      deleted++;
    }
    return deleted;
  }
}
