import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fastUpsertOf, packReadBody, readUpsertBody, recordsOf, recordsOfPacked, type FastUpsert } from './upsert-fast-path.ts';
import { MIN_THREAD_BODY_BYTES, UpsertParser } from './upsert-parser.ts';

/**
 * A body read on a parser thread must be exactly what the fast reader gives on the event loop:
 * the same namespace, ids, float32 values (bit for bit) and metadata, or the same "not the usual
 * shape" (undefined) that sends the body to the general path.
 */

const bytesOf = (text: string) => new TextEncoder().encode(text);

/** The same answer, compared field by field (values as their float32 bits). */
function expectSame(got: FastUpsert | undefined, want: FastUpsert | undefined): void {
  if (want === undefined) {
    expect(got).toBeUndefined();
    return;
  }
  expect(got).toBeDefined();
  expect(got!.namespace).toBe(want.namespace);
  expect(got!.records.map((r) => r.id)).toEqual(want.records.map((r) => r.id));
  got!.records.forEach((r, i) => {
    const w = want.records[i]!;
    expect(r.values).toBeInstanceOf(Float32Array);
    expect(new Uint32Array(Float32Array.from(r.values).buffer)).toEqual(new Uint32Array(Float32Array.from(w.values).buffer));
    expect(r.metadata).toEqual(w.metadata);
    if (w.metadata) expect(Object.keys(r.metadata!)).toEqual(Object.keys(w.metadata));
  });
}

/** Records with where each one's values sit in their buffer (first float, count), for comparing bodies packed and not. */
function placed({ namespace, records }: FastUpsert) {
  return {
    namespace,
    records: records.map((r) => ({ id: r.id, at: (r.values as Float32Array).byteOffset / 4, length: r.values.length, metadata: r.metadata })),
  };
}

const metadata = fc.dictionary(
  // Now and then an own "__proto__" key, which the schema refuses: such a body goes to the general path.
  fc.oneof({ arbitrary: fc.string({ maxLength: 6 }), weight: 9 }, { arbitrary: fc.constant('__proto__'), weight: 1 }),
  fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  ),
  { maxKeys: 3 },
);

/** An upsert body, padded with trailing whitespace to at least `minBytes`, optionally with one byte changed. */
const body = (minBytes: number) =>
  fc
    .record({
      namespace: fc.option(fc.string({ maxLength: 8 })),
      records: fc.array(
        fc.record({
          id: fc.oneof({ weight: 19, arbitrary: fc.stringMatching(/^[\w-]{1,12}$/) }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) }),
          values: fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 16 }),
          metadata: fc.option(metadata),
        }),
        { minLength: 1, maxLength: 20 },
      ),
      corruptAt: fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: fc.nat() }),
      byte: fc.constantFrom(...'{}[]":,.-e1 x'.split('').map((c) => c.charCodeAt(0))),
    })
    .map(({ namespace, records, corruptAt, byte }) => {
      const text = JSON.stringify({
        ...(namespace !== null ? { namespace } : {}),
        vectors: records.map((r) => ({ id: r.id, values: r.values, ...(r.metadata !== null ? { metadata: r.metadata } : {}) })),
      });
      const bytes = bytesOf(text.padEnd(Math.max(text.length, minBytes), ' '));
      if (corruptAt !== null) bytes[corruptAt % text.length] = byte;
      return bytes;
    });

describe('UpsertParser', () => {
  const parser = new UpsertParser(2);
  afterAll(() => parser.close());

  it('reads a body on a thread exactly as the fast reader reads it on the event loop', async () => {
    let read = 0;
    await fc.assert(
      fc.asyncProperty(body(MIN_THREAD_BODY_BYTES), fc.boolean(), async (bytes, inSharedMemory) => {
        const want = fastUpsertOf(bytes);
        // A lent body buffer is shared memory (body-buffers.ts): the thread reads it in place.
        const sent = inSharedMemory ? new Uint8Array(new SharedArrayBuffer(bytes.length)) : bytes;
        if (inSharedMemory) sent.set(bytes);
        expectSame(await parser.parse(sent), want);
        if (want !== undefined) read++;
      }),
      { numRuns: 150, seed: 19 },
    );
    // Not only bodies the reader gives up on.
    expect(read).toBeGreaterThan(20);
  });

  it('reads a body handed over as its chunks exactly as the fast reader reads it whole, or hands it back joined', async () => {
    let read = 0;
    await fc.assert(
      fc.asyncProperty(body(MIN_THREAD_BODY_BYTES), fc.array(fc.nat(), { maxLength: 6 }), async (bytes, cuts) => {
        // Each chunk in memory of its own, as Node's HTTP parser hands a body over.
        const at = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((from, i) => bytes.slice(from, i < at.length ? at[i] : bytes.length)).filter((c) => c.length > 0);
        expect(parser.takesChunks(chunks, bytes.length)).toBe(true);
        const want = fastUpsertOf(bytes);
        const got = await parser.parseChunks(chunks, bytes.length);
        // Moved to the thread, not copied: the caller's chunks are empty now.
        expect(chunks.every((c) => c.byteLength === 0)).toBe(true);
        if (want === undefined) {
          expect(got.fast).toBeUndefined();
          expect(Buffer.compare(got.bytes!, bytes)).toBe(0);
        } else {
          expectSame(got.fast, want);
          read++;
        }
      }),
      { numRuns: 150, seed: 23 },
    );
    expect(read).toBeGreaterThan(20);
  });

  it('takes chunks only when a thread is worth it and each chunk can be moved whole', () => {
    const [large] = fc.sample(body(MIN_THREAD_BODY_BYTES), { numRuns: 1, seed: 5 });
    const half = Math.floor(large!.length / 2);
    const own = () => [large!.slice(0, half), large!.slice(half)];
    expect(parser.takesChunks(own(), large!.length)).toBe(true);
    expect(new UpsertParser(0).takesChunks(own(), large!.length)).toBe(false);
    expect(parser.takesChunks([bytesOf('{"vectors":[]}')], 14)).toBe(false);
    // A view into a larger buffer (Buffer's pool, say): moving it would take the rest too.
    expect(parser.takesChunks([large!.subarray(0, half), large!.slice(half)], large!.length)).toBe(false);
    const shared = new Uint8Array(new SharedArrayBuffer(large!.length));
    shared.set(large!);
    expect(parser.takesChunks([shared], large!.length)).toBe(false);
  });

  it('reads many bodies at once over its threads, each answer to its own body', async () => {
    const bodies = fc.sample(body(MIN_THREAD_BODY_BYTES), { numRuns: 24, seed: 7 });
    const answers = await Promise.all(bodies.map((bytes) => parser.parse(bytes)));
    answers.forEach((answer, i) => expectSame(answer, fastUpsertOf(bodies[i]!)));
  });

  it('reads a large plain body of 1000 vectors into one buffer, values as float32', async () => {
    const records = Array.from({ length: 1000 }, (_, i) => ({ id: `r${i}`, values: Array.from({ length: 128 }, (_, d) => Math.sin(i * 128 + d)) }));
    const bytes = bytesOf(JSON.stringify({ namespace: 'films', vectors: records }));
    const read = (await parser.parse(bytes))!;
    expect(read.records).toHaveLength(1000);
    expect(read.records[999]!.values[127]).toBe(Math.fround(Math.sin(999 * 128 + 127)));
    expect(new Set(read.records.map((r) => (r.values as Float32Array).buffer)).size).toBe(1);
  });

  it('reads small bodies, and every body with 0 threads, on the calling thread', async () => {
    const inline = new UpsertParser(0);
    const small = bytesOf('{"vectors":[{"id":"a","values":[0.1,2]}]}');
    expectSame(await parser.parse(small), fastUpsertOf(small));
    const [large] = fc.sample(body(MIN_THREAD_BODY_BYTES), { numRuns: 1, seed: 3 });
    expectSame(await inline.parse(large!), fastUpsertOf(large!));
  });

  it('packs a read body for the way back and unpacks it to the same rows, metadata as either form', () => {
    const forms = { json: 0 };
    fc.assert(
      fc.property(body(0), (bytes) => {
        const read = readUpsertBody(bytes);
        if (read === undefined) return;
        const packed = structuredClone(packReadBody(read));
        if (packed.metadataJson !== undefined) forms.json++;
        expect(placed(recordsOfPacked(packed))).toEqual(placed(recordsOf(read)));
      }),
      { numRuns: 300, seed: 23 },
    );
    expect(forms.json).toBeGreaterThan(20);
    // Metadata the schema gave back (not its text as read) travels as values.
    const read = {
      namespace: 'n',
      floats: new Float32Array([1, 2, 3, 4]),
      rows: [
        { id: 'a', start: 0, end: 2, metadata: { k: 'v' } },
        { id: 'b', start: 2, end: 4, metadata: undefined },
      ],
    };
    const packed = structuredClone(packReadBody(read));
    expect(packed.metadataJson).toBeUndefined();
    expect(placed(recordsOfPacked(packed))).toEqual(placed(recordsOf(read)));
    expect(recordsOfPacked(packReadBody({ namespace: '', floats: new Float32Array(0), rows: [] })).records).toEqual([]);
  });

  it('keeps a metadata value of -0 through a thread, as the event loop reads it', async () => {
    const text = JSON.stringify({ vectors: [{ id: 'a', values: [1, 2], metadata: { x: 0, y: 'z' } }] }).replace('"x":0', '"x":-0');
    const bytes = bytesOf(text.padEnd(MIN_THREAD_BODY_BYTES, ' '));
    const read = (await parser.parse(bytes))!;
    expect(Object.is(read.records[0]!.metadata!['x'], -0)).toBe(true);
    expectSame(read, fastUpsertOf(bytes));
  });

  it('prestarts one thread, once, and none when it has none', () => {
    const one = new UpsertParser(1);
    one.prestart();
    one.prestart();
    expect(one.started).toBe(1);
    one.close();
    const none = new UpsertParser(0);
    none.prestart();
    expect(none.started).toBe(0);
  });

  it('refuses a thread count outside [0, 64]', () => {
    expect(() => new UpsertParser(-1)).toThrow(RangeError);
    expect(() => parser.setThreads(65)).toThrow(RangeError);
  });

  it('fails the bodies a dying thread held, and starts a new thread for the next body', async () => {
    // A fake thread: a real one cannot be made to die on demand.
    const dying = new UpsertParser(1, { workerUrl: new URL('./testing/exiting-parse-worker.ts', import.meta.url) });
    const [large] = fc.sample(body(MIN_THREAD_BODY_BYTES), { numRuns: 1, seed: 5 });
    await expect(dying.parse(large!)).rejects.toThrow(/exited \(code 3\)/);
    await expect(dying.parse(large!)).rejects.toThrow(/exited \(code 3\)/);
    dying.close();
  });
});
