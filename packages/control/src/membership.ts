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

/** What a node says about itself on each heartbeat. */
export interface NodeAnnouncement {
  id: string;
  roles: readonly NodeRole[];
  /** Where other nodes reach it (`http://10.0.0.5:5080`). */
  url: string;
  state: NodeState;
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

export function createMembership(db: Kysely<Database>): Membership {
  return {
    async heartbeat(node) {
      const roles = JSON.stringify([...node.roles]);
      await db
        .insertInto('cluster_nodes')
        .values({ id: node.id, roles, url: node.url, state: node.state })
        .onConflict((oc) => oc.column('id').doUpdateSet({ roles, url: node.url, state: node.state, heartbeat_at: sql<Date>`now()` }))
        .execute();
    },

    async nodes(leaseMs) {
      const rows = await db
        .selectFrom('cluster_nodes')
        .select(['id', 'roles', 'url', 'state', 'started_at', 'heartbeat_at'])
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
