/**
 * The open namespaces' share of the memory budget: what is left of `available` (the budget less the
 * caches' shares) once the process's own memory is set aside, and at least a quarter of the budget
 * (`floored` when that floor applies: a budget too small for the process itself).
 */
export function namespaceShare(memoryBudget: number, available: number, processBytes: number): { bytes: number; floored: boolean } {
  const floor = Math.floor(memoryBudget / 4);
  const left = available - processBytes;
  return left >= floor ? { bytes: left, floored: false } : { bytes: floor, floored: true };
}

/** One reading of the process's memory, for {@link ProcessMemory.observe}. */
export interface MemoryReading {
  /** The process's resident memory. */
  rssBytes: number;
  /** What the budget counts now: open namespaces, replicas, the caches. */
  countedBytes: number;
  /**
   * No compaction running and nothing let go of awaiting collection: the counted memory is what is
   * held. (A compaction is counted when it starts, before it allocates; released memory is held
   * until a collection frees it.)
   */
  quiet: boolean;
}

/**
 * The process's own memory: what it holds beyond what the budget counts (the runtime, the code, the
 * embedded database, the allocator's slack). At start it is the resident memory once the control
 * plane is open, which still holds what starting up used and freed: the allocator gives that back
 * over seconds. After that, each quiet reading may lower it to the resident memory less what the
 * budget counts, never below `floorBytes` (the resident memory before the database opened). It only
 * goes down, so the namespaces' share only grows: a trim never closes namespaces because another
 * closed.
 */
export class ProcessMemory {
  #bytes: number;
  readonly #floor: number;

  constructor(startBytes: number, floorBytes: number) {
    this.#floor = Math.min(floorBytes, startBytes);
    this.#bytes = startBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Takes a reading; true when it lowered the process's own memory. */
  observe(reading: MemoryReading): boolean {
    if (!reading.quiet) return false;
    const own = Math.max(this.#floor, reading.rssBytes - reading.countedBytes);
    if (own >= this.#bytes) return false;
    this.#bytes = own;
    return true;
  }
}
