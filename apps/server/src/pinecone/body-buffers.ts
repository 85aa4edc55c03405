import { LIMITS } from '@conifer/core';

/**
 * Buffers that upsert bodies are joined into, reused from one request to the next.
 *
 * A body arrives in chunks and is read whole (the number reader needs it contiguous). Joined into
 * a fresh buffer, every upsert allocates up to its 2 MB again outside V8's heap, and V8 starts a
 * full garbage collection whenever such allocations have grown by 64 MiB since the last one: for
 * a writer taking large upserts at full speed, one every few requests, each marking the whole
 * heap on the core that serves the writes. Joined into a buffer that is given back afterwards,
 * the body costs no allocation at all. The buffers are shared memory: a parser thread
 * (upsert-parser.ts) is handed the body itself, not a copy.
 *
 * A buffer is lent for one use and taken back when that use has settled, so nothing read from it
 * may keep a view of it: the upsert readers copy what they keep (strings, their own float array),
 * and `body-buffers.test.ts` overwrites returned buffers to hold them to that.
 */
export class BodyBuffers {
  readonly #free: Buffer[] = [];
  readonly #bufferBytes: number;
  readonly #keep: number;

  /** Buffers of `bufferBytes`; at most `keep` of them are kept while no request holds them. */
  constructor(bufferBytes: number, keep: number) {
    this.#bufferBytes = bufferBytes;
    this.#keep = keep;
  }

  /** Buffers kept for the next bodies. */
  get kept(): number {
    return this.#free.length;
  }

  /**
   * Runs `use` on `chunks` (of `length` bytes in all) as one buffer, valid until `use` settles:
   * the chunk itself when there is one, a lent buffer when they fit in one, else a fresh join.
   */
  async withJoined<T>(chunks: readonly Buffer[], length: number, use: (bytes: Buffer) => Promise<T> | T): Promise<T> {
    if (chunks.length === 1) return use(chunks[0]!);
    if (length > this.#bufferBytes || chunks.length === 0) return use(Buffer.concat(chunks, length));
    // Shared memory, so a parser thread reads the body where it lies rather than from a copy.
    const buffer = this.#free.pop() ?? Buffer.from(new SharedArrayBuffer(this.#bufferBytes));
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(buffer, at);
    try {
      return await use(buffer.subarray(0, at));
    } finally {
      if (this.#free.length < this.#keep) this.#free.push(buffer);
    }
  }
}

/**
 * The process's body buffers: as many as upserts usually in flight on one node, each as large as
 * a request may be (`LIMITS.maxRequestBytes`); a larger body (a writer's record frame can be) is
 * joined the usual way.
 */
export const upsertBodyBuffers = new BodyBuffers(LIMITS.maxRequestBytes, 4);
