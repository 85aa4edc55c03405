import { binding } from './native.ts';

/** Where a read array ended and how many numbers it held (reused: one per caller, not per call). */
export interface NumberArrayRead {
  /** Index in `bytes` just past the closing `]`. */
  end: number;
  /** Numbers in the array. */
  count: number;
}

export type NumberArrayOutcome = 'ok' | 'invalid' | 'no-room';

const slots = new Float64Array(2);

/**
 * Reads the JSON array of numbers whose `[` is at `bytes[start]` into `out` from `outStart` on,
 * in native code (`std::from_chars`): each value is exactly `Math.fround(JSON.parse(text))`.
 * `'invalid'` when it is not an array of JSON numbers (whitespace allowed as JSON allows it) or a
 * value is not finite as a float32 — `out` may then hold garbage past `outStart`; `'no-room'`
 * when `out` is too short (`read.count` says how many numbers the array holds). Synchronous and
 * allocation-free: for the REST upsert reader, whose time goes to the digits of vector values.
 *
 * @example
 * const read = { end: 0, count: 0 };
 * readNumberArray(Buffer.from('[1, 2.5]'), 0, floats, 0, read); // 'ok', read = { end: 8, count: 2 }
 */
export function readNumberArray(bytes: Uint8Array, start: number, out: Float32Array, outStart: number, read: NumberArrayRead): NumberArrayOutcome {
  const status = binding().readNumberArray(bytes, start, out, outStart, slots);
  read.end = slots[0]!;
  read.count = slots[1]!;
  return status === 0 ? 'ok' : status === 2 ? 'no-room' : 'invalid';
}
