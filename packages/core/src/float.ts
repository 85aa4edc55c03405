/**
 * Vectors are stored as float32. Returning `Number(f32)` would turn an upserted 0.1 into
 * 0.10000000149011612; instead we return the shortest decimal that rounds to the same float32,
 * which is what the client sent whenever it sent a float32-representable number.
 */
export function float32ToShortest(value: number): number {
  if (!Number.isFinite(value) || value === 0 || Number.isInteger(value)) return value;
  for (let precision = 1; precision < 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return candidate;
  }
  return Number(value.toPrecision(9));
}

export function float32ArrayToNumbers(values: Float32Array): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToShortest(values[i]!);
  return out;
}
