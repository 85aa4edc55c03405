import fc from 'fast-check';
import { InvalidArgumentError } from '@conifer/core';
import type { RecordInput } from '@conifer/engine';
import { describe, expect, it } from 'vitest';
import { decodeRecordFrame, encodeRecordFrame } from './record-frame.ts';

/** The frame's chunks joined at `offset` bytes into a buffer, as a request body can arrive. */
function joined(chunks: readonly Uint8Array[], offset: number): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(offset + total);
  let at = offset;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out.subarray(offset);
}

const float32 = fc.float({ noNaN: true, noDefaultInfinity: true }).map(Math.fround);
// Numbers carried in the JSON header read back as JSON reads them: -0 as 0 (the same value to every
// score and filter). Dense values travel as float32 and keep it.
const jsonNumber = (n: number): number => (n === 0 ? 0 : n);
const metadata = fc.dictionary(
  fc.string(),
  fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }).map(jsonNumber), fc.boolean(), fc.array(fc.string())),
);
const sparse = fc
  .array(fc.tuple(fc.nat(), float32.map(jsonNumber)), { maxLength: 6 })
  .map((pairs) => ({ indices: pairs.map((p) => p[0]), values: pairs.map((p) => p[1]) }));
const record: fc.Arbitrary<RecordInput> = fc.record(
  {
    id: fc.string({ minLength: 1 }),
    values: fc.oneof(
      fc.array(fc.float({ noNaN: true }).map(Math.fround), { maxLength: 9 }),
      fc.array(float32, { maxLength: 9 }).map((v) => Float32Array.from(v)),
    ),
    sparseValues: sparse,
    metadata,
  },
  { requiredKeys: ['id', 'values'] },
);

describe('record frame (gateway → writer upserts)', () => {
  it('gives back every record as it was: ids, float32 values, sparse values, metadata, at any byte offset', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 20 }), fc.nat(7), fc.boolean(), (records, offset, pooled) => {
        const frame = joined(encodeRecordFrame(records), offset);
        // A request body arrives as a Buffer, often a view into a pooled one shared with others.
        const back = decodeRecordFrame(pooled ? Buffer.from(frame) : frame);
        expect(back.map((r) => ({ ...r, values: Array.from(r.values) }))).toEqual(records.map((r) => ({ ...r, values: Array.from(r.values) })));
        for (const r of back) expect(r.values).toBeInstanceOf(Float32Array);
      }),
      { numRuns: 300 },
    );
  });

  it('sends values that lie consecutively in one buffer as they are, and copies any others', () => {
    const block = new Float32Array([1, 2, 3, 4, 5, 6]);
    const views = [
      { id: 'a', values: block.subarray(1, 3) },
      { id: 'b', values: block.subarray(3, 6) },
    ];
    const [, sent] = encodeRecordFrame(views);
    expect(sent!.buffer).toBe(block.buffer);
    expect(Array.from(new Float32Array(sent!.slice().buffer))).toEqual([2, 3, 4, 5, 6]);
    // A gap, another buffer or a plain array: copied (and still read back exactly).
    for (const records of [
      [views[0]!, { id: 'b', values: block.subarray(4, 6) }],
      [views[0]!, { id: 'b', values: Float32Array.from([4, 5, 6]) }],
      [views[0]!, { id: 'b', values: [4, 5, 6] }],
    ]) {
      const chunks = encodeRecordFrame(records);
      expect(chunks[1]!.buffer).not.toBe(block.buffer);
      expect(decodeRecordFrame(joined(chunks, 0)).map((r) => Array.from(r.values))).toEqual(records.map((r) => Array.from(r.values)));
    }
  });

  it('refuses anything that is not a whole frame, never returning part of one', () => {
    const whole = joined(
      encodeRecordFrame([
        { id: 'a', values: [1, 2] },
        { id: 'b', values: [3, 4] },
      ]),
      0,
    );
    for (const cut of [0, 3, 8, whole.length - 4, whole.length - 1]) {
      expect(() => decodeRecordFrame(whole.subarray(0, cut)), `cut at ${cut}`).toThrow(InvalidArgumentError);
    }
    const extra = new Uint8Array(whole.length + 4);
    extra.set(whole);
    expect(() => decodeRecordFrame(extra)).toThrow(/belong to no record/);
    const notJson = whole.slice();
    notJson[4] = 0x7b; // "{" where the array starts: the header no longer parses.
    notJson[5] = 0x7b;
    expect(() => decodeRecordFrame(notJson)).toThrow(InvalidArgumentError);
  });
});
