/**
 * Time as the product reads it, injected (SlateDB's `SystemClock`): the engine, the request log's
 * writer, slab ids, manifests and background timers take a `Clock` instead of reading
 * `Date.now()` or calling `setTimeout`, so a test or a simulation can run them on a clock of its
 * own and replay an interleaving from a seed.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Calls `fn` once, `ms` milliseconds of this clock from now; returns a function that cancels it.
   * The timer never keeps the process alive on its own.
   */
  after(ms: number, fn: () => void): () => void;
}

/** The machine's clock and timers. */
export const SYSTEM_CLOCK: Clock = Object.freeze({
  now: () => Date.now(),
  after(ms: number, fn: () => void) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
});

/** Resolves after `ms` milliseconds of `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.after(ms, resolve));
}

/** Calls `fn` every `ms` milliseconds of `clock` until the returned function is called. */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let cancel: () => void;
  const arm = () => {
    cancel = clock.after(ms, () => {
      arm();
      fn();
    });
  };
  arm();
  return () => cancel();
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to (`advance`), for tests and simulations. Timers fire in the
 * order of their due time (then of their creation), each when `advance` passes it; time stands
 * still while they run.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: ManualTimer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** When the next timer is due, if any. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const t of this.#timers) if (next === undefined || t.at < next) next = t.at;
    return next;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      let first: ManualTimer | undefined;
      for (const t of this.#timers) if (t.at <= until && (!first || t.at < first.at || (t.at === first.at && t.seq < first.seq))) first = t;
      if (!first) break;
      this.#timers = this.#timers.filter((t) => t !== first);
      this.#now = Math.max(this.#now, first.at);
      first.fn();
    }
    this.#now = until;
  }
}
