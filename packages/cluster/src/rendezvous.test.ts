import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rank } from './rendezvous.ts';

const nodeIds = fc.uniqueArray(fc.stringMatching(/^node_[a-z0-9]{4,12}$/), { minLength: 2, maxLength: 8 });
const keys = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 50 });

describe('rendezvous ranking', () => {
  it('is a permutation of the nodes that does not depend on their order', () => {
    fc.assert(
      fc.property(nodeIds, fc.string(), (ids, key) => {
        const nodes = ids.map((id) => ({ id }));
        const ranked = rank(key, nodes).map((n) => n.id);
        expect([...ranked].sort()).toEqual([...ids].sort());
        expect(rank(key, [...nodes].reverse()).map((n) => n.id)).toEqual(ranked);
      }),
    );
  });

  it('removing a node moves only the keys it won, each to its second choice', () => {
    fc.assert(
      fc.property(nodeIds, keys, fc.nat(), (ids, ks, pick) => {
        const nodes = ids.map((id) => ({ id }));
        const gone = ids[pick % ids.length]!;
        const rest = nodes.filter((n) => n.id !== gone);
        for (const key of ks) {
          const before = rank(key, nodes);
          const after = rank(key, rest);
          if (before[0]!.id === gone) expect(after[0]!.id).toBe(before[1]!.id);
          else expect(after[0]!.id).toBe(before[0]!.id);
        }
      }),
    );
  });

  it('spreads keys evenly: with 3 nodes each wins about a third of 30,000 keys, and losing one moves about a third', () => {
    const nodes = ['node_a', 'node_b', 'node_c'].map((id) => ({ id }));
    const wins = new Map<string, number>();
    let moved = 0;
    for (let i = 0; i < 30_000; i++) {
      const key = `idx_${i % 7}\u0000ns-${i}`;
      const winner = rank(key, nodes)[0]!.id;
      wins.set(winner, (wins.get(winner) ?? 0) + 1);
      if (rank(key, nodes.slice(1))[0]!.id !== winner) moved++;
    }
    for (const count of wins.values()) expect(Math.abs(count - 10_000)).toBeLessThan(600);
    expect(Math.abs(moved - 10_000)).toBeLessThan(600);
  });
});
