import { sql, type Kysely, type Selectable, type SqlBool } from 'kysely';
import { InvalidArgumentError } from '@conifer/core';
import { DEFAULT_CONFIG } from './config.ts';
import { newId } from './ids.ts';
import type { Database, IndexJobsTable } from './schema.ts';

/**
 * The index-build job queue (docs/adr/0006-cluster-roles.md, "Index builds are jobs in
 * PostgreSQL"). The writer of a namespace plans a compaction or an ANN-index build as a row;
 * indexers claim rows with `for update skip locked`, heartbeat while they build and report done or
 * failed; a claim whose heartbeat lapses (by the database's clock) is taken by the next claimer.
 * Only the current claimer can finish a job. The queue decides who builds, never what is
 * committed: the writer checks a done job's inputs against its manifest before swapping.
 */

export const INDEX_JOB_KINDS = ['compaction', 'index'] as const;
export type IndexJobKind = (typeof INDEX_JOB_KINDS)[number];

export const INDEX_JOB_STATES = ['pending', 'running', 'done', 'failed', 'cancelled'] as const;
export type IndexJobState = (typeof INDEX_JOB_STATES)[number];

/** Longest `error` kept: a stack trace of a failed build should not bloat the row. */
const MAX_ERROR_LENGTH = 4_000;

/** What the writer plans. */
export interface IndexJobPlan {
  indexId: string;
  /** "" is the default namespace. */
  namespace: string;
  kind: IndexJobKind;
  /** The slab ids the build reads. */
  inputs: readonly string[];
  /** The manifest version the job was planned against. */
  baseVersion: number;
  /** The epoch of the writer that planned it. */
  writerEpoch: number;
  /** Anything JSON the builder needs; opaque to the queue. Default `{}`. */
  params?: unknown;
}

/**
 * What a claimer reports with `complete`. `slabIds` are the slabs it wrote: they count as in flight
 * (`running`) until the job is pruned, since the writer may not have swapped them in yet. Other
 * fields are opaque to the queue.
 */
export interface IndexJobOutput {
  slabIds: readonly string[];
  [key: string]: unknown;
}

export interface IndexJob {
  id: string;
  indexId: string;
  namespace: string;
  kind: IndexJobKind;
  inputs: string[];
  baseVersion: number;
  writerEpoch: number;
  params: unknown;
  state: IndexJobState;
  /** Claims so far. */
  attempts: number;
  /** The node holding (or that last held) the claim. */
  claimedBy: string | null;
  /** The last heartbeat of the claim, by the database's clock. */
  heartbeatAt: Date | null;
  output: IndexJobOutput | null;
  /** The last failure reported (kept across retries). */
  error: string | null;
  createdAt: Date;
  /** The last change of state or claimer. */
  updatedAt: Date;
}

export interface IndexJobs {
  /**
   * Queues a pending job, or returns the unfinished (pending or running) job the namespace already
   * has, whatever it was planned against: a writer re-planning after a restart finds its job again,
   * and compares `inputs`/`baseVersion` to decide whether to `cancel` it and plan anew.
   */
  plan(job: IndexJobPlan): Promise<IndexJob>;
  /**
   * Claims the oldest job that is pending or whose claim's heartbeat is older than `leaseMs`, or
   * undefined when there is none. Two claimers never get the same job. A lapsed claim that has
   * used all its attempts is marked failed instead (a build that kills its indexer every time).
   */
  claim(nodeId: string, leaseMs: number): Promise<IndexJob | undefined>;
  /** Refreshes the claim; false when the job is no longer running under `nodeId` (the builder stops). */
  heartbeat(jobId: string, nodeId: string): Promise<boolean>;
  /** Marks the job done with its output; false when `nodeId` no longer holds the claim. */
  complete(jobId: string, nodeId: string, output: IndexJobOutput): Promise<boolean>;
  /**
   * Reports a failed build: pending again while attempts remain, else failed. False when `nodeId`
   * no longer holds the claim.
   */
  fail(jobId: string, nodeId: string, error: string): Promise<boolean>;
  /** Cancels a pending or running job (its inputs are no longer current); false when it had finished. */
  cancel(jobId: string): Promise<boolean>;
  get(jobId: string): Promise<IndexJob | undefined>;
  /** Every job of a namespace still in the table, oldest first. */
  forNamespace(indexId: string, namespace: string): Promise<IndexJob[]>;
  /** The most recently changed jobs first, optionally only in `states` (for the console). */
  list(query: { states?: readonly IndexJobState[] | undefined; limit: number }): Promise<IndexJob[]>;
  /**
   * Slab ids GC must keep for the namespace: inputs of pending and running jobs, and outputs of
   * done jobs not yet pruned. Sorted, no duplicates.
   */
  running(indexId: string, namespace: string): Promise<string[]>;
  /** Deletes done, failed and cancelled jobs unchanged for longer than `olderThanMs`; returns how many. */
  prune(olderThanMs: number): Promise<number>;
}

/**
 * Literal, not parameters: PostgreSQL uses a partial index (and `on conflict` finds its arbiter)
 * only when it can prove this implies the index's predicate, which it cannot for a `$1`. Must match
 * the predicates of migration 0005.
 */
const OPEN = sql<SqlBool>`state in ('pending', 'running')`;

/** A claim whose heartbeat is older than `leaseMs` by the database's clock. */
const lapsed = (leaseMs: number) => sql<SqlBool>`state = 'running' and heartbeat_at < now() - ${leaseMs} * interval '1 millisecond'`;

/** jsonb comes back parsed from `pg` and PGlite alike; a string is parsed to be safe. */
function json(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function toOutput(value: unknown): IndexJobOutput | null {
  const parsed = json(value);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const record = parsed as Record<string, unknown>;
  return { ...record, slabIds: strings(record['slabIds']) };
}

function toJob(row: Selectable<IndexJobsTable>): IndexJob {
  return {
    id: row.id,
    indexId: row.index_id,
    namespace: row.namespace,
    // Both are written only through this module, which checks them.
    kind: row.kind as IndexJobKind,
    inputs: strings(json(row.inputs)),
    baseVersion: Number(row.base_version),
    writerEpoch: Number(row.writer_epoch),
    params: json(row.params),
    state: row.state as IndexJobState,
    attempts: row.attempts,
    claimedBy: row.claimed_by,
    heartbeatAt: row.heartbeat_at,
    output: row.output === null ? null : toOutput(row.output),
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function checkPlan(job: IndexJobPlan): void {
  const fail = (field: string, message: string) => {
    throw InvalidArgumentError.at([field], message);
  };
  if (typeof job.indexId !== 'string' || job.indexId === '') fail('indexId', 'must be a non-empty string');
  if (typeof job.namespace !== 'string') fail('namespace', 'must be a string');
  if (!(INDEX_JOB_KINDS as readonly string[]).includes(job.kind)) fail('kind', `must be one of ${INDEX_JOB_KINDS.join(', ')}`);
  if (!Array.isArray(job.inputs) || job.inputs.length === 0 || !job.inputs.every((s) => typeof s === 'string' && s !== '')) {
    fail('inputs', 'must be a non-empty array of slab ids');
  }
  for (const field of ['baseVersion', 'writerEpoch'] as const) {
    if (!Number.isSafeInteger(job[field]) || job[field] < 0) fail(field, 'must be a non-negative integer');
  }
}

function checkMs(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw InvalidArgumentError.at([name], 'must be a non-negative number of ms');
}

/** The queue over `db`; a failed build is retried until it has been claimed `maxAttempts` times (default in `config.ts`). */
export function createIndexJobs(db: Kysely<Database>, options: { maxAttempts?: number | undefined } = {}): IndexJobs {
  const maxAttempts = options.maxAttempts ?? DEFAULT_CONFIG.indexJobMaxAttempts;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('maxAttempts must be a positive integer');
  const openOf = (indexId: string, namespace: string) =>
    db.selectFrom('index_jobs').selectAll().where('index_id', '=', indexId).where('namespace', '=', namespace).where(OPEN);
  /** Only the claimer of a running job may change it. */
  const claimed = (jobId: string, nodeId: string) =>
    db.updateTable('index_jobs').where('id', '=', jobId).where('claimed_by', '=', nodeId).where('state', '=', 'running');

  return {
    async plan(job) {
      checkPlan(job);
      const values = {
        index_id: job.indexId,
        namespace: job.namespace,
        kind: job.kind,
        inputs: JSON.stringify([...job.inputs]),
        base_version: job.baseVersion,
        writer_epoch: job.writerEpoch,
        params: JSON.stringify(job.params ?? {}),
        state: 'pending',
      };
      // The open job found by a losing insert can finish before it is read back; then insert again.
      for (let round = 0; round < 5; round++) {
        const inserted = await db
          .insertInto('index_jobs')
          .values({ id: newId('job'), ...values })
          .onConflict((oc) => oc.columns(['index_id', 'namespace']).where(OPEN).doNothing())
          .returningAll()
          .executeTakeFirst();
        const row = inserted ?? (await openOf(job.indexId, job.namespace).executeTakeFirst());
        if (row !== undefined) return toJob(row);
      }
      throw new Error(`could not plan a job for ${job.indexId}/${job.namespace}: its open job keeps changing`);
    },

    async claim(nodeId, leaseMs) {
      checkMs('leaseMs', leaseMs);
      await db
        .updateTable('index_jobs')
        .set({
          state: 'failed',
          error: sql<string>`'heartbeat lapsed on attempt ' || attempts || ' (claimed by ' || claimed_by || ')'`,
          updated_at: sql<Date>`now()`,
        })
        .where('id', 'in', (eb) =>
          eb.selectFrom('index_jobs').select('id').where(lapsed(leaseMs)).where('attempts', '>=', maxAttempts).forUpdate().skipLocked(),
        )
        .execute();
      const row = await db
        .updateTable('index_jobs')
        .set({
          state: 'running',
          claimed_by: nodeId,
          heartbeat_at: sql<Date>`now()`,
          attempts: sql<number>`attempts + 1`,
          updated_at: sql<Date>`now()`,
        })
        .where('id', '=', (eb) =>
          eb
            .selectFrom('index_jobs')
            .select('id')
            .where(sql<SqlBool>`(state = 'pending' or (${lapsed(leaseMs)}))`)
            .orderBy('created_at')
            .orderBy('id')
            .limit(1)
            .forUpdate()
            .skipLocked(),
        )
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : toJob(row);
    },

    async heartbeat(jobId, nodeId) {
      const result = await claimed(jobId, nodeId)
        .set({ heartbeat_at: sql<Date>`now()` })
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async complete(jobId, nodeId, output) {
      const stored = { ...output, slabIds: [...output.slabIds] };
      const result = await claimed(jobId, nodeId)
        .set({ state: 'done', output: JSON.stringify(stored), error: null, updated_at: sql<Date>`now()` })
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async fail(jobId, nodeId, error) {
      const retry = sql<SqlBool>`attempts < ${maxAttempts}`;
      const result = await claimed(jobId, nodeId)
        .set({
          state: sql<string>`case when ${retry} then 'pending' else 'failed' end`,
          // A job back in the queue is nobody's; a failed one keeps its last claimer for the record.
          claimed_by: sql<string | null>`case when ${retry} then null else claimed_by end`,
          heartbeat_at: sql<Date | null>`case when ${retry} then null else heartbeat_at end`,
          error: error.slice(0, MAX_ERROR_LENGTH),
          updated_at: sql<Date>`now()`,
        })
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async cancel(jobId) {
      const result = await db
        .updateTable('index_jobs')
        .set({ state: 'cancelled', updated_at: sql<Date>`now()` })
        .where('id', '=', jobId)
        .where(OPEN)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async get(jobId) {
      const row = await db.selectFrom('index_jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
      return row === undefined ? undefined : toJob(row);
    },

    async forNamespace(indexId, namespace) {
      const rows = await db
        .selectFrom('index_jobs')
        .selectAll()
        .where('index_id', '=', indexId)
        .where('namespace', '=', namespace)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toJob);
    },

    async list({ states, limit }) {
      if (!Number.isSafeInteger(limit) || limit < 1) throw InvalidArgumentError.at(['limit'], 'must be a positive integer');
      if (states?.length === 0) return [];
      let query = db.selectFrom('index_jobs').selectAll();
      if (states !== undefined) query = query.where('state', 'in', [...states]);
      const rows = await query.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(toJob);
    },

    async running(indexId, namespace) {
      const rows = await db
        .selectFrom('index_jobs')
        .select(['state', 'inputs', 'output'])
        .where('index_id', '=', indexId)
        .where('namespace', '=', namespace)
        .where(sql<SqlBool>`state in ('pending', 'running', 'done')`)
        .execute();
      const ids = new Set<string>();
      for (const row of rows) {
        const slabs = row.state === 'done' ? (toOutput(row.output)?.slabIds ?? []) : strings(json(row.inputs));
        for (const id of slabs) ids.add(id);
      }
      return [...ids].sort();
    },

    async prune(olderThanMs) {
      checkMs('olderThanMs', olderThanMs);
      const result = await db
        .deleteFrom('index_jobs')
        .where('state', 'in', ['done', 'failed', 'cancelled'])
        .where('updated_at', '<', sql<Date>`now() - ${olderThanMs} * interval '1 millisecond'`)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
