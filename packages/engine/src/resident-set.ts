import type { Clock } from '@conifer/core';
import type { SlabReader } from '@conifer/slab';
import type { EngineConfig } from './config.ts';
import type { ReleasedMemory } from './released-memory.ts';

/** What a resident set holds: an open namespace (writer) or replica (query node). */
export interface Resident {
  /** Memory it holds now, by kind. */
  memory(): ResidentMemory;
  /** Closing it now would wait for work under way (a flush, an ANN build): trims pass it over. */
  readonly busy: boolean;
  /**
   * Its slab readers. Those opened by range hold their vectors in memory only while a trim lets
   * them (promote: scanned in place) and drop them first when memory is short (shed: read by
   * range again), before any namespace closes.
   */
  slabReaders(): Iterable<SlabReader>;
  /**
   * The requests that opened it are answered: background work its opening left for later (not
   * to compete with them for the event loop) may start.
   */
  answered?(): void;
}

export interface ResidentMemory {
  /** Memtables: records not yet in slabs. */
  memtables: number;
  /** Slab readers of the current manifest: slab bytes, decoded ids, IVF layouts. */
  slabs: number;
  /** What being open costs whatever the data: the objects of its log, fence, manifest and memtable maps. */
  fixed: number;
  /**
   * What a compaction running in this process holds beside the slabs (copies of its inputs, the
   * merged vectors, the index being built, the output), estimated when it starts: counted so that
   * a merge makes room by shedding vectors rather than taking the node past its budget.
   */
  compactions: number;
}

/**
 * What an open namespace costs beyond its records. Its JS heap, measured after a forced GC over
 * thousands of namespaces of one record each, is about 6 KiB; the process's resident memory grows
 * by more, as the V8 heap's room to grow and the allocator's slack: in `npm run bench:tenants`
 * (namespaces of 100 × 128), 11–20 KiB per open namespace more than the budget counted with 6.
 * The budget counts that growth.
 */
export const FIXED_BYTES_PER_NAMESPACE = 20 * 1024;

/** Everything a resident holds, in bytes. */
export const residentBytes = (m: ResidentMemory): number => m.memtables + m.slabs + m.fixed + m.compactions;

export interface ResidentEntry<T> {
  readonly pending: Promise<T>;
  /** Set once `pending` resolves. */
  value: T | undefined;
  /** When a request last used it, by the set's clock. */
  lastUsed: number;
  /** When a read last used it (-Infinity: never), for {@link TrimPolicy.promoteReadWithinMs}. */
  lastRead: number;
  /** Requests using it now: a trim never closes it under them. */
  leases: number;
  /** Opened, and its slabs' vectors not yet offered for promotion (see ResidentSet.open). */
  promoteWhenFree: boolean;
  /** Its key in the set. */
  readonly key: string;
}

/** An entry whose namespace has opened. */
type OpenEntry<T> = ResidentEntry<T> & { value: T };

export interface TrimPolicy {
  /** Close least recently used ones until what stays open holds at most this many bytes. */
  budgetBytes: number;
  /** Close what no request used for this long; 0 closes nothing by time. */
  idleMs: number;
  /** Promote only the slabs of what a read used within this long (undefined: whatever is open). */
  promoteReadWithinMs?: number | undefined;
}

/** How recently a namespace must have been read for `promoteSlabs: 'whenRead'` to promote its slabs. */
export const PROMOTE_READ_WITHIN_MS = 60_000;

/** The trim policy an engine's configuration sets. */
export function trimPolicy(config: Pick<EngineConfig, 'memoryBudgetBytes' | 'namespaceIdleMs'> & Partial<Pick<EngineConfig, 'promoteSlabs'>>): TrimPolicy {
  return {
    budgetBytes: config.memoryBudgetBytes,
    idleMs: config.namespaceIdleMs,
    promoteReadWithinMs: config.promoteSlabs === 'whenRead' ? PROMOTE_READ_WITHIN_MS : undefined,
  };
}

export interface ResidentStats {
  /** What trims hold the open ones' memory to. */
  budgetBytes: number;
  open: number;
  /** Memory the open ones hold, by kind. */
  memory: ResidentMemory;
  /** Closed since start because no request used them for the idle time. */
  closedIdle: number;
  /** Closed since start to stay within the memory budget. */
  closedForBudget: number;
  /** Slab vectors (or their codes) read into memory since start, and dropped again to stay within the budget. */
  promoted: number;
  shed: number;
  /** Memory let go of (slabs dropped, vectors shed) that the collector has not freed yet: promotions leave it room. */
  released: number;
}

/**
 * Promotions fill the budget only this far: the rest is headroom for memtables growing between
 * trims, so writes do not have to wait for a shed.
 */
const PROMOTE_UP_TO = 0.85;

/**
 * The namespaces a node holds open, by key, with their memory and last use: what the memory
 * budget trims. A trim picks, synchronously, the entries no request holds (`lease`) and that are
 * not busy — idle ones first, then least recently used ones while the total is over budget — takes
 * them out of the set and starts closing them; an open of the same key waits for that close
 * (`closing`), so a writer's final flush lands before the namespace is read again.
 */
export class ResidentSet<T extends Resident> {
  readonly #clock: Clock;
  readonly #close: (value: T) => Promise<void>;
  #policy: TrimPolicy;
  readonly #released: ReleasedMemory | undefined;
  readonly #entries = new Map<string, ResidentEntry<T>>();
  readonly #closing = new Map<string, Promise<void>>();
  #closedIdle = 0;
  #closedForBudget = 0;
  #promoted = 0;
  #shed = 0;
  /**
   * What the open ones held and their compactions' working memory, as of the last pass over all of
   * them (a trim or promote), plus what opens and promotions added since: what promoting one newly
   * opened namespace measures its room against without a pass over thousands of others.
   */
  #held = 0;
  #compacting = 0;

  /** `released` tracks what the set's trims and its values let go of (see ReleasedMemory). */
  constructor(clock: Clock, policy: TrimPolicy, close: (value: T) => Promise<void>, released?: ReleasedMemory) {
    this.#clock = clock;
    this.#policy = policy;
    this.#close = close;
    this.#released = released;
  }

  get(key: string): ResidentEntry<T> | undefined {
    return this.#entries.get(key);
  }

  /** Starts opening `key` (the caller checked it is not open); a failed open leaves the set. */
  open(key: string, opener: () => Promise<T>): ResidentEntry<T> {
    const pending = opener();
    const entry: ResidentEntry<T> = { key, pending, value: undefined, lastUsed: this.#clock.now(), lastRead: -Infinity, leases: 0, promoteWhenFree: false };
    this.#entries.set(key, entry);
    pending.then(
      (value) => {
        entry.value = value;
        // Its slabs opened by range: read their vectors in (if the budget has room) once the
        // requests that opened it are answered — not under them, and not only at the next trim —
        // so the queries that follow scan them in place.
        entry.promoteWhenFree = true;
        setImmediate(() => this.#promoteWhenFree(entry));
      },
      () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    return entry;
  }

  /** Takes `key` out of the set (the caller closes it); returns its entry. */
  take(key: string): ResidentEntry<T> | undefined {
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    return entry;
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  /** Every entry's open, resolved or not. */
  pending(): Promise<T>[] {
    return [...this.#entries.values()].map((e) => e.pending);
  }

  /** The open ones, with when each was last used. */
  *values(): Iterable<[key: string, value: T, lastUsed: number]> {
    for (const [key, entry] of this.#entries) if (entry.value !== undefined) yield [key, entry.value, entry.lastUsed];
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Marks the entry used now (for holders that may be dropped while in use, as replicas). */
  touch(entry: ResidentEntry<T>): void {
    entry.lastUsed = this.#clock.now();
  }

  /** Marks the entry used now (and read, for a `read`) and holds it open until the returned release is called. */
  lease(entry: ResidentEntry<T>, read = false): () => void {
    entry.lastUsed = this.#clock.now();
    if (read) entry.lastRead = entry.lastUsed;
    entry.leases++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.leases--;
      entry.lastUsed = this.#clock.now();
      if (entry.leases === 0 && entry.promoteWhenFree) setImmediate(() => this.#promoteWhenFree(entry));
    };
  }

  /**
   * Promotes a newly opened namespace's slabs, once its requests are answered, if the budget has
   * room. Only its own: a pass over every open namespace (sorting them all) for each of thousands
   * of namespaces opening in turn made writing many small ones quadratic. The trim each tick still
   * promotes across all of them.
   */
  #promoteWhenFree(entry: ResidentEntry<T>): void {
    if (!entry.promoteWhenFree || entry.leases > 0 || entry.value === undefined) return;
    entry.promoteWhenFree = false;
    entry.value.answered?.();
    this.#held += residentBytes(entry.value.memory());
    this.#promote([entry as OpenEntry<T>], this.#held, this.#compacting);
  }

  /** The close a trim started for `key`, while it runs. */
  closing(key: string): Promise<void> | undefined {
    return this.#closing.get(key);
  }

  /** Every close a trim started that is still running (of keys starting with `prefix`). */
  closings(prefix = ''): Promise<void>[] {
    return [...this.#closing].filter(([key]) => key.startsWith(prefix)).map(([, p]) => p);
  }

  /**
   * Holds memory to the policy: over budget, it first sheds the in-memory vectors of slabs read by
   * range (least recently used namespaces first, leased or not: a read keeps what it holds), then
   * closes what no request holds, idle ones first, then least recently used; under budget, it
   * promotes the vectors of the most recently used namespaces' ranged slabs while they fit.
   * Returns how many closes it started.
   */
  trim(): number {
    const policy = this.#policy;
    const now = this.#clock.now();
    const { open, held: heldAtStart, compacting } = this.#openByLastUse();
    let held = heldAtStart;
    for (const entry of open) {
      if (held <= policy.budgetBytes) break;
      for (const reader of entry.value.slabReaders()) {
        const vectors = reader.residentVectors;
        const freed = reader.shed();
        if (freed > 0) {
          this.#shed++;
          this.#released?.track(vectors!.buffer, freed);
        }
        held -= freed;
      }
    }
    // Then the codes, which answer queries nearly as well as the vectors in a quarter of the memory.
    for (const entry of open) {
      if (held <= policy.budgetBytes) break;
      for (const reader of entry.value.slabReaders()) held -= this.#shedCodes(reader);
    }
    let started = 0;
    for (const entry of open) {
      const key = entry.key;
      if (entry.leases > 0 || entry.value.busy) continue;
      const idle = policy.idleMs > 0 && now - entry.lastUsed >= policy.idleMs;
      if (!idle && held <= policy.budgetBytes) break; // sorted by last use: the rest are newer
      if (idle) this.#closedIdle++;
      else this.#closedForBudget++;
      held -= residentBytes(entry.value.memory());
      this.#entries.delete(key);
      const closing = this.#close(entry.value)
        .catch(() => undefined)
        .finally(() => {
          if (this.#closing.get(key) === closing) this.#closing.delete(key);
        });
      this.#closing.set(key, closing);
      started++;
    }
    this.#promote(open, held, compacting);
    return started;
  }

  /** Reads the vectors of the most recently used namespaces' ranged slabs into memory while the budget has room. */
  promote(): void {
    const { open, held, compacting } = this.#openByLastUse();
    this.#promote(open, held, compacting);
  }

  /** The open entries, least recently used first, and the memory they hold. */
  #openByLastUse(): { open: OpenEntry<T>[]; held: number; compacting: number } {
    let held = 0;
    let compacting = 0;
    const open: OpenEntry<T>[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.value === undefined) continue;
      const memory = entry.value.memory();
      held += residentBytes(memory);
      compacting += memory.compactions;
      open.push(entry as OpenEntry<T>);
    }
    open.sort((a, b) => a.lastUsed - b.lastUsed);
    this.#compacting = compacting;
    return { open, held, compacting };
  }

  /**
   * Promotes slabs of `open` (least recently used first), newest first, while `held` stays under
   * the room. `compacting` (the working memory of the compactions running) is left free twice: a
   * namespace compacting now usually has its next merge due as this one ends (a settle is a chain
   * of them), and vectors promoted into that merge's room would only be shed as it starts — read
   * for nothing, and garbage beside its copies until collected.
   */
  #promote(open: OpenEntry<T>[], held: number, compacting: number): void {
    // What was let go of is still in memory until collected: promoting into its room would hold both.
    const room = this.#policy.budgetBytes * PROMOTE_UP_TO - (this.#released?.bytes ?? 0) - compacting;
    const within = this.#policy.promoteReadWithinMs;
    const now = this.#clock.now();
    const candidates: OpenEntry<T>[] = [];
    for (let i = open.length - 1; i >= 0; i--) {
      const entry = open[i]!;
      if (this.#entries.get(entry.key) !== entry) continue; // closed by the trim that called this
      if (within !== undefined && now - entry.lastRead > within) continue;
      candidates.push(entry);
    }
    // Codes first, of every namespace: they let a query read a quarter of the bytes of its probed
    // lists from memory and only its best candidates' vectors by range. Vectors next, with what is
    // left: a slab whose vectors are in memory needs its codes no longer.
    for (const entry of candidates) {
      if (held >= room) break;
      for (const reader of entry.value.slabReaders()) {
        if (reader.resident || !reader.sheddable || !reader.hasCodes || reader.codesResident || held + reader.codeBytes > room) continue;
        held += reader.codeBytes;
        this.#promoted++;
        reader.promoteCodes().catch(() => undefined); // a failed read leaves it without codes in memory
      }
    }
    for (const entry of candidates) {
      if (held >= room) break;
      for (const reader of entry.value.slabReaders()) {
        if (reader.resident || !reader.sheddable) continue;
        const added = reader.vectorBytes - (reader.codesResident ? reader.codeBytes : 0);
        if (held + added > room) continue;
        held += added;
        this.#promoted++;
        reader
          .promote()
          .then(() => {
            if (reader.resident) this.#shedCodes(reader, false);
          })
          .catch(() => undefined); // a failed read leaves it read by range
      }
    }
    this.#held = held;
  }

  /** Drops a slab's codes from memory (tracked until collected); returns the bytes freed. */
  #shedCodes(reader: SlabReader, count = true): number {
    const codes = reader.residentCodes;
    const freed = reader.shedCodes();
    if (freed > 0) {
      if (count) this.#shed++;
      this.#released?.track(codes!.buffer, freed);
    }
    return freed;
  }

  /** A new budget, from the next trim on (the node's own memory was measured again). */
  setBudget(bytes: number): void {
    this.#policy = { ...this.#policy, budgetBytes: bytes };
  }

  stats(): ResidentStats {
    const memory: ResidentMemory = { memtables: 0, slabs: 0, fixed: 0, compactions: 0 };
    let open = 0;
    for (const entry of this.#entries.values()) {
      if (entry.value === undefined) continue;
      open++;
      const m = entry.value.memory();
      memory.memtables += m.memtables;
      memory.slabs += m.slabs;
      memory.fixed += m.fixed;
      memory.compactions += m.compactions;
    }
    return {
      budgetBytes: this.#policy.budgetBytes,
      open,
      memory,
      closedIdle: this.#closedIdle,
      closedForBudget: this.#closedForBudget,
      promoted: this.#promoted,
      shed: this.#shed,
      released: this.#released?.bytes ?? 0,
    };
  }
}
