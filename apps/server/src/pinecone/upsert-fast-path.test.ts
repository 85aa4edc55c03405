import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { UpsertInput } from '@conifer/api';
import { fastUpsertOf } from './upsert-fast-path.ts';
import { jsonObjectOf, upsertRequestOf } from './upsert-body.ts';

/**
 * The fast reader is checked against the general path (JSON.parse and the schema) on generated
 * bodies: it must either give up or give exactly that path's request, values as float32. It must
 * also not give up on the plain bodies it exists for, or the checks above would hold vacuously.
 */

const bytesOf = (text: string) => new TextEncoder().encode(text);

/** The general path's request, or undefined where it answers a 400. */
function general(bytes: Uint8Array): UpsertInput | undefined {
  try {
    return upsertRequestOf('idx', jsonObjectOf(bytes));
  } catch {
    return undefined;
  }
}

/** Fails unless the fast reader gave up or agrees with the general path. */
function agrees(bytes: Uint8Array): 'fast' | 'general' {
  const fast = fastUpsertOf(bytes);
  if (!fast) return 'general';
  const slow = general(bytes);
  expect(slow, 'the fast path accepted a body the general path refuses').toBeDefined();
  expect(fast.namespace).toBe(slow!.namespace);
  expect(fast.records.length).toBe(slow!.records.length);
  fast.records.forEach((r, i) => {
    const s = slow!.records[i]!;
    expect(r.id).toBe(s.id);
    expect(r.values).toBeInstanceOf(Float32Array);
    expect(Array.from(r.values, (v) => (Object.is(v, -0) ? '-0' : v))).toEqual(
      Array.from(s.values, (v) => (Object.is(Math.fround(v), -0) ? '-0' : Math.fround(v))),
    );
    expect(r.metadata).toEqual(s.metadata);
    expect(s.sparseValues).toBeUndefined();
  });
  return 'fast';
}

/** One value in one record: the stored float32 the fast reader gives, or undefined. */
function single(text: string): number | undefined {
  return fastUpsertOf(bytesOf(`{"vectors":[{"id":"a","values":[${text}]}]}`))?.records[0]?.values[0];
}

/** Valid JSON number text of every form: shortest, fixed, exponent, long digit strings. */
const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => JSON.stringify(v)),
  fc.float({ noNaN: true, noDefaultInfinity: true }).map((v) => JSON.stringify(v)),
  fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 30 })).map(([v, d]) => v.toFixed(d)),
  fc
    .tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 25 }), fc.constantFrom('e+', 'E', 'e'))
    .map(([v, d, marker]) => v.toExponential(d).replace('e+', marker)),
  fc
    .tuple(
      fc.boolean(),
      fc.stringMatching(/^(0|[1-9][0-9]{0,30})$/),
      fc.option(fc.stringMatching(/^[0-9]{1,30}$/)),
      fc.option(fc.integer({ min: -60, max: 60 })),
    )
    .map(([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `e${exp}`}`),
);

/** Decimal text near a float32 rounding boundary (the midpoint of two neighbours), where a sloppy parser rounds the wrong way. */
const nearBoundary: fc.Arbitrary<string> = fc
  .tuple(
    fc.float({ min: Math.fround(1e-30), max: Math.fround(1e30), noNaN: true }),
    fc.integer({ min: 15, max: 24 }),
    fc.integer({ min: -3, max: 3 }),
    fc.boolean(),
  )
  .map(([f, digits, nudge, neg]) => {
    const up = new Float32Array([f]);
    new Uint32Array(up.buffer)[0]! += 1;
    const midpoint = (f + up[0]!) / 2; // exact as a double
    const text = midpoint.toExponential(Math.min(digits, 100));
    // Nudging the last digit moves the text to just below, at or just above the boundary.
    const [mantissa, exponent] = text.split('e');
    const last = Number(mantissa!.slice(-1));
    const nudged = Math.min(9, Math.max(0, last + nudge));
    return `${neg ? '-' : ''}${mantissa!.slice(0, -1)}${nudged}e${exponent}`;
  });

const whitespace = fc.constantFrom('', ' ', '\n', '\t ', '\r\n  ');

const asciiId = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7f }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 20 });

const metadata = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  ),
  { maxKeys: 4 },
);

/** An upsert body as text: JSON.stringify's or spaced out, numbers in any valid form. */
const bodyText: fc.Arbitrary<string> = fc
  .record({
    namespace: fc.option(fc.oneof(fc.constantFrom('', '__default__', 'ns', ' x'), fc.string({ maxLength: 12 }))),
    records: fc.array(
      fc.record({
        id: asciiId,
        values: fc.array(fc.oneof(numberText, nearBoundary), { minLength: 1, maxLength: 12 }),
        metadata: fc.option(metadata),
        keyOrder: fc.boolean(),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    ws: whitespace,
    namespaceLast: fc.boolean(),
  })
  .map(({ namespace, records, ws, namespaceLast }) => {
    const recordText = records.map((r) => {
      const fields = [`"id"${ws}:${ws}${JSON.stringify(r.id)}`, `"values":${ws}[${ws}${r.values.join(`${ws},${ws}`)}${ws}]`];
      if (r.metadata !== null) fields.push(`"metadata":${ws}${JSON.stringify(r.metadata)}`);
      if (r.keyOrder) fields.reverse();
      return `{${ws}${fields.join(`,${ws}`)}${ws}}`;
    });
    const parts = [`"vectors"${ws}:${ws}[${recordText.join(`,${ws}`)}]`];
    if (namespace !== null) parts[namespaceLast ? 'push' : 'unshift'](`"namespace":${JSON.stringify(namespace)}`);
    return `${ws}{${ws}${parts.join(`,${ws}`)}${ws}}${ws}`;
  });

describe('fastUpsertOf', () => {
  it('stores every JSON number as Math.fround(JSON.parse(text)) would, or gives up only when that is not finite', () => {
    fc.assert(
      fc.property(fc.oneof(numberText, nearBoundary), (text) => {
        const expected = Math.fround(JSON.parse(text) as number);
        const got = single(text);
        if (Number.isFinite(expected)) expect(Object.is(got, expected), `${text}: ${got} vs ${expected}`).toBe(true);
        else expect(got).toBeUndefined();
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with the general path on generated bodies, and reads the plain ones itself', () => {
    fc.assert(
      fc.property(bodyText, (text) => {
        const bytes = bytesOf(text);
        const path = agrees(bytes);
        // A plain body is all the fast reader exists for: it may give up only on escapes, on
        // metadata or namespaces the schema refuses, or on values outside float32.
        const slow = general(bytes);
        const plain = slow !== undefined && !text.includes('\\') && !/[^\x20-\x7e\s]/.test(text) && slow.records.every((r) => r.metadata === undefined);
        if (plain) expect(path).toBe('fast');
      }),
      { numRuns: 3_000 },
    );
  });

  it('agrees with the general path on corrupted bodies (a byte changed, inserted or removed)', () => {
    const bytes = fc.constantFrom(...'{}[]":,.-+eE0123456789 \\tnul'.split('').map((c) => c.charCodeAt(0)));
    fc.assert(
      fc.property(bodyText, fc.nat(), fc.constantFrom('set', 'insert', 'delete'), bytes, (text, at, how, byte) => {
        const body = Array.from(bytesOf(text));
        const i = at % body.length;
        if (how === 'set') body[i] = byte;
        else if (how === 'insert') body.splice(i, 0, byte);
        else body.splice(i, 1);
        agrees(Uint8Array.from(body));
      }),
      { numRuns: 5_000 },
    );
  });

  it('gives up on what it does not read itself, so the general path words the error', () => {
    const cases = [
      '',
      '{}',
      '{"vectors":[]}',
      '{"vectors":[{"id":"a","values":[]}]}',
      '{"vectors":[{"id":"","values":[1]}]}',
      '{"vectors":[{"id":"a","values":[1e39]}]}',
      '{"vectors":[{"id":"a","values":[NaN]}]}',
      '{"vectors":[{"id":"a","values":[01]}]}',
      '{"vectors":[{"id":"a","values":[1,]}]}',
      '{"vectors":[{"id":"a","values":[1]}],}',
      '{"vectors":[{"id":"a","values":[1]}]} x',
      '{"vectors":[{"id":"a","id":"b","values":[1]}]}',
      '{"vectors":[{"id":"a\\u0041","values":[1]}]}',
      '{"vectors":[{"id":"a","values":[1],"sparseValues":{"indices":[1],"values":[1]}}]}',
      '{"vectors":[{"id":"a","values":[1],"metadata":null}]}',
      '{"vectors":[{"id":"a","values":[1],"extra":1}]}',
      '{"vectors":[{"id":"a","values":[1]}],"namespace":"a\\tb"}',
      `{"vectors":[{"id":"${'x'.repeat(513)}","values":[1]}]}`,
      `{"vectors":[${Array.from({ length: 1001 }, (_, i) => `{"id":"${i}","values":[1]}`).join(',')}]}`,
    ];
    for (const text of cases) expect(fastUpsertOf(bytesOf(text)), text).toBeUndefined();
  });

  it('reads a large plain body into one buffer, with metadata parsed by the schema', () => {
    const records = Array.from({ length: 1000 }, (_, i) => ({
      id: `r${i}`,
      values: Array.from({ length: 128 }, (_, d) => Math.sin(i * 128 + d)),
      ...(i % 10 === 0 ? { metadata: { genre: 'drama', year: 1990 + (i % 30), tags: ['a', 'b'] } } : {}),
    }));
    const bytes = bytesOf(JSON.stringify({ namespace: 'films', vectors: records }));
    const fast = fastUpsertOf(bytes)!;
    expect(fast.namespace).toBe('films');
    expect(fast.records).toHaveLength(1000);
    expect(fast.records[999]!.values[127]).toBe(Math.fround(Math.sin(999 * 128 + 127)));
    expect(fast.records[10]!.metadata).toEqual({ genre: 'drama', year: 2000, tags: ['a', 'b'] });
    expect(new Set(fast.records.map((r) => (r.values as Float32Array).buffer)).size).toBe(1);
    expect(agrees(bytes)).toBe('fast');
  });
});
