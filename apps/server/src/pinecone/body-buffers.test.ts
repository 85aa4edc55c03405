import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { UpsertInput } from '@conifer/api';
import { BodyBuffers, upsertBodyBuffers } from './body-buffers.ts';
import { upsertInputOf } from './upsert-body.ts';

/**
 * Lent body buffers are reused as soon as a use settles, so the one thing that must never happen
 * is a request's records still reading from the buffer afterwards. The property below parses
 * bodies two at a time through the process's buffers — through the fast reader and through the
 * general path (which reads the body after an await), some large enough for a parser thread —
 * then overwrites every lent buffer, and compares the records with those read from a private copy.
 */

/** Records as plain data: values as float32 numbers, so both readers' forms compare. */
function plain(input: UpsertInput) {
  return {
    namespace: input.namespace,
    records: input.records.map((r) => ({ id: r.id, values: Array.from(r.values, (v) => Math.fround(v)), metadata: r.metadata, sparse: r.sparseValues })),
  };
}

/** `text` as the chunks a socket might deliver: cut at the given fractions of its length. */
function chunked(text: string, cuts: number[]): Buffer[] {
  const bytes = Buffer.from(text);
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].filter((n) => n > 0 && n < bytes.length).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    chunks.push(Buffer.from(bytes.subarray(from, cut))); // each chunk a buffer of its own, as a socket's
    from = cut;
  }
  return chunks;
}

// Ids JSON must escape send the body down the general path.
const id = fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,12}$/), fc.constantFrom('a"b', 'c\\d', 'tab\tx'));
const record = (dimension: number) =>
  fc.record(
    {
      id,
      values: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { minLength: dimension, maxLength: dimension }),
      metadata: fc.dictionary(fc.constantFrom('genre', 'year', 'ok', 'ü'), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean())),
    },
    { requiredKeys: ['id', 'values'] },
  );
const body = fc
  .record({ dimension: fc.integer({ min: 2, max: 24 }), count: fc.integer({ min: 1, max: 40 }), large: fc.boolean() })
  .chain(({ dimension, count, large }) =>
    fc.record({
      namespace: fc.constantFrom('', 'a', 'ns-2'),
      // Large bodies (≥ 64 KiB) go to a parser thread where the process has one.
      vectors: fc.array(record(large ? 96 : dimension), { minLength: large ? 90 : 1, maxLength: large ? 90 : count }),
    }),
  )
  .map((b) => JSON.stringify(b));
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

describe('upsert body buffers', () => {
  it('records read from a lent buffer never change once it is given back and reused (fast-check, two bodies at a time)', async () => {
    await fc.assert(
      fc.asyncProperty(body, cuts, body, cuts, async (textA, cutsA, textB, cutsB) => {
        const read = (text: string, at: number[]) => {
          const chunks = chunked(text, at);
          return upsertBodyBuffers.withJoined(chunks, Buffer.byteLength(text), (bytes) => upsertInputOf('idx', bytes));
        };
        const [a, b] = await Promise.all([read(textA, cutsA), read(textB, cutsB)]);
        // Every buffer kept is overwritten, as the next bodies would.
        const garbage = Array.from({ length: 3 }, () => Buffer.alloc(200_000, 0x7b));
        await Promise.all(Array.from({ length: 4 }, () => upsertBodyBuffers.withJoined(garbage, 600_000, () => undefined)));
        expect(plain(a)).toEqual(plain(await upsertInputOf('idx', Buffer.from(textA))));
        expect(plain(b)).toEqual(plain(await upsertInputOf('idx', Buffer.from(textB))));
      }),
      { numRuns: 60 },
    );
  });

  it('lends one buffer to one use at a time, takes it back when the use settles, keeps at most its number', async () => {
    const buffers = new BodyBuffers(1024, 2);
    const chunks = [Buffer.from('ab'), Buffer.from('cd')];
    const seen: ArrayBufferLike[] = [];
    const first = await buffers.withJoined(chunks, 4, (bytes) => {
      seen.push(bytes.buffer);
      return bytes.toString();
    });
    expect(first).toBe('abcd');
    expect(buffers.kept).toBe(1);
    // Shared memory: a parser thread is handed the body itself, not a copy.
    expect(seen[0]).toBeInstanceOf(SharedArrayBuffer);
    // The next use gets the same buffer back; two at once get two.
    await buffers.withJoined(chunks, 4, (bytes) => void seen.push(bytes.buffer));
    expect(seen[1]).toBe(seen[0]);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const inUse = buffers.withJoined(chunks, 4, async (bytes) => {
      seen.push(bytes.buffer);
      await held;
    });
    await buffers.withJoined(chunks, 4, (bytes) => void seen.push(bytes.buffer));
    expect(seen[3]).not.toBe(seen[2]);
    release();
    await inUse;
    expect(buffers.kept).toBe(2);
    // Three at once: the third buffer is not kept.
    await Promise.all([0, 1, 2].map(() => buffers.withJoined(chunks, 4, () => new Promise((r) => setTimeout(r, 5)))));
    expect(buffers.kept).toBe(2);
  });

  it('gives a buffer back when the use fails', async () => {
    const buffers = new BodyBuffers(1024, 2);
    await expect(
      buffers.withJoined([Buffer.from('x'), Buffer.from('y')], 2, () => {
        throw new Error('bad body');
      }),
    ).rejects.toThrow('bad body');
    expect(buffers.kept).toBe(1);
  });

  it('joins a body larger than its buffers the usual way, and hands a single chunk over as it is', async () => {
    const buffers = new BodyBuffers(4, 2);
    const big = [Buffer.from('abc'), Buffer.from('def')];
    expect(await buffers.withJoined(big, 6, (bytes) => bytes.toString())).toBe('abcdef');
    expect(buffers.kept).toBe(0);
    const only = Buffer.from('whole');
    expect(await buffers.withJoined([only], 5, (bytes) => bytes)).toBe(only);
    expect(buffers.kept).toBe(0);
  });
});
