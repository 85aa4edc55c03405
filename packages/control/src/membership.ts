import { sql, type Kysely } from 'kysely';
import { newId } from './ids.ts';
import type { Database } from './schema.ts';

/**
 * Cluster membership in the control-plane database (docs/adr/0006-cluster-roles.md): each node
 * upserts its row on every heartbeat, and the database's clock stamps it, so liveness is decided
 * by one clock whatever the nodes' clocks say. Membership is for routing; no data-safety decision
 * rests on it (the object store's epochs and create-if-absent writes do that).
 */

export const NODE_ROLES = ['gateway', 'writer', 'query', 'indexer'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

/** `active` takes new work; `draining` finishes what it holds and is routed around (SIGTERM). */
export type NodeState = 'active' | 'draining';

/** A node's memory budget and what its open namespaces hold (CONIFER_MEMORY_BUDGET). */
export interface NodeMemory {
  budgetBytes: number;
  /** Memtables, slabs of open namespaces and replicas, and the slab cache's memory tier. */
  usedBytes: number;
  /** Namespaces open in its writer plus replicas on its query role. */
  openNamespaces: number;
  /** Namespaces closed since it started, to stay within the budget or because they were idle. */
  closedNamespaces: number;
}

/** What a node says about itself on each heartbeat. */
export interface NodeAnnouncement {
  id: string;
  roles: readonly NodeRole[];
  /** Where other nodes reach it (`http://10.0.0.5:5080`). */
  url: string;
  state: NodeState;
  /** Its memory as of this heartbeat. */
  memory?: NodeMemory | undefined;
}

export interface ClusterNode extends NodeAnnouncement {
  startedAt: Date;
  heartbeatAt: Date;
  /** Time since its last heartbeat, by the database's clock, in ms. */
  sinceHeartbeatMs: number;
  /** Its last heartbeat is younger than the lease asked for. */
  live: boolean;
}

export interface Membership {
  /** Inserts or refreshes the node's row; the database stamps `heartbeatAt`. */
  heartbeat(node: NodeAnnouncement): Promise<void>;
  /** Every node with a row, oldest first, with `live` judged against `leaseMs` on the database's clock. */
  nodes(leaseMs: number): Promise<ClusterNode[]>;
  /** Removes the node's row (a clean exit). */
  leave(id: string): Promise<void>;
  /** Removes rows whose last heartbeat is older than `olderThanMs` (nodes that died without leaving); returns how many. */
  prune(olderThanMs: number): Promise<number>;
}

/** A fresh id for a node process (`node_…`): a restarted process is a new member. */
export function newNodeId(): string {
  return newId('node');
}

function isNodeRole(value: unknown): value is NodeRole {
  return typeof value === 'string' && (NODE_ROLES as readonly string[]).includes(value);
}

/** jsonb comes back parsed from `pg` and PGlite alike; anything unexpected is dropped rather than trusted. */
function rolesOf(value: unknown): NodeRole[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.filter(isNodeRole) : [];
}

/** A stored NodeMemory, or undefined when absent or not of that shape. */
function memoryOf(value: unknown): NodeMemory | undefined {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const m = parsed as Record<string, unknown>;
  const keys = ['budgetBytes', 'usedBytes', 'openNamespaces', 'closedNamespaces'] as const;
  if (!keys.every((k) => typeof m[k] === 'number')) return undefined;
  return {
    budgetBytes: m.budgetBytes as number,
    usedBytes: m.usedBytes as number,
    openNamespaces: m.openNamespaces as number,
    closedNamespaces: m.closedNamespaces as number,
  };
}

export function createMembership(db: Kysely<Database>): Membership {
  return {
    async heartbeat(node) {
      const roles = JSON.stringify([...node.roles]);
      const memory = node.memory ? JSON.stringify(node.memory) : null;
      await db
        .insertInto('cluster_nodes')
        .values({ id: node.id, roles, url: node.url, state: node.state, memory })
        .onConflict((oc) => oc.column('id').doUpdateSet({ roles, url: node.url, state: node.state, memory, heartbeat_at: sql<Date>`now()` }))
        .execute();
    },

    async nodes(leaseMs) {
      const rows = await db
        .selectFrom('cluster_nodes')
        .select(['id', 'roles', 'url', 'state', 'started_at', 'heartbeat_at', 'memory'])
        .select(sql<number>`extract(epoch from (now() - heartbeat_at)) * 1000`.as('since_ms'))
        .orderBy('started_at')
        .orderBy('id')
        .execute();
      return rows.map((row) => {
        const sinceHeartbeatMs = Math.max(0, Number(row.since_ms));
        return {
          id: row.id,
          roles: rolesOf(row.roles),
          url: row.url,
          state: row.state === 'draining' ? 'draining' : 'active',
          memory: memoryOf(row.memory),
          startedAt: row.started_at,
          heartbeatAt: row.heartbeat_at,
          sinceHeartbeatMs,
          live: sinceHeartbeatMs < leaseMs,
        };
      });
    },

    async leave(id) {
      await db.deleteFrom('cluster_nodes').where('id', '=', id).execute();
    },

    async prune(olderThanMs) {
      const result = await db
        .deleteFrom('cluster_nodes')
        .where('heartbeat_at', '<', sql<Date>`now() - ${olderThanMs} * interval '1 millisecond'`)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
