import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Memtable } from './memtable.ts';

const v = (...xs: number[]) => Float32Array.from(xs);

describe('Memtable', () => {
  it('keeps the newest version per id, tombstones included', () => {
    const m = new Memtable();
    m.put(1, 'a', v(1), { k: 'x' });
    m.put(2, 'a', v(2), undefined);
    m.delete(3, 'b');
    // The second put of 'a' is the arena's second row.
    expect(m.get('a')).toEqual({ lsn: 2, values: v(2), metadata: undefined, slot: 1 });
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
    // A replaced vector keeps its packed row until the flush, so it still counts: rewriting one
    // hot id over and over must still fill the memtable.
    m.put(2, 'a', new Float32Array(100), undefined);
    expect(m.bytes).toBe(one + 400);
    m.delete(3, 'a'); // so does a deleted one
    expect(m.bytes).toBe(one + 400);
    expect(m.isEmpty).toBe(false);
    expect(new Memtable().isEmpty).toBe(true);
  });

  it('packs live vectors into chunks whose bitmap marks exactly the newest live version per id', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('put', 'put', 'put', 'delete', 'deleteAll'), fc.integer({ min: 0, max: 30 }), fc.float({ noNaN: true })), {
          maxLength: 3000,
        }),
        (ops) => {
          const m = new Memtable();
          const model = new Map<string, number>();
          ops.forEach(([op, key, x], i) => {
            const id = `id${key}`;
            if (op === 'put') {
              m.put(i + 1, id, v(x, -x, 1), undefined);
              model.set(id, x);
            } else if (op === 'delete') {
              m.delete(i + 1, id);
              model.delete(id);
            } else {
              m.deleteAll(i + 1);
              model.clear();
            }
          });
          const live = new Map<string, number>();
          let bits = 0;
          for (const chunk of m.vectorChunks()) {
            let count = 0;
            chunk.ids.forEach((id, row) => {
              if ((chunk.live[row >> 3]! & (1 << (row & 7))) === 0) return;
              count++;
              expect(live.has(id)).toBe(false);
              live.set(id, chunk.vectors[row * 3]!);
            });
            expect(chunk.liveCount).toBe(count);
            bits += count;
          }
          expect(bits).toBe(model.size);
          expect(live).toEqual(model);
          // An entry's vector is the packed row (a view, not a second copy).
          for (const [id, x] of model) expect(m.get(id)!.values).toEqual(v(x, -x, 1));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('answers what it held as of an earlier LSN, across overwrites, deletes and deleteAll', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('put', 'put', 'delete', 'deleteAll'), fc.integer({ min: 0, max: 6 })), { maxLength: 60 }), (ops) => {
        const m = new Memtable();
        const history: Map<string, number>[] = [new Map()];
        const state = new Map<string, number>();
        ops.forEach(([op, key], i) => {
          const lsn = i + 1;
          const id = `id${key}`;
          if (op === 'put') {
            m.put(lsn, id, v(lsn), undefined);
            state.set(id, lsn);
          } else if (op === 'delete') {
            m.delete(lsn, id);
            state.set(id, lsn);
          } else {
            m.deleteAll(lsn);
            state.clear();
          }
          history.push(new Map(state));
        });
        history.forEach((expected, lsn) => {
          for (let key = 0; key <= 6; key++) expect(m.getAsOf(`id${key}`, lsn)?.lsn).toBe(expected.get(`id${key}`));
        });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a vector of another dimension than the first', () => {
    const m = new Memtable();
    m.put(1, 'a', v(1, 2), undefined);
    expect(() => m.put(2, 'b', v(1, 2, 3), undefined)).toThrow(/dimensions/);
    expect(m.get('b')).toBeUndefined();
  });
});
