/**
 * How much flushing and compacting the server did, from its engine view (`namespaces.internals`).
 * The counters live in each open namespace of the running process, so a restart or a namespace
 * delete starts them from zero again. They are polled every few seconds and before each stop; a
 * counter lower than at the last poll was reset, and its new value counts whole. What happened
 * between the last poll and a reset is missed: the totals are lower bounds.
 */
import type { Conifer } from '@conifer/sdk';

export interface ActivityTotals {
  flushes: number;
  compactions: number;
}

export class EngineActivity {
  readonly totals: ActivityTotals = { flushes: 0, compactions: 0 };
  readonly #admin: Conifer;
  readonly #namespaces: () => { index: string; name: string }[];
  readonly #last = new Map<string, ActivityTotals>();
  #polling: Promise<void> | undefined;

  /** `namespaces`: the ones to read (those that may exist). */
  constructor(admin: Conifer, namespaces: () => { index: string; name: string }[]) {
    this.#admin = admin;
    this.#namespaces = namespaces;
  }

  /** Reads every namespace's counters once (a poll already under way is waited for instead). */
  poll(): Promise<void> {
    this.#polling ??= this.#poll().finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  async #poll(): Promise<void> {
    for (const { index, name } of this.#namespaces()) {
      let now: ActivityTotals;
      try {
        const internals = await this.#admin.index(index).namespaceInternals(name);
        now = { flushes: internals.flushes, compactions: internals.compactions };
      } catch {
        continue; // the server went away, or the namespace was just deleted
      }
      const key = `${index}\u0000${name}`;
      const last = this.#last.get(key) ?? { flushes: 0, compactions: 0 };
      this.totals.flushes += now.flushes >= last.flushes ? now.flushes - last.flushes : now.flushes;
      this.totals.compactions += now.compactions >= last.compactions ? now.compactions - last.compactions : now.compactions;
      this.#last.set(key, now);
    }
  }
}
