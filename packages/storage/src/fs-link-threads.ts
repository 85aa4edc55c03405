import { Worker } from 'node:worker_threads';
import type { LinkJob, LinkOutcome } from './fs-link-sync.ts';
import type { LinkReply, LinkRequest } from './fs-link-worker.ts';

/**
 * Threads that run FsObjectStore's create-if-absent writes (the request log's objects) whole.
 *
 * The store's async path takes about fifteen file-system calls per write, each an event-loop turn
 * away from the next: on a loop busy with other requests every turn waits for the task in hand, and
 * a write whose disk work takes a millisecond or two takes tens. A log commit waits for its write,
 * and every write behind it waits for the commit, so that wait is the write path's latency. Here
 * the whole sequence runs on a thread and costs the loop one turn, for the answer.
 *
 * Each job goes to the thread with the fewest in hand; a thread is started when every running one
 * is busy, up to the maximum (several namespaces' logs sync in parallel, as on libuv's pool). A
 * thread that dies fails the jobs it held and is replaced by the next job.
 */
export class LinkThreads {
  readonly #max: number;
  readonly #workerUrl: URL;
  readonly #threads: LinkThread[] = [];
  #nextId = 1;

  /** `workerUrl` is the thread's script; tests give one that fails. */
  constructor(max: number, options: { workerUrl?: URL } = {}) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`write threads must be a positive integer, got ${max}`);
    this.#max = max;
    this.#workerUrl = options.workerUrl ?? new URL('./fs-link-worker.ts', import.meta.url);
  }

  /** Runs `job` on a thread. Its bytes are copied first: the caller keeps its buffer. */
  link(job: LinkJob): Promise<LinkOutcome> {
    return this.#thread().link(this.#nextId++, job);
  }

  /** Threads running (for tests). */
  get size(): number {
    return this.#threads.length;
  }

  #thread(): LinkThread {
    for (let i = this.#threads.length - 1; i >= 0; i--) if (this.#threads[i]!.dead) this.#threads.splice(i, 1);
    const idle = this.#threads.find((t) => t.inHand === 0);
    if (idle) return idle;
    if (this.#threads.length < this.#max) {
      const started = new LinkThread(this.#workerUrl);
      this.#threads.push(started);
      return started;
    }
    return this.#threads.reduce((least, t) => (t.inHand < least.inHand ? t : least));
  }
}

class LinkThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (outcome: LinkOutcome) => void; reject: (error: Error) => void }>();
  dead = false;

  constructor(script: URL) {
    this.#worker = new Worker(script);
    // An idle thread never keeps the process alive; one holding writes does (see #ref).
    this.#worker.unref();
    this.#worker.on('message', ({ id, outcome }: LinkReply) => {
      const waiting = this.#pending.get(id);
      if (waiting === undefined) return;
      this.#pending.delete(id);
      this.#ref();
      waiting.resolve(outcome);
    });
    const fail = (error: Error) => {
      this.dead = true;
      for (const waiting of this.#pending.values()) waiting.reject(error);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`file-system write thread exited (code ${code})`)));
  }

  get inHand(): number {
    return this.#pending.size;
  }

  link(id: number, job: LinkJob): Promise<LinkOutcome> {
    if (this.dead) return Promise.reject(new Error('file-system write thread is gone'));
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ref();
      // A copy of just the view's bytes, moved to the thread: posting the view itself would copy
      // the whole buffer under it, and transferring the caller's buffer would take it away.
      const data = job.data.slice();
      this.#worker.postMessage({ id, job: { ...job, data } } satisfies LinkRequest, [data.buffer]);
    });
  }

  #ref(): void {
    if (this.#pending.size > 0) this.#worker.ref();
    else this.#worker.unref();
  }
}

/** Threads when nothing says otherwise: as many as libuv's default pool, which the async path would use. */
export const DEFAULT_LINK_THREADS = 4;

let shared: LinkThreads | undefined;

/** The process's write threads: every local store of the process shares them. Started on first use. */
export function sharedLinkThreads(): LinkThreads {
  shared ??= new LinkThreads(DEFAULT_LINK_THREADS);
  return shared;
}
