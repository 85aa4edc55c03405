import type { SparseF32 } from '@conifer/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSlab } from './builder.ts';
import type { SlabRow } from './format.ts';
import { BLOCK_SIZE, buildPostings, findTerm } from './postings.ts';
import { SlabReader } from './reader.ts';

const sparseArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 8 })
  .chain((indices) =>
    fc
      .array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }), { minLength: indices.length, maxLength: indices.length })
      .map((values): SparseF32 => ({ indices: Uint32Array.from([...indices].sort((a, b) => a - b)), values: Float32Array.from(values) })),
  );

const rowsArb = fc.uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 6 }), tombstone: fc.boolean(), sparse: sparseArb }), {
  selector: (r) => r.id,
  maxLength: 300,
});

function toRows(input: { id: string; tombstone: boolean; sparse: SparseF32 }[]): SlabRow[] {
  return input.map((r, i) => ({
    id: r.id,
    lsn: i + 1,
    values: r.tombstone ? null : new Float32Array(0),
    ...(r.tombstone ? {} : { sparse: r.sparse }),
    metadata: undefined,
  }));
}

describe('sparse postings', () => {
  it('list exactly the live rows of each term, ascending, with their values and bounds', async () => {
    await fc.assert(
      fc.asyncProperty(rowsArb, async (input) => {
        const { bytes, header } = await buildSlab(toRows(input), { dimension: 0, level: 0 });
        expect(header.postings).toBeDefined();
        const reader = new SlabReader('s', bytes);
        const postings = reader.postings();
        // The model: term → [row, value] in row order, from the rows as the slab stores them.
        const model = new Map<number, [number, number][]>();
        for (let row = 0; row < reader.count; row++) {
          const sparse = reader.sparse(row);
          sparse?.indices.forEach((term, i) => {
            if (!model.has(term)) model.set(term, []);
            model.get(term)!.push([row, sparse.values[i]!]);
          });
        }
        expect(Array.from(postings.terms)).toEqual([...model.keys()].sort((a, b) => a - b));
        for (const [term, list] of model) {
          const t = findTerm(postings, term);
          const start = postings.termStart[t]!;
          const end = postings.termStart[t + 1]!;
          expect(Array.from(postings.rows.subarray(start, end))).toEqual(list.map(([row]) => row));
          expect(Array.from(postings.values.subarray(start, end))).toEqual(list.map(([, v]) => v));
          expect(postings.termMax[t]).toBe(Math.max(...list.map(([, v]) => v)));
          expect(postings.termMin[t]).toBe(Math.min(...list.map(([, v]) => v)));
          for (let b = postings.blockStart[t]!, k = start; k < end; b++, k += BLOCK_SIZE) {
            const block = list.slice(k - start, k - start + BLOCK_SIZE);
            expect(postings.blockLast[b]).toBe(block.at(-1)![0]);
            expect(postings.blockMax[b]).toBe(Math.max(...block.map(([, v]) => v)));
            expect(postings.blockMin[b]).toBe(Math.min(...block.map(([, v]) => v)));
          }
        }
        expect(findTerm(postings, 100_000)).toBe(-1);
        // Built in memory for a slab without them: the same index.
        const rebuilt = buildPostings(reader.count, (row) => reader.sparse(row));
        expect(Array.from(rebuilt.rows)).toEqual(Array.from(postings.rows));
        expect(Array.from(rebuilt.blockMax)).toEqual(Array.from(postings.blockMax));
      }),
      { numRuns: 60 },
    );
  });

  it('are stored only in sparse-only slabs', async () => {
    const dense = await buildSlab(
      [{ id: 'a', lsn: 1, values: Float32Array.from([1, 2]), sparse: { indices: Uint32Array.of(3), values: Float32Array.of(1) }, metadata: undefined }],
      {
        dimension: 2,
        level: 0,
      },
    );
    expect(dense.header.postings).toBeUndefined();
    // A hybrid slab can still be searched by its sparse part: the index is built on demand.
    expect(Array.from(new SlabReader('d', dense.bytes).postings().terms)).toEqual([3]);
  });

  it('survive a checksum-verified load', async () => {
    const rows = toRows(
      Array.from({ length: 500 }, (_, i) => ({
        id: `r${i}`,
        tombstone: i % 7 === 0,
        sparse: { indices: Uint32Array.of(i % 5, 10 + (i % 3)), values: Float32Array.of(i, -i) },
      })),
    );
    const { bytes } = await buildSlab(rows, { dimension: 0, level: 1, metadataIndex: true });
    const reader = await SlabReader.load('s', bytes);
    const p = reader.postings();
    expect(p.terms.length).toBe(8);
    expect(p.rows.length).toBe(rows.filter((r) => r.values !== null).length * 2);
  });
});
