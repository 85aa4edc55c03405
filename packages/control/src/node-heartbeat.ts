import type { Membership, NodeAnnouncement, NodeMemory, NodeState } from './membership.ts';

export interface NodeHeartbeatOptions {
  everyMs: number;
  /**
   * Rows of nodes silent for longer than this are removed (by whichever node gets there first,
   * every `forgetCheckMs`): a node that crashed stays visible as not live for this long.
   */
  forgetAfterMs?: number | undefined;
  /** How often this node removes forgotten rows. Default 60 000 (a minute). */
  forgetCheckMs?: number | undefined;
  /** A heartbeat that failed (the database is down or restarting); the next one retries. */
  onError?: ((error: unknown) => void) | undefined;
  /** The node's memory, sent with each heartbeat. */
  memory?: (() => NodeMemory) | undefined;
}

/**
 * Keeps one node's membership row fresh: a heartbeat at `start`, then every `everyMs`. A failed
 * heartbeat is reported and the timer goes on, so a database restart only makes the node look
 * late for a while. `drain` announces `draining` at once; `stop` removes the row.
 */
export class NodeHeartbeat {
  readonly #membership: Membership;
  readonly #options: NodeHeartbeatOptions;
  #node: NodeAnnouncement;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> = Promise.resolve();
  #stopped = false;
  #beats = 0;

  constructor(membership: Membership, node: NodeAnnouncement, options: NodeHeartbeatOptions) {
    this.#membership = membership;
    this.#node = node;
    this.#options = options;
  }

  get node(): NodeAnnouncement {
    return this.#node;
  }

  /** Starts beating and writes the first heartbeat (its failure is reported to the caller; the timer goes on). */
  async start(): Promise<void> {
    // The timer starts first: a first heartbeat that fails or hangs does not stop the later ones.
    this.#timer = setInterval(() => this.#beat(), this.#options.everyMs);
    this.#timer.unref();
    // In the chain like every beat, so drain and stop wait for it even if the caller gave up on it.
    const first = this.#membership.heartbeat(this.#announcement());
    this.#beating = first.catch(() => undefined);
    await first;
  }

  /** Announces `draining` now (best effort; the row's state is also sent with every later beat). */
  async drain(): Promise<void> {
    await this.#setState('draining');
  }

  /** Stops beating and removes the row; idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#beating;
    await this.#membership.leave(this.#node.id);
  }

  async #setState(state: NodeState): Promise<void> {
    this.#node = { ...this.#node, state };
    if (this.#stopped) return;
    await this.#beating;
    await this.#membership.heartbeat(this.#announcement());
  }

  /** The node as announced now: its state and, when known, its memory. */
  #announcement(): NodeAnnouncement {
    const memory = this.#options.memory?.();
    return memory ? { ...this.#node, memory } : this.#node;
  }

  #beat(): void {
    // One heartbeat at a time: a slow database must not pile them up.
    this.#beating = this.#beating.then(async () => {
      if (this.#stopped) return;
      try {
        await this.#membership.heartbeat(this.#announcement());
        const { forgetAfterMs, forgetCheckMs = 60_000, everyMs } = this.#options;
        if (forgetAfterMs !== undefined && ++this.#beats % Math.max(1, Math.round(forgetCheckMs / everyMs)) === 0) await this.#membership.prune(forgetAfterMs);
      } catch (error) {
        this.#options.onError?.(error);
      }
    });
  }
}
