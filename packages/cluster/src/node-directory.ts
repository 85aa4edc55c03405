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
        (nodes) => {
          this.#nodes = nodes;
          this.#loaded = true;
          for (const listener of this.#listeners) listener(nodes);
        },
        (err: unknown) => this.#options.onError?.(err),
      )
      .finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  /** Live, active nodes with `role` that are not suspected; reads the membership first if it never has. */
  async nodes(role: NodeRole): Promise<ClusterNode[]> {
    if (!this.#loaded) await this.refresh();
    const now = (this.#options.now ?? Date.now)();
    return this.#nodes.filter((n) => n.live && n.state === 'active' && n.roles.includes(role) && !((this.#suspects.get(n.id) ?? 0) > now));
  }

  /** Calls `listener` with the membership after every successful read. */
  onRefresh(listener: (nodes: readonly ClusterNode[]) => void): void {
    this.#listeners.add(listener);
  }

  /** Sets a node aside after a failed connection. */
  suspect(id: string): void {
    this.#suspects.set(id, (this.#options.now ?? Date.now)() + (this.#options.suspectMs ?? this.#options.leaseMs));
  }
}
