import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Clock } from '@conifer/core';

/**
 * Memory a node has let go of that the process may still hold. Dropping a slab reader (a
 * compaction replaced it, its namespace closed) or shedding its vectors frees nothing by itself:
 * the garbage collector frees the buffers later — seconds later, for a large heap with little
 * allocation — while a memory budget that counted them as freed at once would promote other
 * slabs' vectors into the same room, holding both. So what was let go stays here until its
 * buffers are collected (a FinalizationRegistry says when), and promotions leave its room
 * alone. Shedding never counts it: freeing more would not free this any sooner.
 *
 * An entry also leaves after `maxAgeMs`, collected or not: something that keeps a dropped reader
 * alive that long (a slow response still streaming its rows) is not worth holding every
 * promotion back for.
 *
 * Waiting is not enough before a merge: a node that only compacts allocates next to nothing on
 * its event loop's heap (the merge allocates in its worker), so nothing prompts a collection
 * there, and shed vectors stayed in memory beside the merge's working memory for tens of seconds.
 * So `collect` runs a full collection when enough was let go of since the last one.
 */
export class ReleasedMemory {
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  readonly #pending = new Set<Pending>();
  readonly #registry = new FinalizationRegistry<Pending>((pending) => {
    if (this.#pending.delete(pending)) this.#bytes -= pending.bytes;
    this.#collected++;
  });
  /** The sum of the pending entries' bytes: read on every promotion, so kept rather than summed. */
  #bytes = 0;
  #collected = 0;
  /** Bytes tracked since the last forced collection. */
  #sinceCollection = 0;

  constructor(clock: Clock, maxAgeMs = DEFAULT_MAX_AGE_MS) {
    this.#clock = clock;
    this.#maxAgeMs = maxAgeMs;
  }

  /** `bytes` that the collection of `target` frees (a buffer, or the reader that holds them). */
  track(target: object, bytes: number): void {
    if (bytes <= 0) return;
    this.#sinceCollection += bytes;
    const pending: Pending = { bytes, at: this.#clock.now() };
    this.#pending.add(pending);
    this.#bytes += bytes;
    this.#registry.register(target, pending);
  }

  /** Bytes let go of and not yet collected (nor older than the maximum age). */
  get bytes(): number {
    // Entries are in the order they were tracked, so by age: the expired ones come first.
    const oldest = this.#clock.now() - this.#maxAgeMs;
    for (const pending of this.#pending) {
      if (pending.at >= oldest) break;
      this.#pending.delete(pending);
      this.#bytes -= pending.bytes;
    }
    return this.#bytes;
  }

  /**
   * Runs a full garbage collection now if at least `minBytes` were let go of since the last one
   * (a pause of the event loop: for before a large allocation, such as a merge's); returns whether
   * it ran. What it frees leaves the count when the registry's callbacks run, a task later.
   */
  collect(minBytes = COLLECT_FROM_BYTES): boolean {
    if (this.#sinceCollection < minBytes) return false;
    this.#sinceCollection = 0;
    fullCollection();
    return true;
  }

  /** Entries waiting for their collection (diagnostics and tests). */
  get size(): number {
    return this.#pending.size;
  }

  /** How many entries were collected since start. */
  get collected(): number {
    return this.#collected;
  }
}

interface Pending {
  bytes: number;
  at: number;
}

/** A minute: far longer than a collection takes to come on a busy node. */
export const DEFAULT_MAX_AGE_MS = 60_000;

/** Below this, what a collection would free is not worth its pause. */
export const COLLECT_FROM_BYTES = 64 * 1024 * 1024;

let gc: (() => void) | undefined;

/**
 * A full collection of this thread's heap. V8 gives scripts its `gc` only when asked for it by
 * flag; setting the flag at run time exposes it to contexts created afterwards, so one new
 * context fetches it (node started with --expose-gc has it already).
 */
function fullCollection(): void {
  gc ??= typeof globalThis.gc === 'function' ? globalThis.gc : exposeGc();
  gc();
}

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
