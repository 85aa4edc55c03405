import { describe, expect, it } from 'vitest';
import { Memtable } from './memtable.ts';

const v = (...xs: number[]) => Float32Array.from(xs);

describe('Memtable', () => {
  it('keeps the newest version per id, tombstones included', () => {
    const m = new Memtable();
    m.put(1, 'a', v(1), { k: 'x' });
    m.put(2, 'a', v(2), undefined);
    m.delete(3, 'b');
    expect(m.get('a')).toEqual({ lsn: 2, values: v(2), metadata: undefined });
    expect(m.get('b')).toEqual({ lsn: 3, values: null, metadata: undefined });
    expect(m.size).toBe(2);
    expect([m.minLsn, m.maxLsn]).toEqual([1, 3]);
  });

  it('applies LSNs in order only, and never after freezing', () => {
    const m = new Memtable();
    m.put(5, 'a', v(1), undefined);
    m.put(5, 'b', v(1), undefined); // one batch shares an LSN
    expect(() => m.put(4, 'c', v(1), undefined)).toThrow(/in order/);
    m.freeze();
    expect(() => m.put(6, 'c', v(1), undefined)).toThrow(/frozen/);
  });

  it('deleteAll clears entries and records the LSN that hides older layers', () => {
    const m = new Memtable();
    m.put(1, 'a', v(1, 2), undefined);
    m.deleteAll(2);
    m.put(3, 'b', v(1, 2), undefined);
    expect(m.get('a')).toBeUndefined();
    expect(m.clearedAtLsn).toBe(2);
    expect(m.size).toBe(1);
  });

  it('tracks approximate bytes as entries are replaced', () => {
    const m = new Memtable();
    expect(m.bytes).toBe(0);
    m.put(1, 'a', new Float32Array(100), undefined);
    const one = m.bytes;
    expect(one).toBeGreaterThan(400);
    m.put(2, 'a', new Float32Array(100), undefined);
    expect(m.bytes).toBe(one);
    m.delete(3, 'a');
    expect(m.bytes).toBeLessThan(one);
    expect(m.isEmpty).toBe(false);
    expect(new Memtable().isEmpty).toBe(true);
  });
});
