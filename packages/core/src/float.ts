/**
 * Vectors are stored as float32. Returning `Number(f32)` would turn an upserted 0.1 into
 * 0.10000000149011612; instead we return the shortest decimal that rounds to the same float32,
 * which is what the client sent whenever it sent a float32-representable number.
 */
export function float32ToShortest(value: number): number {
  // Integers up to 2^24 are exact in float32 and already shortest. Larger float32 integers are
  // rounded values (1.1e10 is stored as 11000000512) and need the search like any other.
  if (!Number.isFinite(value) || value === 0 || (Number.isInteger(value) && Math.abs(value) <= 2 ** 24)) return value;
  const powerOfTwo = isPowerOfTwo(value);
  for (let precision = 1; precision < 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return candidate;
    // At a power of two the float32 spacing above is twice the spacing below: the nearest decimal
    // can miss on the narrow side while the next one out, on the wide side, still rounds back.
    if (powerOfTwo) {
      const wider = nextDecimalAwayFromZero(value, precision);
      if (Math.fround(wider) === value) return wider;
    }
  }
  return Number(value.toPrecision(9));
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** True for a normal float32 with an all-zero mantissa, i.e. ±2^k. */
function isPowerOfTwo(value: number): boolean {
  scratch[0] = value;
  const bits = scratchBits[0]!;
  return (bits & 0x7fffff) === 0 && (bits & 0x7f800000) !== 0;
}

/** The `precision`-digit decimal one unit (in its last digit) farther from zero than the nearest one. */
function nextDecimalAwayFromZero(value: number, precision: number): number {
  const [mantissa, exponent] = value.toExponential(precision - 1).split('e') as [string, string];
  const digits = Number(mantissa.replace('-', '').replace('.', '')) + 1;
  return Number(`${value < 0 ? '-' : ''}${digits}e${Number(exponent) - (precision - 1)}`);
}

export function float32ArrayToNumbers(values: Float32Array): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToShortest(values[i]!);
  return out;
}
