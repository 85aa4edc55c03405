import { compareHits, sparseMatch, type Filter, type Metadata, type SparseF32 } from '@conifer/core';
import { Memtable } from '@conifer/memtable';
import { Bitset, buildSlab, SlabReader, type SlabRow } from '@conifer/slab';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { searchSnapshot } from './search.ts';
import { computeShadows } from './snapshot.ts';
import { searchPostings } from './sparse-search.ts';

const EMPTY = new Float32Array(0);
const ID_POOL = Array.from({ length: 200 }, (_, i) => `id-${String(i).padStart(2, '0')}`);

/** Terms drawn with a skew (low terms common), values of either sign, as learned sparse encoders give. */
const sparseArb = (vocab: number, maxTerms: number) =>
  fc
    .uniqueArray(
      fc.integer({ min: 0, max: vocab * vocab - 1 }).map((x) => Math.floor(Math.sqrt(x))),
      { minLength: 1, maxLength: maxTerms },
    )
    .chain((indices) =>
      fc
        .array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -2, max: 8 }), { minLength: indices.length, maxLength: indices.length })
        .map((values): SparseF32 => {
          const order = indices.map((_, i) => i).sort((a, b) => indices[a]! - indices[b]!);
          return { indices: Uint32Array.from(order, (i) => indices[i]!), values: Float32Array.from(order, (i) => values[i]!) };
        }),
    );

const versionArb = fc.record({
  id: fc.constantFrom(...ID_POOL),
  deleted: fc.boolean().map((b) => b && Math.random() < 0.3),
  sparse: sparseArb(12, 5),
  group: fc.integer({ min: 0, max: 2 }),
});

interface Version {
  id: string;
  deleted: boolean;
  sparse: SparseF32;
  group: number;
}

describe('sparse search', () => {
  it('answers exactly what a brute-force scan of the newest live versions does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(versionArb, { maxLength: 150 }), { maxLength: 4 }),
        fc.array(versionArb, { maxLength: 15 }),
        sparseArb(12, 6),
        fc.integer({ min: 1, max: 6 }),
        fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
        async (slabSpecs, memSpec, query, topK, group) => {
          // Slabs are given oldest first; each keeps the last version of an id it was given.
          let lsn = 0;
          const readers: SlabReader[] = [];
          for (const [at, spec] of slabSpecs.entries()) {
            const rows = new Map<string, SlabRow>();
            for (const v of spec) {
              lsn++;
              rows.set(
                v.id,
                v.deleted ? { id: v.id, lsn, values: null, metadata: undefined } : { id: v.id, lsn, values: EMPTY, sparse: v.sparse, metadata: { g: v.group } },
              );
            }
            const { bytes } = await buildSlab([...rows.values()], { dimension: 0, level: 0 });
            readers.unshift(new SlabReader(`s${at}`, bytes));
          }
          const memtable = new Memtable();
          for (const v of memSpec) {
            lsn++;
            if (v.deleted) memtable.delete(lsn, v.id);
            else memtable.put(lsn, v.id, EMPTY, { g: v.group }, v.sparse);
          }
          const snapshot = { memtables: [memtable], slabs: await computeShadows(readers) };
          const filter: Filter | undefined = group === undefined ? undefined : { g: { $eq: group } };
          const hits = await searchSnapshot(snapshot, { metric: 'dotproduct', vector: EMPTY, sparse: query, topK, filter });

          // The model: newest version of each id, oldest slab first, memtable last.
          const newest = new Map<string, Version>();
          for (const spec of slabSpecs) for (const v of spec) newest.set(v.id, v);
          for (const v of memSpec) newest.set(v.id, v);
          const expected = [...newest.values()]
            .filter((v) => !v.deleted && (group === undefined || v.group === group))
            .flatMap((v) => {
              const score = sparseMatch(query, v.sparse);
              return score === undefined ? [] : [{ id: v.id, score }];
            })
            .sort(compareHits('dotproduct'))
            .slice(0, topK);
          expect(hits.map((h) => ({ id: h.id, score: h.score }))).toEqual(expected);
          for (const hit of hits) {
            const v = newest.get(hit.id)!;
            expect(hit.sparse()).toEqual(v.sparse);
            expect(hit.metadata()).toEqual({ g: v.group } satisfies Metadata);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('prunes: a large skewed slab is answered exactly while most postings are never scored', async () => {
    // Seeded, so the figure this test checks is stable.
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const zipf = (n: number) => Math.floor(n ** random()) - 1; // heavy head, long tail
    const rows: SlabRow[] = [];
    for (let i = 0; i < 20_000; i++) {
      const terms = new Map<number, number>();
      for (let k = 0; k < 30; k++) terms.set(zipf(5000), random() * 3 - 0.2);
      const indices = [...terms.keys()].sort((a, b) => a - b);
      rows.push({
        id: `r${i}`,
        lsn: i + 1,
        values: EMPTY,
        sparse: { indices: Uint32Array.from(indices), values: Float32Array.from(indices, (t) => terms.get(t)!) },
        metadata: undefined,
      });
    }
    const { bytes } = await buildSlab(rows, { dimension: 0, level: 0 });
    const reader = new SlabReader('big', bytes);
    for (let q = 0; q < 20; q++) {
      const terms = new Map<number, number>();
      for (let k = 0; k < 12; k++) terms.set(zipf(5000), random());
      const indices = [...terms.keys()].sort((a, b) => a - b);
      const query = { indices: Uint32Array.from(indices), values: Float32Array.from(indices, (t) => terms.get(t)!) };
      const best: { id: string; score: number }[] = [];
      let visited = 0;
      const compare = compareHits('dotproduct');
      searchPostings(
        reader.postings(),
        query,
        Bitset.full(reader.count),
        () => (best.length < 10 ? -Infinity : best[9]!.score),
        (row) => {
          visited++;
          best.push({ id: reader.ids.at(row)!, score: sparseMatch(query, reader.sparse(row)!)! });
          best.sort(compare).splice(10);
        },
      );
      const brute = rows
        .flatMap((r) => {
          const score = sparseMatch(query, r.sparse!);
          return score === undefined ? [] : [{ id: r.id, score }];
        })
        .sort(compare);
      expect(best).toEqual(brute.slice(0, 10));
      // Far fewer rows reach exact scoring than share a term with the query.
      expect(visited).toBeLessThan(brute.length / 4);
    }
  });
});
