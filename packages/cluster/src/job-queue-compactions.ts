import type { IndexJob, IndexJobs } from '@conifer/control';
import { NoIndexerError, type RemoteCompactionJob, type RemoteCompactions } from '@conifer/engine';
import type { NodeDirectory } from './node-directory.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls of a job's state between two checks that an indexer is still live. */
const POLLS_PER_LIVENESS_CHECK = 20;

/**
 * How long finished jobs are kept. A done job's output counts as in flight for GC until the job is
 * removed, because its writer may not have swapped it in yet — which takes one poll and a commit,
 * so an hour is ample; it also leaves the console a recent history of builds. Removed jobs stop
 * holding outputs that were never swapped in (or were compacted away since), which GC can then
 * collect, and keep the table from growing with every build.
 */
export const FINISHED_JOB_RETENTION_MS = 3_600_000;
/** How often a writer removes finished jobs past the retention (when it plans a build). */
const PRUNE_EVERY_MS = 60_000;

/**
 * A writer's compactions as jobs in PostgreSQL (`index_jobs`), built by indexer nodes
 * (`indexer.ts`). The writer plans the job with the output's slab id, waits for it to be done,
 * and then — as for a build of its own — checks that the inputs are still in its manifest before
 * it commits the swap. With no live indexer it withdraws the job and compacts itself.
 */
export class JobQueueCompactions implements RemoteCompactions {
  readonly #jobs: IndexJobs;
  readonly #directory: NodeDirectory;
  readonly #pollMs: number;
  readonly #retentionMs: number;
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(options: { jobs: IndexJobs; directory: NodeDirectory; pollMs?: number; retentionMs?: number }) {
    this.#jobs = options.jobs;
    this.#directory = options.directory;
    this.#pollMs = options.pollMs ?? 100;
    this.#retentionMs = options.retentionMs ?? FINISHED_JOB_RETENTION_MS;
  }

  /**
   * Removes the jobs finished longer than the retention ago, at most once a minute; how many it
   * removed. Every build asks; a failure (the database is away) leaves them to the next one.
   */
  async pruneIfDue(now = performance.now()): Promise<number> {
    if (now - this.#prunedAt < PRUNE_EVERY_MS) return 0;
    this.#prunedAt = now;
    return this.#jobs.prune(this.#retentionMs);
  }

  /**
   * Whether an indexer is live. The membership is read again before answering no: the view is up
   * to a refresh old, and an indexer that joined since must not be passed over for a build here.
   */
  async available(): Promise<boolean> {
    if ((await this.#directory.nodes('indexer')).length > 0) return true;
    await this.#directory.refresh();
    return (await this.#directory.nodes('indexer')).length > 0;
  }

  async build(job: RemoteCompactionJob, abandon: () => boolean): Promise<boolean> {
    void this.pruneIfDue().catch(() => undefined);
    const planned = await this.#plan(job);
    for (let poll = 1; ; poll++) {
      await sleep(this.#pollMs);
      const current = await this.#jobs.get(planned.id);
      if (!current) throw new Error(`index job ${planned.id} disappeared`);
      if (current.state === 'done') return (current.output?.slabIds ?? []).includes(job.outputId);
      if (current.state === 'failed') throw new Error(`index job ${planned.id} failed: ${current.error ?? 'unknown error'}`);
      if (current.state === 'cancelled') throw new Error(`index job ${planned.id} was cancelled`);
      if (abandon()) {
        await this.#jobs.cancel(planned.id);
        throw new Error(`index job ${planned.id} abandoned: the namespace is closing`);
      }
      if (poll % POLLS_PER_LIVENESS_CHECK === 0 && current.state === 'pending' && !(await this.available())) {
        await this.#jobs.cancel(planned.id);
        throw new NoIndexerError(`no indexer is live to build index job ${planned.id}`);
      }
    }
  }

  /**
   * Plans the job; an open job left for the namespace by an earlier build (a previous owner, a
   * restart) with other inputs or another output id is cancelled first: only this one's result
   * will be looked for.
   */
  async #plan(job: RemoteCompactionJob): Promise<IndexJob> {
    const { indexId, namespace, inputs, baseVersion, writerEpoch } = job;
    for (let attempt = 0; attempt < 3; attempt++) {
      const planned = await this.#jobs.plan({ indexId, namespace, kind: job.index ? 'index' : 'compaction', inputs, baseVersion, writerEpoch, params: job });
      if ((planned.params as Partial<RemoteCompactionJob> | null)?.outputId === job.outputId) return planned;
      await this.#jobs.cancel(planned.id);
    }
    throw new Error(`could not plan an index job for namespace ${namespace}: another keeps taking its place`);
  }

  /** Inputs and output ids of the namespace's jobs that are open, and outputs of done ones not yet pruned. */
  async inflight(indexId: string, namespace: string): Promise<string[]> {
    const out: string[] = [];
    for (const job of await this.#jobs.forNamespace(indexId, namespace)) {
      const outputId = (job.params as Partial<RemoteCompactionJob> | null)?.outputId;
      if (job.state === 'pending' || job.state === 'running') out.push(...job.inputs, ...(outputId ? [outputId] : []));
      else if (job.state === 'done') out.push(...(job.output?.slabIds ?? []));
    }
    return out;
  }
}
