import type { ClusterNode, Membership, NodeRole } from '@conifer/control';

/**
 * A node's view of the cluster, for routing: the membership table read every `refreshMs`. When the
 * database cannot be read (a PostgreSQL restart), the last membership read stays in use, so the
 * data path keeps serving. Nodes this process failed to connect to are set aside for `suspectMs`
 * (about one lease): a writer killed a moment ago stops receiving requests at once, not when its
 * heartbeat lapses.
 */
export interface NodeDirectoryOptions {
  membership: Membership;
  /** A node is live while its last heartbeat is younger than this (by the database's clock). */
  leaseMs: number;
  refreshMs: number;
  suspectMs?: number;
  onError?: (err: unknown) => void;
  /** Time of suspicions. Default `Date.now`. */
  now?: () => number;
}

export class NodeDirectory {
  readonly #options: NodeDirectoryOptions;
  readonly #suspects = new Map<string, number>();
  readonly #listeners = new Set<(nodes: readonly ClusterNode[]) => void>();
  #nodes: ClusterNode[] = [];
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #loaded = false;
  /** Until then, heartbeats that lapsed during a database outage are not trusted (see `#afterOutage`). */
  #trustAfter = 0;

  constructor(options: NodeDirectoryOptions) {
    this.#options = options;
  }

  /** Reads the membership now and then every `refreshMs`; resolves after the first read (or its failure). */
  async start(): Promise<void> {
    this.#timer ??= setInterval(() => void this.refresh(), this.#options.refreshMs);
    this.#timer.unref();
    await this.refresh();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads the membership again (one read at a time; concurrent callers share it). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#options.membership
      .nodes(this.#options.leaseMs)
      .then(
        (read) => {
          const nodes = this.#afterOutage(read);
          this.#nodes = nodes;
          this.#loaded = true;
          for (const listener of this.#listeners) listener(nodes);
        },
        (err: unknown) => {
          // Every heartbeat lapses while the database is away, the live nodes' too.
          this.#trustAfter = this.#now() + this.#options.leaseMs + this.#options.refreshMs;
          this.#options.onError?.(err);
        },
      )
      .finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  /**
   * Right after the database was unreachable, a heartbeat that lapsed says nothing about the node
   * — nobody could write one. Nodes live before the outage stay live until their heartbeats have
   * had a lease to resume; a node that is really gone refuses connections and is set aside then.
   */
  #afterOutage(read: ClusterNode[]): ClusterNode[] {
    if (this.#now() >= this.#trustAfter) return read;
    const wasLive = new Set(this.#nodes.filter((n) => n.live).map((n) => n.id));
    return read.map((n) => (!n.live && wasLive.has(n.id) ? { ...n, live: true } : n));
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /** Live, active nodes with `role` that are not suspected; reads the membership first if it never has. */
  async nodes(role: NodeRole): Promise<ClusterNode[]> {
    if (!this.#loaded) await this.refresh();
    const now = this.#now();
    return this.#nodes.filter((n) => n.live && n.state === 'active' && n.roles.includes(role) && !((this.#suspects.get(n.id) ?? 0) > now));
  }

  /** Calls `listener` with the membership after every successful read. */
  onRefresh(listener: (nodes: readonly ClusterNode[]) => void): void {
    this.#listeners.add(listener);
  }

  /** Sets a node aside after a failed connection. */
  suspect(id: string): void {
    this.#suspects.set(id, this.#now() + (this.#options.suspectMs ?? this.#options.leaseMs));
  }
}
