import { z } from 'zod';
import { indexNameSchema, PermissionDeniedError } from '@conifer/core';
import {
  INDEX_JOB_STATES,
  type ControlPlane,
  type IndexJob,
  type IndexJobKind,
  type IndexJobState,
  type IndexRecord,
  type NodeMemory,
  type NodeRole,
  type NodeState,
} from '@conifer/control';
import type { DataPlane, IndexHandle, NamespaceInternals, NamespaceSummary } from '@conifer/engine';
import type { AuthContext } from './auth.ts';
import { handleOf, resolveLiveIndex } from './index-service.ts';
import type { ForwardingDataPlane } from './data-service.ts';

/*
 * The operators' view of a cluster (docs/adr/0006-cluster-roles.md): its nodes, the index-build
 * jobs writers queue for indexers, and where each namespace of an index lives. Operator admin keys
 * only. The same calls answer in the single process, which is every role at once: one node that
 * owns every namespace, no query replicas, and an empty job queue.
 */

/** Most jobs one call lists. */
export const CLUSTER_JOBS_MAX_LIMIT = 500;
export const CLUSTER_JOBS_DEFAULT_LIMIT = 50;
/** Most namespaces one ownership view describes (each is one call to its writer and one to its query node). */
export const CLUSTER_NAMESPACES_MAX_LIMIT = 1000;
export const CLUSTER_NAMESPACES_DEFAULT_LIMIT = 100;
/** Namespaces described at once. */
const DESCRIBE_CONCURRENCY = 8;

function limitSchema(max: number, fallback: number) {
  return z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(1, { error: `must be 1–${max}` })
    .max(max, { error: `must be at most ${max}` })
    .default(fallback);
}

/** Recent jobs, the most recently changed first; only those in `state` when it is given. */
export const clusterJobsQuerySchema = z.object({
  state: z.array(z.enum(INDEX_JOB_STATES, { error: `must be one of ${INDEX_JOB_STATES.join(', ')}` }), { error: 'must be a list of job states' }).optional(),
  limit: limitSchema(CLUSTER_JOBS_MAX_LIMIT, CLUSTER_JOBS_DEFAULT_LIMIT),
});

/** The namespaces of one index of the caller's project, first `limit` by name. */
export const clusterNamespacesQuerySchema = z.object({
  index: z.string({ error: (issue) => (issue.input === undefined ? 'is required: the name of an index' : 'must be a string') }).pipe(indexNameSchema),
  limit: limitSchema(CLUSTER_NAMESPACES_MAX_LIMIT, CLUSTER_NAMESPACES_DEFAULT_LIMIT),
});

/** One node of the cluster as operators see it (times as ISO strings). */
export interface ClusterNodeView {
  id: string;
  roles: NodeRole[];
  url: string;
  state: NodeState;
  startedAt: string;
  heartbeatAt: string;
  /** Time since its last heartbeat, by the database's clock. */
  sinceHeartbeatMs: number;
  /** Its last heartbeat is younger than `leaseMs`. */
  live: boolean;
  /** Its memory budget and use as of its last heartbeat; null when it did not say. */
  memory: NodeMemory | null;
}

export interface ClusterView {
  /** A node silent for longer than this is not live. */
  leaseMs: number;
  /** Every node with a membership row, oldest first. */
  nodes: ClusterNodeView[];
}

/** One index-build job (a compaction or an ANN-index build a writer queued for an indexer). */
export interface ClusterJobView {
  id: string;
  indexId: string;
  /** The index's name and project, or null when the index has been deleted since. */
  index: string | null;
  projectId: string | null;
  /** "" is the default namespace. */
  namespace: string;
  kind: IndexJobKind;
  state: IndexJobState;
  /** Claims so far (a job whose indexer died is claimed again, up to the configured attempts). */
  attempts: number;
  /** Slab ids the build reads. */
  inputs: string[];
  /** The manifest version and writer epoch the writer planned it against. */
  baseVersion: number;
  writerEpoch: number;
  /** The node holding (or that last held) the claim. */
  claimedBy: string | null;
  /** The claim's last heartbeat, by the database's clock. */
  heartbeatAt: string | null;
  /** The last failure reported (kept across retries). */
  error: string | null;
  createdAt: string;
  /** The last change of state or claimer. */
  updatedAt: string;
  /** Time since it was queued, by the clock of the node that answered. */
  ageMs: number;
}

export interface ClusterJobsView {
  /** The most recently changed first. */
  jobs: ClusterJobView[];
}

/** A node named in the ownership view. */
export interface ClusterNodeRef {
  id: string;
  /** Where the other nodes reach it ("" for a single process that has not joined the membership yet). */
  url: string;
}

/** Where one namespace lives and how far each copy has got. */
export interface ClusterNamespaceView {
  /** "" is the default namespace. */
  namespace: string;
  recordCount: number;
  /** The writer that owns it (this node in the single process); null when no writer is live, or nothing could be described. */
  writer: ClusterNodeRef | null;
  /** The writer's state of the namespace; null when the writer did not answer (see `error`). */
  writerEpoch: number | null;
  manifestVersion: number | null;
  /** Highest LSN the writer durably logged. */
  writtenLsn: number | null;
  /** Highest LSN in the slabs of its manifest (the rest is in its memtable). */
  flushedLsn: number | null;
  /** The writer has taken the namespace over (committed its epoch); false until its next write when it just became the owner. */
  takenOver: boolean | null;
  /** The query node serving its reads; null when the cluster has none (the writer serves them; always so in the single process). */
  query: ClusterNodeRef | null;
  /** The LSN the query node's replica has applied; null without a query node or when it did not answer. */
  appliedLsn: number | null;
  /** `writtenLsn - appliedLsn` (never below 0): writes the replica has not read yet. */
  lagLsn: number | null;
  /** Why part of the row is missing (a node that did not answer), naming the node. */
  error?: string;
}

export interface ClusterNamespacesView {
  index: string;
  /** One process with every role: it owns every namespace and serves its reads, with no replicas. */
  singleProcess: boolean;
  /** Namespaces of the index; `namespaces` holds the first `limit` of them by name. */
  totalCount: number;
  namespaces: ClusterNamespaceView[];
}

/** One copy of a namespace as the routing data plane found it: its internals, or why it could not describe them. */
export type NamespaceCopy = { node: ClusterNodeRef; internals: NamespaceInternals } | { node: ClusterNodeRef; error: string };

/**
 * Where a namespace lives in a cluster, as the data plane that routes to it sees it: the owner
 * writer (the rendezvous winner among live writers) and the query node serving it (the same over
 * live query nodes), each with its description of the namespace. A query node's `writtenLsn` is
 * its replica's applied LSN.
 */
export interface NamespacePlacement {
  writer: NamespaceCopy | null;
  query: NamespaceCopy | null;
}

/**
 * The data plane the services take. A cluster gateway's (`RoutedDataPlane` of `@conifer/cluster`)
 * also says where each namespace lives; the single process's engine does not, and owns them all.
 */
export type ServiceDataPlane = DataPlane &
  Partial<ForwardingDataPlane> & {
    describePlacement?(index: IndexHandle, namespace: string): Promise<NamespacePlacement>;
  };

export interface ClusterService {
  /** The cluster's nodes, their roles and heartbeats. Operator admin keys only. */
  clusterNodes(auth: AuthContext): Promise<ClusterView>;
  /** Recent index-build jobs, the most recently changed first. Operator admin keys only. */
  clusterJobs(auth: AuthContext, input: z.output<typeof clusterJobsQuerySchema>): Promise<ClusterJobsView>;
  /**
   * Which writer owns each namespace of an index of the caller's project, its epoch and LSNs, and
   * which query node serves it and how far its replica trails. Operator admin keys only.
   */
  clusterNamespaces(auth: AuthContext, input: z.output<typeof clusterNamespacesQuerySchema>): Promise<ClusterNamespacesView>;
}

/** `items` through `fn`, at most `concurrency` at once, in order. */
async function mapLimited<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += concurrency) out.push(...(await Promise.all(items.slice(i, i + concurrency).map(fn))));
  return out;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function jobView(job: IndexJob, index: IndexRecord | undefined, now: number): ClusterJobView {
  return {
    id: job.id,
    indexId: job.indexId,
    index: index?.name ?? null,
    projectId: index?.projectId ?? null,
    namespace: job.namespace,
    kind: job.kind,
    state: job.state,
    attempts: job.attempts,
    inputs: [...job.inputs],
    baseVersion: job.baseVersion,
    writerEpoch: job.writerEpoch,
    claimedBy: job.claimedBy,
    heartbeatAt: job.heartbeatAt?.toISOString() ?? null,
    error: job.error,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    ageMs: Math.max(0, Math.round(now - job.createdAt.getTime())),
  };
}

/** One copy of a namespace as a row shows it: where, and what it holds or why it could not say. */
interface CopyParts {
  node: ClusterNodeRef | null;
  internals?: NamespaceInternals;
  error?: string;
}

function copyParts(copy: NamespaceCopy | null): CopyParts {
  if (copy === null) return { node: null };
  return 'internals' in copy ? { node: copy.node, internals: copy.internals } : { node: copy.node, error: `${copy.node.id}: ${copy.error}` };
}

/** A row from the copies found; a copy that did not answer leaves its fields null and says why. */
function namespaceView(ns: NamespaceSummary, writer: CopyParts, query: CopyParts): ClusterNamespaceView {
  const written = writer.internals;
  const replica = query.internals;
  const errors = [writer.error, query.error].filter((e) => e !== undefined);
  return {
    namespace: ns.name,
    recordCount: ns.recordCount,
    writer: writer.node,
    writerEpoch: written?.writerEpoch ?? null,
    manifestVersion: written?.manifestVersion ?? null,
    writtenLsn: written?.writtenLsn ?? null,
    flushedLsn: written?.flushedLsn ?? null,
    takenOver: written?.owner ?? null,
    query: query.node,
    appliedLsn: replica?.writtenLsn ?? null,
    // The replica is described first, then the writer: a write landing in between can only make the
    // writer look further ahead, never behind; never below 0 all the same.
    lagLsn: written && replica ? Math.max(0, written.writtenLsn - replica.writtenLsn) : null,
    ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
  };
}

export function createClusterService(deps: {
  control: ControlPlane;
  data: ServiceDataPlane;
  operatorProjectId?: string | undefined;
  /** This process's id in the membership: the single process names itself as every namespace's owner. */
  nodeId?: string | undefined;
  /** Wall clock for job ages. Default `Date.now`. */
  clock?: (() => number) | undefined;
}): ClusterService {
  const { control, data } = deps;
  const clock = deps.clock ?? Date.now;
  function assertOperator(auth: AuthContext): void {
    const operator = auth.role === 'admin' && deps.operatorProjectId !== undefined && auth.projectId === deps.operatorProjectId;
    if (!operator) throw new PermissionDeniedError('Reading the cluster needs an admin key of the operator project.');
  }

  /** This node, as the single process's owner of every namespace. */
  async function self(): Promise<ClusterNodeRef | null> {
    if (deps.nodeId === undefined) return null;
    const row = (await control.membership.nodes(control.config.nodeLeaseMs)).find((n) => n.id === deps.nodeId);
    return { id: deps.nodeId, url: row?.url ?? '' };
  }

  /**
   * The single process: its own engine holds the namespace and serves its reads. Its node is
   * unknown only when the services were built without `nodeId` (embedded use).
   */
  async function describeLocally(handle: IndexHandle, ns: NamespaceSummary, node: ClusterNodeRef | null): Promise<ClusterNamespaceView> {
    try {
      return namespaceView(ns, { node, internals: await data.describeNamespace(handle, ns.name) }, { node: null });
    } catch (err) {
      return namespaceView(ns, { node, error: messageOf(err) }, { node: null });
    }
  }

  /** A cluster gateway: where its routing sends the namespace. */
  async function describeRouted(
    describePlacement: NonNullable<ServiceDataPlane['describePlacement']>,
    handle: IndexHandle,
    ns: NamespaceSummary,
  ): Promise<ClusterNamespaceView> {
    try {
      const { writer, query } = await describePlacement(handle, ns.name);
      return namespaceView(ns, copyParts(writer), copyParts(query));
    } catch (err) {
      return namespaceView(ns, { node: null, error: messageOf(err) }, { node: null });
    }
  }

  return {
    async clusterNodes(auth) {
      assertOperator(auth);
      const leaseMs = control.config.nodeLeaseMs;
      const nodes = await control.membership.nodes(leaseMs);
      return {
        leaseMs,
        nodes: nodes.map((n) => ({
          id: n.id,
          roles: [...n.roles],
          url: n.url,
          state: n.state,
          startedAt: n.startedAt.toISOString(),
          heartbeatAt: n.heartbeatAt.toISOString(),
          sinceHeartbeatMs: Math.round(n.sinceHeartbeatMs),
          live: n.live,
          memory: n.memory ?? null,
        })),
      };
    },

    async clusterJobs(auth, { state, limit }) {
      assertOperator(auth);
      const jobs = await control.indexJobs.list({ states: state, limit });
      const indexes = new Map((await control.indexes.byIds(jobs.map((j) => j.indexId))).map((i) => [i.id, i]));
      const now = clock();
      return { jobs: jobs.map((job) => jobView(job, indexes.get(job.indexId), now)) };
    },

    async clusterNamespaces(auth, { index, limit }) {
      assertOperator(auth);
      const record = await resolveLiveIndex(control, auth, index);
      const handle = handleOf(record);
      const all = (await data.listNamespaces(handle)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const describePlacement = data.describePlacement?.bind(data);
      const node = describePlacement ? null : await self();
      const namespaces = await mapLimited(all.slice(0, limit), DESCRIBE_CONCURRENCY, (ns) =>
        describePlacement ? describeRouted(describePlacement, handle, ns) : describeLocally(handle, ns, node),
      );
      return { index: record.name, singleProcess: describePlacement === undefined, totalCount: all.length, namespaces };
    },
  };
}
