import { Worker } from 'node:worker_threads';
import { SYSTEM_CLOCK, type Clock } from '@conifer/core';
import { trimNativeHeap } from '@conifer/faiss';
import { toShared } from '@conifer/slab';
import { fillsOwnBuffer, runCompactionJob, type CompactionJob, type CompactionOutput } from './compaction-job.ts';
import type { WorkerReply, WorkerRequest } from './compaction-worker.ts';
import { niceV8HelperThreads } from './thread-priority.ts';

export interface CompactorOptions {
  /**
   * Compactions that run at once, each in its own worker thread. Default 1: on a small machine
   * the other cores stay free for queries, which is what keeps query latency flat during
   * compaction.
   */
  workers: number;
  /** OpenMP threads a worker's faiss training and adding may use. Default 1. */
  buildThreads: number;
  /**
   * Run jobs on the calling thread instead (each long loop still yields to the event loop). Only
   * for environments without worker threads; queries then compete with merges for the thread.
   */
  inline: boolean;
  /**
   * Nice value (0–19) of the worker threads and of the process's V8 helper threads (which collect
   * the workers' garbage), so the event loop gets the CPU first while compactions run; 0 leaves
   * priorities alone. Default 10. Linux only (see thread-priority.ts).
   */
  niceness: number;
  /**
   * A worker with no job for this long is stopped (the next job starts a new one), so an idle
   * namespace does not keep the worker's heap — garbage from its last merge and index build that
   * nothing collects while it sleeps — and the C heap is trimmed after it (trimNativeHeap). 0 keeps
   * workers for the compactor's lifetime. Default 10 s.
   */
  idleMs: number;
  /**
   * A worker that ran a job with at least this many input bytes stops as soon as it has no job.
   * Its isolate holds the job's inputs and output (shared with the event loop's thread) until its
   * next full collection, which a worker with a small heap may not run for several jobs: hundreds
   * of megabytes outside any count. Stopping frees them at once; a new worker starts in
   * milliseconds, against seconds for such a job. Default 64 MiB.
   */
  retireAfterBytes: number;
}

export const DEFAULT_COMPACTOR_OPTIONS: CompactorOptions = {
  workers: 1,
  buildThreads: 1,
  inline: false,
  niceness: 10,
  idleMs: 10_000,
  retireAfterBytes: 64 * 1024 * 1024,
};

/** An input the job owns that fills its own unshared buffer: it moves to the worker, transferred. */
function movable(input: CompactionJob['inputs'][number]): boolean {
  return input.owned === true && fillsOwnBuffer(input.bytes);
}

interface Pending {
  resolve: (output: CompactionOutput) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Set by a large job: the worker stops once it has no job (see CompactorOptions.retireAfterBytes). */
  retire?: boolean;
  /** Set while the worker has no job: stops it after `idleMs`. */
  /** Cancels the idle stop, when one is armed. */
  idleTimer?: (() => void) | undefined;
}

/**
 * Runs compaction jobs (merge, ANN training and calibration, slab serialization) off the event
 * loop, in a small pool of worker threads: a million-row merge and index build takes seconds of
 * CPU, and queries must keep their latency meanwhile. Jobs beyond the pool size wait their turn.
 * A worker that dies fails its job (the namespace retries the compaction later) and is replaced
 * by the next job.
 */
export class Compactor {
  readonly #options: CompactorOptions;
  readonly #clock: Clock;
  readonly #slots: (Slot | undefined)[];
  readonly #idle: number[];
  readonly #queue: (() => void)[] = [];
  #nextJobId = 1;
  #closed = false;
  #helpersNiced = false;

  /** `clock` times the idle stop of workers. */
  constructor(options: Partial<CompactorOptions> = {}, clock: Clock = SYSTEM_CLOCK) {
    this.#options = { ...DEFAULT_COMPACTOR_OPTIONS, ...options };
    this.#clock = clock;
    if (!Number.isInteger(this.#options.workers) || this.#options.workers < 1) throw new RangeError('compactor workers must be a positive integer');
    const { niceness, idleMs } = this.#options;
    if (!Number.isInteger(niceness) || niceness < 0 || niceness > 19) throw new RangeError('compactor niceness must be an integer from 0 to 19');
    if (!Number.isInteger(idleMs) || idleMs < 0) throw new RangeError('compactor idleMs must be a non-negative integer');
    this.#slots = new Array(this.#options.workers).fill(undefined);
    this.#idle = this.#slots.map((_, i) => i);
  }

  /** Runs one job; resolves with the output slab's bytes and header. */
  async run(job: CompactionJob): Promise<CompactionOutput> {
    if (this.#closed) throw new Error('compactor is closed');
    const slot = await this.#acquire();
    try {
      if (this.#options.inline) return await runCompactionJob(job);
      const inputs = [];
      // A copy the job owns moves to the worker (transferred); anything else is shared, not copied per job.
      for (const input of job.inputs) inputs.push(movable(input) ? input : { id: input.id, bytes: await toShared(input.bytes) });
      const donor = job.donor ? { header: job.donor.header, bytes: await toShared(job.donor.bytes) } : undefined;
      return await this.#send(slot, { ...job, inputs, donor });
    } finally {
      this.#release(slot);
    }
  }

  /** Stops the workers; jobs in flight fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      this.#slots.map(async (slot, i) => {
        if (!slot) return;
        this.#slots[i] = undefined;
        slot.idleTimer?.();
        await slot.worker.terminate();
      }),
    );
  }

  async #acquire(): Promise<number> {
    const free = this.#idle.pop();
    if (free !== undefined) return free;
    return new Promise((resolve) => this.#queue.push(() => resolve(this.#idle.pop()!)));
  }

  #release(slot: number): void {
    this.#idle.push(slot);
    this.#queue.shift()?.();
  }

  #send(index: number, job: CompactionJob): Promise<CompactionOutput> {
    const slot = (this.#slots[index] ??= this.#spawn(index));
    slot.idleTimer?.();
    slot.idleTimer = undefined;
    const jobId = this.#nextJobId++;
    if (job.inputs.reduce((n, input) => n + input.bytes.byteLength, 0) >= this.#options.retireAfterBytes) slot.retire = true;
    // Referenced while it has work (the process waits for the job), unreferenced when idle (an idle
    // pool never keeps the process alive).
    slot.worker.ref();
    return new Promise((resolve, reject) => {
      slot.pending.set(jobId, { resolve, reject });
      const request: WorkerRequest = { jobId, job, buildThreads: this.#options.buildThreads };
      const transfers = job.inputs.filter(movable).map((input) => input.bytes.buffer as ArrayBuffer);
      slot.worker.postMessage(request, transfers);
    });
  }

  #spawn(index: number): Slot {
    // The helper threads live as long as the process: once is enough, though idle workers respawn.
    if (!this.#helpersNiced) {
      niceV8HelperThreads(this.#options.niceness);
      this.#helpersNiced = true;
    }
    const worker = new Worker(new URL('./compaction-worker.ts', import.meta.url), { workerData: { niceness: this.#options.niceness } });
    const slot: Slot = { worker, pending: new Map() };
    const failAll = (err: Error) => {
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      if (this.#slots[index] === slot) this.#slots[index] = undefined;
    };
    worker.on('message', (reply: WorkerReply) => {
      const pending = slot.pending.get(reply.jobId);
      if (!pending) return;
      slot.pending.delete(reply.jobId);
      if (slot.pending.size === 0) {
        worker.unref();
        if (slot.retire) this.#retire(index, slot);
        else if (this.#options.idleMs > 0) slot.idleTimer = this.#clock.after(this.#options.idleMs, () => this.#retire(index, slot));
      }
      if (reply.ok) pending.resolve(reply.output);
      else pending.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, stack: reply.error.stack }));
    });
    worker.on('error', (err) => failAll(err));
    worker.on('exit', (code) => {
      failAll(new Error(`compaction worker exited with code ${code}`));
      // The worker's arena still holds what its faiss builds freed; with the worker gone, return it.
      trimNativeHeap();
    });
    return slot;
  }

  /** Stops an idle worker; the next job on this slot spawns a new one. */
  #retire(index: number, slot: Slot): void {
    if (this.#slots[index] !== slot || slot.pending.size > 0) return;
    this.#slots[index] = undefined;
    void slot.worker.terminate();
  }
}
