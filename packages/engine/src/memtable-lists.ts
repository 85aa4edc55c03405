import type { Memtable } from '@conifer/memtable';
import type { ListAssigner } from '@conifer/slab';
import type { Logger } from 'pino';

/** Rows assigned per search of the quantizer's groups: a few milliseconds on the libuv pool. */
const ROWS_PER_ASSIGNMENT = 2048;

export interface MemtableListsOptions {
  name: string;
  /** Where a failed assignment is reported (a replica has none: its rows stay scanned exactly). */
  logger?: Logger | undefined;
  /** Every memtable, newest first. */
  memtables: () => Memtable[];
  /** The namespace's quantizer, while it has one. */
  assigner: () => ListAssigner | undefined;
  closing: () => boolean;
}

/**
 * Keeps a namespace's memtables' rows in groups of its quantizer's lists (ListAssigner), a batch
 * at a time behind the writes, so that a query scans the rows of the groups it probes rather than
 * every row written since the last flush (see the router's searchMemtableVectors); a flushed slab
 * keeps its memtable's groups until it is indexed. Rows written since the last batch are scanned
 * exactly: a bounded tail. The groups are derived state, in memory only: a replayed memtable is
 * assigned again, and a failure leaves its rows scanned exactly.
 */
export class MemtableLists {
  readonly #options: MemtableListsOptions;
  #loop: Promise<void> | undefined;

  constructor(options: MemtableListsOptions) {
    this.#options = options;
  }

  /** The assignment under way, if any. */
  get running(): Promise<void> | undefined {
    return this.#loop;
  }

  /** Starts assigning the rows written since the last batch, unless that runs already. */
  kick(): void {
    if (this.#loop || this.#options.closing()) return;
    // Every write and every tick of every open namespace comes here: a quiet or small namespace
    // (no quantizer, or nothing new) must not start a loop each time.
    const assigner = this.#options.assigner();
    if (!assigner || !this.#options.memtables().some((memtable) => memtable.hasUnassigned(assigner))) return;
    this.#loop = this.#run()
      .catch((err: unknown) => {
        // Derived state only: the rows stay scanned exactly.
        this.#options.logger?.warn({ err, namespace: this.#options.name }, 'assigning memtable rows to lists failed');
      })
      .finally(() => {
        this.#loop = undefined;
      });
  }

  async #run(): Promise<void> {
    for (;;) {
      const assigner = this.#options.assigner();
      if (!assigner || this.#options.closing()) return;
      let batch: { memtable: Memtable; slots: Int32Array; vectors: Float32Array } | undefined;
      // Oldest first: a frozen memtable is flushed next, and its slab keeps the groups its rows
      // have by then (rows without one are scanned exactly until the slab is indexed).
      for (const memtable of this.#options.memtables().toReversed()) {
        const rows = memtable.unassignedRows(assigner, ROWS_PER_ASSIGNMENT);
        if (rows) {
          batch = { memtable, ...rows };
          break;
        }
      }
      if (!batch) return;
      const lists = await assigner.assign(batch.vectors);
      batch.memtable.assignLists(assigner, batch.slots, lists);
    }
  }
}
