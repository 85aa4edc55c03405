import type { LogEntry } from '@conifer/log';
import { locateRecord, type Snapshot } from '@conifer/router';
import type { SlabReader } from '@conifer/slab';

/**
 * The vectors that update entries read from slabs held by range, read before the entries apply.
 *
 * A log entry applies synchronously (an acknowledged write is visible at once, and replay must
 * reproduce it exactly), but an update merges into the record's metadata and, unless it replaces
 * it, keeps the record's vector: both may sit in the object store, in a slab read by range. So before entries apply, the log asks
 * `ready`; while rows are missing it awaits `load`, and asks again — until a synchronous `ready`
 * finds every row in memory, and the entries apply in the same step.
 */
export class UpdateReads {
  #loaded = new WeakMap<SlabReader, Map<number, Float32Array>>();
  readonly #snapshot: () => Snapshot;

  constructor(snapshot: () => Snapshot) {
    this.#snapshot = snapshot;
  }

  /** Whether every slab row the entries' updates read (its metadata, and its vector unless replaced) is in memory. */
  ready(entries: readonly LogEntry[]): boolean {
    return this.#missing(entries).length === 0;
  }

  /** Reads the missing rows' vectors. */
  async load(entries: readonly LogEntry[]): Promise<void> {
    await Promise.all(
      this.#missing(entries).map(async ({ reader, row, values: needed }) => {
        await reader.load('metadata');
        if (!needed) return;
        const values = await reader.valuesAsync(row);
        if (!values) return;
        let rows = this.#loaded.get(reader);
        if (!rows) this.#loaded.set(reader, (rows = new Map()));
        rows.set(row, values);
      }),
    );
  }

  /** A row's vector read by `load`. */
  values(reader: SlabReader, row: number): Float32Array | undefined {
    return this.#loaded.get(reader)?.get(row);
  }

  /** Forgets what was read (the entries applied). */
  done(): void {
    this.#loaded = new WeakMap();
  }

  #missing(entries: readonly LogEntry[]): { reader: SlabReader; row: number; values: boolean }[] {
    const missing: { reader: SlabReader; row: number; values: boolean }[] = [];
    let snapshot: Snapshot | undefined;
    for (const { op } of entries) {
      if (op.kind !== 'update') continue;
      snapshot ??= this.#snapshot();
      for (const id of op.ids) {
        const at = locateRecord(snapshot, id);
        if (!at || 'record' in at) continue;
        const values = !op.values && !at.reader.resident && !this.values(at.reader, at.row);
        if (values || !at.reader.loaded('metadata')) missing.push({ ...at, values });
      }
    }
    return missing;
  }
}

/** Rounds of reading ahead before an entry applies, at most. */
const ROUNDS = 8;

/**
 * Applies entries in order, each once `reads` has what it needs (a query replica following the
 * log; the writer's log does the same itself).
 */
export async function applyWithReads(reads: UpdateReads, entries: readonly LogEntry[], apply: (entry: LogEntry) => void): Promise<void> {
  for (const entry of entries) {
    const one = [entry];
    for (let round = 0; !reads.ready(one); round++) {
      if (round === ROUNDS) throw new Error(`the records update LSN ${entry.lsn} reads kept moving between slabs`);
      await reads.load(one);
    }
    apply(entry);
    reads.done();
  }
}
