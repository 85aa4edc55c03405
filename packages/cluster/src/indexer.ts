import { failpoint } from '@conifer/core';
import type { IndexJob, IndexJobs } from '@conifer/control';
import { slabKey, type RemoteCompactionJob } from '@conifer/engine';
import type { Compactor } from '@conifer/index-builder';
import { isPreconditionFailed, type ObjectStore } from '@conifer/storage';
import type { Logger } from 'pino';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface IndexerOptions {
  jobs: IndexJobs;
  store: ObjectStore;
  /** This node's id in the membership: the claimer a job names. */
  nodeId: string;
  /** A claim whose heartbeat is older than this is taken over by another indexer. */
  leaseMs: number;
  heartbeatMs: number;
  /** Merges and ANN builds, in worker threads. */
  compactor: Compactor;
  logger: Logger;
  /** Pause between claims when the queue is empty. Default 250 ms. */
  idleMs?: number;
}

/**
 * The index builder as a role: claims compaction jobs that writers planned in PostgreSQL, builds
 * each from the input slabs in the store, stores the output under the id the writer chose
 * (create-if-absent: a retried job finds the first attempt's output and keeps it), and reports.
 * It never commits a manifest — the writer does, after checking the inputs are still current.
 * A killed indexer's job is claimed again once its heartbeat lapses.
 */
export class Indexer {
  readonly #options: IndexerOptions;
  #running: Promise<void> | undefined;
  #stopping = false;
  #built = 0;

  constructor(options: IndexerOptions) {
    this.#options = options;
  }

  /** Jobs this process finished. */
  get built(): number {
    return this.#built;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stops claiming, waits for the job in hand, and stops the compactor's workers. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
    await this.#options.compactor.close();
  }

  async #loop(): Promise<void> {
    const { jobs, nodeId, leaseMs, logger } = this.#options;
    while (!this.#stopping) {
      let job: IndexJob | undefined;
      try {
        job = await jobs.claim(nodeId, leaseMs);
      } catch (err) {
        logger.warn({ err }, 'could not claim an index job; will retry');
      }
      if (!job) {
        await sleep(this.#options.idleMs ?? 250);
        continue;
      }
      await this.#run(job);
    }
  }

  async #run(job: IndexJob): Promise<void> {
    const { jobs, nodeId, heartbeatMs, logger } = this.#options;
    let lost = false;
    const beat = setInterval(() => {
      jobs.heartbeat(job.id, nodeId).then(
        (held) => (lost ||= !held),
        (err: unknown) => logger.warn({ err, job: job.id }, 'index job heartbeat failed'),
      );
    }, heartbeatMs);
    try {
      const stored = await this.#build(job.params as RemoteCompactionJob);
      failpoint('indexer:before-complete');
      if (lost || !(await jobs.complete(job.id, nodeId, { slabIds: stored ? [(job.params as RemoteCompactionJob).outputId] : [] }))) {
        logger.info({ job: job.id }, 'index job was taken over by another indexer; its result stays theirs');
        return;
      }
      this.#built++;
    } catch (err) {
      logger.warn({ err, job: job.id }, 'index job failed');
      await jobs.fail(job.id, nodeId, err instanceof Error ? err.message : String(err)).catch(() => undefined);
    } finally {
      clearInterval(beat);
    }
  }

  /** Builds the output and stores it; false when every row was dropped. */
  async #build(params: RemoteCompactionJob): Promise<boolean> {
    const { store, compactor } = this.#options;
    const inputs = await Promise.all(
      params.inputs.map(async (id) => {
        const obj = await store.get(slabKey(params.prefix, id));
        if (!obj) throw new Error(`input slab ${id} is gone (the writer compacted it meanwhile)`);
        // This job's own copy: a worker receives it transferred, not copied again into shared memory.
        return { id, bytes: obj.data, owned: true };
      }),
    );
    const output = await compactor.run({
      inputs,
      dropTombstones: params.dropTombstones,
      dimension: params.dimension,
      metric: params.metric,
      level: params.level,
      ann: params.ann,
      indexAlways: params.index,
    });
    if (!output.header) return false;
    try {
      await store.putIfAbsent(slabKey(params.prefix, params.outputId), output.bytes);
    } catch (err) {
      // An earlier attempt of this job stored it before its indexer died: the same inputs' slab.
      if (!isPreconditionFailed(err)) throw err;
    }
    return true;
  }
}
