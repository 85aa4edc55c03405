import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseByteSize } from './byte-size.ts';

describe('parseByteSize', () => {
  it('reads binary and decimal units, and plain bytes', () => {
    expect(parseByteSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseByteSize('3GiB')).toBe(3 * 2 ** 30);
    expect(parseByteSize('3 gib')).toBe(3 * 2 ** 30);
    expect(parseByteSize('1.5GB')).toBe(1_500_000_000);
    expect(parseByteSize('1048576')).toBe(1_048_576);
    expect(parseByteSize('10b')).toBe(10);
  });

  it('refuses what is not a size', () => {
    for (const raw of ['', 'MiB', '-1GiB', '3 GiBs', '1e9', '0x10', '3 parsecs', '9'.repeat(30)]) expect(parseByteSize(raw)).toBeUndefined();
  });

  it('multiplies any whole count by its unit', () => {
    const units = { '': 1, B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, KB: 1e3, MB: 1e6, GB: 1e9 } as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])), (n, unit) => {
        expect(parseByteSize(`${n}${unit}`)).toBe(n * units[unit]);
      }),
    );
  });
});
