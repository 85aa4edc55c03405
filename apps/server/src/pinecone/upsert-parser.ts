import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fastUpsertOf, recordsOfPacked, type FastUpsert, type PackedBody } from './upsert-fast-path.ts';

/** A body sent to a parser thread. */
export interface ParseRequest {
  id: number;
  bytes: Uint8Array;
}

/** A parser thread's answer: the body as read, `body: undefined` (not the fast shape), or an error. */
export type ParseReply = { id: number; body: PackedBody | undefined; error?: undefined } | { id: number; body?: undefined; error: string };

/**
 * Bodies smaller than this are read on the event loop: a round trip to a thread costs about what
 * reading a few tens of kilobytes does.
 */
export const MIN_THREAD_BODY_BYTES = 64 * 1024;

/**
 * Reads upsert bodies with the fast reader (upsert-fast-path.ts) on worker threads, so the event
 * loop goes on with other requests (and with the write path of the bodies already read) while the
 * digits of a large body are parsed on another core. Each body goes to the thread with the fewest
 * in hand. With 0 threads, or for a small body, the body is read right here.
 *
 * Errors are never decided on a thread: like the fast reader itself, a thread answers "not the
 * usual shape" and the caller reads the body the general way, which words every 400. A thread that
 * dies fails the bodies it held (a 500 for those requests) and is replaced by the next body.
 */
export class UpsertParser {
  #threads: number;
  readonly #workers: ParserThread[] = [];
  #nextId = 1;
  readonly #workerUrl: URL;

  /** `workerUrl` is the thread's script; tests give one that fails. */
  constructor(threads: number, options: { workerUrl?: URL } = {}) {
    this.#threads = checkedThreads(threads);
    this.#workerUrl = options.workerUrl ?? new URL('./upsert-parse-worker.ts', import.meta.url);
  }

  get threads(): number {
    return this.#threads;
  }

  /** Threads started and not stopped. */
  get started(): number {
    return this.#workers.filter((w) => !w.dead).length;
  }

  /** Changes how many threads read bodies; threads beyond the new count finish their bodies, then stop. */
  setThreads(threads: number): void {
    this.#threads = checkedThreads(threads);
    for (const extra of this.#workers.splice(this.#threads)) extra.retire();
  }

  /** The body as the fast reader reads it, or undefined when the general path must read it. */
  async parse(bytes: Uint8Array): Promise<FastUpsert | undefined> {
    if (this.#threads === 0 || bytes.length < MIN_THREAD_BODY_BYTES) return fastUpsertOf(bytes);
    const body = await this.#thread().parse(this.#nextId++, bytes);
    return body === undefined ? undefined : recordsOfPacked(body);
  }

  /**
   * Starts one thread now, when there are threads and none has started: a thread takes about a
   * tenth of a second to load its reader, which the first large bodies after a start would wait.
   */
  prestart(): void {
    if (this.#threads > 0 && this.#workers.length === 0) this.#workers.push(new ParserThread(this.#workerUrl));
  }

  /** Stops every thread once it has answered the bodies it holds. */
  close(): void {
    for (const worker of this.#workers.splice(0)) worker.retire();
  }

  #thread(): ParserThread {
    for (let i = this.#workers.length - 1; i >= 0; i--) if (this.#workers[i]!.dead) this.#workers.splice(i, 1);
    if (this.#workers.length < this.#threads) {
      const started = new ParserThread(this.#workerUrl);
      this.#workers.push(started);
      return started;
    }
    return this.#workers.reduce((least, w) => (w.inHand < least.inHand ? w : least));
  }
}

/** One worker thread and the bodies it has been handed. */
class ParserThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (body: PackedBody | undefined) => void; reject: (error: Error) => void }>();
  #retiring = false;
  dead = false;

  constructor(script: URL) {
    this.#worker = new Worker(script);
    // An idle parser never keeps the process alive; one holding bodies does (see #ref).
    this.#worker.unref();
    this.#worker.on('message', (reply: ParseReply) => {
      const waiting = this.#pending.get(reply.id);
      if (waiting === undefined) return;
      this.#pending.delete(reply.id);
      this.#ref();
      if (reply.error !== undefined) waiting.reject(new Error(`upsert parser thread: ${reply.error}`));
      else waiting.resolve(reply.body);
      if (this.#retiring && this.#pending.size === 0) void this.#worker.terminate();
    });
    const fail = (error: Error) => {
      this.dead = true;
      for (const waiting of this.#pending.values()) waiting.reject(error);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`upsert parser thread exited (code ${code})`)));
  }

  get inHand(): number {
    return this.#pending.size;
  }

  parse(id: number, bytes: Uint8Array): Promise<PackedBody | undefined> {
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ref();
      // Bytes in shared memory (a lent body buffer, body-buffers.ts) reach the thread as they
      // are; others are copied. The caller keeps its body either way, for the general path.
      this.#worker.postMessage({ id, bytes } satisfies ParseRequest);
    });
  }

  retire(): void {
    this.#retiring = true;
    if (this.#pending.size === 0) void this.#worker.terminate();
  }

  /** Referenced while it holds bodies: their requests wait on it. */
  #ref(): void {
    if (this.#pending.size > 0) this.#worker.ref();
    else this.#worker.unref();
  }
}

function checkedThreads(threads: number): number {
  if (!Number.isInteger(threads) || threads < 0 || threads > 64) throw new RangeError(`upsert parser threads must be an integer in [0, 64], got ${threads}`);
  return threads;
}

/**
 * Threads when nothing says otherwise: one per core beyond the event loop's, at most two (the
 * write path after the parse stays on the event loop, so more would wait on it), none on one core.
 */
export function defaultUpsertParserThreads(): number {
  return Math.max(0, Math.min(2, availableParallelism() - 1));
}

let shared: UpsertParser | undefined;

/** The process's parser: every app of the process shares its threads. Started lazily, on first use. */
export function sharedUpsertParser(): UpsertParser {
  shared ??= new UpsertParser(defaultUpsertParserThreads());
  return shared;
}
