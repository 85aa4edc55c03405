import fc from 'fast-check';
import { assertValidKey } from '@conifer/storage';
import { describe, expect, it } from 'vitest';
import { decodeNamespace, encodeNamespace } from './layout.ts';

describe('namespace encoding', () => {
  it('is reversible, a valid single key segment, lower case, and at most 200 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 1, max: 127 }).map((c) => String.fromCharCode(c)), maxLength: 512 }), (name) => {
        const enc = encodeNamespace(name);
        expect(enc.length).toBeLessThanOrEqual(200);
        expect(enc).toBe(enc.toLowerCase());
        expect(enc.includes('/')).toBe(false);
        expect(() => assertValidKey(`idx/${enc}/log/1`)).not.toThrow();
        const back = decodeNamespace(enc);
        if (back !== undefined) expect(back).toBe(name);
        else expect(enc).toMatch(/^nh_[0-9a-f]{64}$/);
      }),
    );
  });

  it('keeps distinct names apart, including names differing only in case', () => {
    expect(encodeNamespace('A')).not.toBe(encodeNamespace('a'));
    expect(encodeNamespace('')).toBe('ns_');
    expect(encodeNamespace('..')).toBe('ns_..');
    expect(encodeNamespace('x'.repeat(300))).not.toBe(encodeNamespace('x'.repeat(301)));
  });
});
