import { describe, expect, it } from 'vitest';
import { fetchReadUnits, queryReadUnits, recordBytes, reportedUnits, writeUnits } from './units.ts';

describe('unit rules', () => {
  it('sizes a record as id + metadata JSON + 4 B per dimension + 8 B per sparse entry', () => {
    expect(recordBytes({ id: 'abc', values: [1, 2], metadata: { g: 'x' } })).toBe(3 + '{"g":"x"}'.length + 8);
    expect(recordBytes({ id: 'é', values: [1], sparseValues: { indices: [1, 2, 3] } })).toBe(2 + 4 + 24);
    expect(recordBytes({ id: 'a', values: [1], metadata: {} })).toBe(5);
  });

  it('charges writes per KiB with a minimum of 5', () => {
    expect(writeUnits(0)).toBe(5);
    expect(writeUnits(5 * 1024)).toBe(5);
    expect(writeUnits(5 * 1024 + 1)).toBe(6);
  });

  it('charges queries per GiB of namespace with a minimum of 0.25, reported rounded up', () => {
    expect(queryReadUnits(0)).toBe(0.25);
    expect(queryReadUnits(2 * 1024 ** 3)).toBe(2);
    expect(reportedUnits(queryReadUnits(1000))).toBe(1);
  });

  it('charges fetches per 10 records returned, at least 1', () => {
    expect([0, 1, 10, 11, 100].map(fetchReadUnits)).toEqual([1, 1, 1, 2, 10]);
  });
});
