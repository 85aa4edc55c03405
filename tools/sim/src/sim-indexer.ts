/**
 * The indexer role in the simulation: a job queue the writers' engines send their compactions to
 * (`RemoteCompactions`, as `JobQueueCompactions` does over PostgreSQL in a cluster), worked by one
 * indexer whose steps — claim, build and store, report — the scheduler takes one at a time, so
 * crashes land between any two of them. A crashed indexer's job goes back to the queue (its
 * output, if stored, stays and is found again: create-if-absent); the indexer can also leave the
 * cluster, and writers then take their builds back. Nothing here reads a timer.
 */
import { NoIndexerError, slabKey, type RemoteCompactionJob, type RemoteCompactions } from '@conifer/engine';
import { runCompactionJob } from '@conifer/index-builder';
import { isPreconditionFailed, type ObjectStore } from '@conifer/storage';

type Phase = 'pending' | 'claimed' | 'built';

interface SimJob {
  job: RemoteCompactionJob;
  abandon: () => boolean;
  phase: Phase;
  stored: boolean;
  settled: boolean;
  resolve: (stored: boolean) => void;
  reject: (err: unknown) => void;
}

export class SimIndexer implements RemoteCompactions {
  readonly #store: ObjectStore;
  readonly #trace: (line: string) => void;
  readonly #jobs: SimJob[] = [];
  /** Outputs of done jobs the writers have not committed yet (GC keeps them, as `index_jobs` rows do until pruned). */
  readonly #doneOutputs = new Set<string>();
  #live = true;
  built = 0;
  crashes = 0;

  constructor(store: ObjectStore, trace: (line: string) => void) {
    this.#store = store;
    this.#trace = trace;
  }

  async available(): Promise<boolean> {
    return this.#live;
  }

  build(job: RemoteCompactionJob, abandon: () => boolean): Promise<boolean> {
    if (!this.#live) return Promise.reject(new NoIndexerError('no indexer is live'));
    return new Promise<boolean>((resolve, reject) => {
      this.#jobs.push({ job, abandon, phase: 'pending', stored: false, settled: false, resolve, reject });
    });
  }

  async inflight(indexId: string, namespace: string): Promise<string[]> {
    const open = this.#jobs.filter((j) => j.job.indexId === indexId && j.job.namespace === namespace);
    return [...open.flatMap((j) => [...j.job.inputs, j.job.outputId]), ...this.#doneOutputs];
  }

  /** Jobs waiting or in hand. */
  get pending(): number {
    return this.#jobs.length;
  }

  /** One step of the indexer: report a built job, else build the claimed one, else claim the oldest. */
  async step(): Promise<void> {
    this.#dropAbandoned();
    const built = this.#jobs.find((j) => j.phase === 'built');
    if (built) {
      this.#finish(built);
      if (built.stored) this.#doneOutputs.add(built.job.outputId);
      this.built++;
      this.#trace(`indexer reports ${built.job.outputId} (${built.stored ? 'stored' : 'empty'})`);
      built.resolve(built.stored);
      return;
    }
    const claimed = this.#jobs.find((j) => j.phase === 'claimed');
    if (claimed) {
      try {
        claimed.stored = await this.#build(claimed.job);
        claimed.phase = 'built';
      } catch (err) {
        this.#finish(claimed);
        this.#trace(`indexer fails ${claimed.job.outputId}: ${err instanceof Error ? err.message : String(err)}`);
        claimed.reject(err);
      }
      return;
    }
    const next = this.#jobs.find((j) => j.phase === 'pending');
    if (next) next.phase = 'claimed';
  }

  /** The indexer dies: the job in hand goes back to the queue (its output, if stored, stays). */
  crash(): void {
    const inHand = this.#jobs.find((j) => j.phase !== 'pending');
    if (!inHand) return;
    this.crashes++;
    inHand.phase = 'pending';
    this.#trace(`indexer crashes holding ${inHand.job.outputId}`);
  }

  /** The indexer leaves the cluster: writers withdraw their jobs and build themselves. */
  leave(): void {
    this.#live = false;
    for (const job of [...this.#jobs]) {
      this.#finish(job);
      job.reject(new NoIndexerError('the indexer left'));
    }
  }

  join(): void {
    this.#live = true;
  }

  #dropAbandoned(): void {
    for (const job of [...this.#jobs]) {
      if (!job.abandon()) continue;
      this.#finish(job);
      job.reject(new Error('abandoned: the namespace is closing'));
    }
  }

  #finish(job: SimJob): void {
    job.settled = true;
    this.#jobs.splice(this.#jobs.indexOf(job), 1);
  }

  async #build(job: RemoteCompactionJob): Promise<boolean> {
    const inputs = await Promise.all(
      job.inputs.map(async (id) => {
        const obj = await this.#store.get(slabKey(job.prefix, id));
        if (!obj) throw new Error(`input slab ${id} is gone`);
        return { id, bytes: obj.data };
      }),
    );
    const output = await runCompactionJob({
      inputs,
      dropTombstones: job.dropTombstones,
      dimension: job.dimension,
      metric: job.metric,
      level: job.level,
      ann: job.ann,
      indexAlways: job.index,
    });
    if (!output.header) return false;
    try {
      await this.#store.putIfAbsent(slabKey(job.prefix, job.outputId), output.bytes);
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
    }
    return true;
  }
}
