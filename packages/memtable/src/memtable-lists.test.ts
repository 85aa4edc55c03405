import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Memtable } from './memtable.ts';

/** A quantizer of `nlist` lists that puts a one-dimension row by its value (what the model knows too). */
const listOf = (value: number, nlist: number) => Math.abs(Math.trunc(value)) % nlist;

type Op = { kind: 'put'; id: number; value: number } | { kind: 'delete'; id: number } | { kind: 'assign'; max: number } | { kind: 'requantize' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), id: fc.integer({ min: 0, max: 60 }), value: fc.integer({ min: 0, max: 1000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('assign' as const), max: fc.integer({ min: 1, max: 80 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'requantize' as const }) },
);

describe('Memtable lists', () => {
  it('gives a query exactly the live rows of the probed lists, plus every live row not assigned yet', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 300 }),
        fc.integer({ min: 1, max: 7 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { maxLength: 7 }),
        (ops, nlist, probedLists) => {
          const m = new Memtable();
          let quantizer = {};
          let lsn = 0;
          /** The model: each id's live value. */
          const live = new Map<string, number>();
          for (const o of ops) {
            if (o.kind === 'put') {
              m.put(++lsn, String(o.id), Float32Array.of(o.value), undefined);
              live.set(String(o.id), o.value);
            } else if (o.kind === 'delete') {
              m.delete(++lsn, String(o.id));
              live.delete(String(o.id));
            } else if (o.kind === 'assign') {
              const pending = m.hasUnassigned(quantizer);
              const rows = m.unassignedRows(quantizer, o.max);
              expect(rows !== undefined).toBe(pending);
              if (rows) {
                expect(rows.slots.length).toBeLessThanOrEqual(o.max);
                m.assignLists(
                  quantizer,
                  rows.slots,
                  Int32Array.from(rows.vectors, (x) => listOf(x, nlist)),
                );
              }
            } else {
              quantizer = {};
              m.unassignedRows(quantizer, 0); // starts over: every row unassigned again
            }
          }
          const probed = Int32Array.from(probedLists.filter((l) => l < nlist));
          const candidates = m.listCandidates(quantizer, probed);
          if (m.listQuantizer !== quantizer) {
            expect(candidates).toBeUndefined();
            return;
          }
          const got = new Map<string, number>();
          for (const { chunk, rows } of candidates!) {
            const dim = chunk.vectors.length / chunk.ids.length;
            for (const row of rows) {
              expect(got.has(chunk.ids[row]!)).toBe(false);
              got.set(chunk.ids[row]!, chunk.vectors[row * dim]!);
            }
          }
          // Every live row of a probed list is offered; no dead row is; a row offered outside the
          // probed lists must be one not assigned yet (at most the rows written since the last batch).
          const unassigned = m.vectorChunks().reduce((n, c) => n + c.ids.length, 0) - m.assignedRows;
          let outside = 0;
          for (const [id, value] of live) if (probed.includes(listOf(value, nlist))) expect(got.get(id)).toBe(value);
          for (const [id, value] of got) {
            expect(live.get(id)).toBe(value);
            if (!probed.includes(listOf(value, nlist))) outside++;
          }
          expect(outside).toBeLessThanOrEqual(unassigned);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('takes the rows of a frozen memtable too, and ignores lists found for an earlier quantizer', () => {
    const m = new Memtable();
    for (let i = 0; i < 10; i++) m.put(i + 1, `r${i}`, Float32Array.of(i, i), undefined);
    m.freeze();
    const first = {};
    const rows = m.unassignedRows(first, 100)!;
    expect(Array.from(rows.vectors.subarray(0, 4))).toEqual([0, 0, 1, 1]);
    const second = {};
    expect(m.unassignedRows(second, 4)!.slots.length).toBe(4);
    m.assignLists(first, rows.slots, new Int32Array(10)); // found for the first quantizer: ignored
    expect(m.assignedRows).toBe(0);
    expect(m.listCandidates(first, Int32Array.of(0))).toBeUndefined();
    // Every row is a candidate until assigned.
    expect(m.listCandidates(second, Int32Array.of())!.reduce((n, c) => n + c.rows.length, 0)).toBe(10);
  });
});
