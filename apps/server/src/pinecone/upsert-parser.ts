import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fastUpsertOf, recordsOfPacked, type FastUpsert, type PackedBody } from './upsert-fast-path.ts';

/**
 * A body sent to a parser thread: whole (`bytes`), or as the chunks it arrived in (moved to the
 * thread, which joins them).
 */
export type ParseRequest = { id: number; bytes: Uint8Array; chunks?: undefined } | { id: number; chunks: Uint8Array[]; length: number; bytes?: undefined };

/**
 * A parser thread's answer: the body as read, `body: undefined` (not the fast shape: `bytes` then
 * hands back a body that was sent as chunks, joined), or an error.
 */
export type ParseReply = { id: number; body: PackedBody | undefined; bytes?: Uint8Array; error?: undefined } | { id: number; body?: undefined; error: string };

/** A thread's answer as its caller gets it: the packed body, or none (and the joined bytes, for chunks). */
type ThreadAnswer = { body: PackedBody | undefined; bytes?: Uint8Array | undefined };

/** What {@link UpsertParser.parseChunks} read: the records, or the body joined for the general path. */
export type ChunksRead = { fast: FastUpsert; bytes?: undefined } | { fast?: undefined; bytes: Uint8Array };

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
   * Whether {@link parseChunks} takes these chunks: there are threads, the body is large enough to
   * be worth a thread, and every chunk owns its whole memory (as the chunks Node's HTTP parser
   * hands a request's body in do), so it can be moved to a thread rather than copied.
   */
  takesChunks(chunks: readonly Uint8Array[], length: number): boolean {
    return this.#threads > 0 && length >= MIN_THREAD_BODY_BYTES && chunks.every(ownsItsMemory);
  }

  /**
   * Reads a body given as the chunks it arrived in, which are moved to a parser thread (they are
   * empty afterwards: the caller must not use them again). The thread joins them, so the event
   * loop does not copy the body; when the body is not of the fast shape, the joined bytes come
   * back for the general path. Only for chunks {@link takesChunks} accepts.
   */
  async parseChunks(chunks: readonly Uint8Array[], length: number): Promise<ChunksRead> {
    if (!this.takesChunks(chunks, length)) throw new RangeError('parseChunks: these chunks cannot be moved to a parser thread');
    const reply = await this.#thread().parseChunks(this.#nextId++, chunks, length);
    return reply.body !== undefined ? { fast: recordsOfPacked(reply.body) } : { bytes: reply.bytes! };
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
  readonly #pending = new Map<number, { resolve: (answer: ThreadAnswer) => void; reject: (error: Error) => void }>();
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
      else waiting.resolve(reply);
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

  async parse(id: number, bytes: Uint8Array): Promise<PackedBody | undefined> {
    // Bytes in shared memory (a lent body buffer, body-buffers.ts) reach the thread as they
    // are; others are copied. The caller keeps its body either way, for the general path.
    return (await this.#send({ id, bytes }, [])).body;
  }

  /** The chunks' memory is moved to the thread, not copied. */
  parseChunks(id: number, chunks: readonly Uint8Array[], length: number): Promise<ThreadAnswer> {
    return this.#send(
      { id, chunks: [...chunks], length },
      chunks.map((c) => c.buffer as ArrayBuffer),
    );
  }

  #send(request: ParseRequest, transfer: ArrayBuffer[]): Promise<ThreadAnswer> {
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { resolve, reject });
      this.#ref();
      this.#worker.postMessage(request, transfer);
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

/** A plain (not shared) buffer viewed whole: moving it to a thread moves exactly this chunk. */
function ownsItsMemory(chunk: Uint8Array): boolean {
  // A SharedArrayBuffer is not an ArrayBuffer, and cannot be transferred.
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
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
