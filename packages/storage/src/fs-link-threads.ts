import { Worker } from 'node:worker_threads';
import { LINK_THREAD_READY, type LinkJob, type LinkOutcome } from './fs-link-sync.ts';
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
 * An idle thread takes the next job. When every thread is busy, one more is started (up to the
 * maximum), but the job does not wait for it: a thread takes tens of milliseconds to start, longer
 * than a write, so the job goes to the ready thread with the fewest in hand and the new thread
 * takes jobs once it is up. A thread that dies fails the jobs it held and is replaced.
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

  /** Starts the first thread now, so that the first write does not wait for it. */
  prestart(): void {
    this.#prune();
    if (this.#threads.length === 0) this.#start();
  }

  /** Threads running or starting (for tests). */
  get size(): number {
    return this.#threads.length;
  }

  #thread(): LinkThread {
    this.#prune();
    const ready = this.#threads.filter((t) => t.ready);
    const idle = ready.find((t) => t.inHand === 0);
    if (idle) return idle;
    if (this.#threads.length < this.#max && this.#threads.every((t) => t.ready)) this.#start();
    // Nothing ready yet (the first thread is starting): the job waits in the new thread's queue.
    const candidates = ready.length > 0 ? ready : this.#threads;
    return candidates.reduce((least, t) => (t.inHand < least.inHand ? t : least));
  }

  #start(): LinkThread {
    const started = new LinkThread(this.#workerUrl);
    this.#threads.push(started);
    return started;
  }

  #prune(): void {
    for (let i = this.#threads.length - 1; i >= 0; i--) if (this.#threads[i]!.dead) this.#threads.splice(i, 1);
  }
}

class LinkThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (outcome: LinkOutcome) => void; reject: (error: Error) => void }>();
  dead = false;
  /** Set once the thread has loaded its script and said so: jobs sent before then wait in its queue. */
  ready = false;

  constructor(script: URL) {
    this.#worker = new Worker(script);
    this.#worker.on('message', (message: LinkReply | typeof LINK_THREAD_READY) => {
      if (message === LINK_THREAD_READY) {
        this.ready = true;
        this.#ref();
        return;
      }
      const { id, outcome } = message;
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
    // An idle thread never keeps the process alive; one holding writes does (see #ref). After the
    // listeners: adding a message listener references the thread again.
    this.#worker.unref();
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

/**
 * Threads when nothing says otherwise. A namespace's log commits one object at a time, so one
 * namespace never needs more than one; a second lets another namespace's commit (or a manifest)
 * proceed while the first waits on its fsync. Each thread is an isolate of about 30 MiB.
 */
export const DEFAULT_LINK_THREADS = 2;

let shared: LinkThreads | undefined;

/** The process's write threads: every local store of the process shares them (the first store prestarts one). */
export function sharedLinkThreads(): LinkThreads {
  shared ??= new LinkThreads(DEFAULT_LINK_THREADS);
  return shared;
}
