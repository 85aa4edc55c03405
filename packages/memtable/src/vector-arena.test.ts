import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VectorArena } from './vector-arena.ts';

describe('VectorArena', () => {
  it('allocates little for a few rows, and grows chunk by chunk', () => {
    const arena = new VectorArena();
    for (let i = 0; i < 10; i++) arena.append(`r${i}`, new Float32Array(128).fill(i));
    // Ten 128-d rows in a 16-row first chunk: 8 KiB of floats, not megabytes.
    expect(arena.allocatedBytes).toBeLessThan(16 * 1024);
    for (let i = 10; i < 100_000; i++) arena.append(`r${i}`, new Float32Array(128));
    // Doubling chunks: never more than twice what was appended, plus one largest chunk.
    expect(arena.allocatedBytes).toBeLessThan(2 * arena.bytes + 4 * 1024 * 1024 + 100_000);
  });

  it('finds every row again by its slot, whatever chunk it landed in (model)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.array(fc.nat(), { maxLength: 50 }), fc.constantFrom(1, 3, 64, 300), (rows, kills, dimension) => {
        const arena = new VectorArena();
        const slots: number[] = [];
        for (let i = 0; i < rows; i++) slots.push(arena.append(`r${i}`, new Float32Array(dimension).fill(i)).slot);
        const dead = new Set(kills.map((k) => k % rows));
        for (const row of dead) arena.kill(slots[row]!);
        const seen: { id: string; first: number; live: boolean }[] = [];
        for (const chunk of arena.chunks())
          chunk.ids.forEach((id, r) => seen.push({ id, first: chunk.vectors[r * dimension]!, live: (chunk.live[r >>> 3]! & (1 << (r & 7))) !== 0 }));
        expect(seen.length).toBe(rows);
        const wrong = seen.findIndex((s, i) => s.id !== `r${i}` || s.first !== i || s.live === dead.has(i));
        expect(wrong).toBe(-1);
        expect(arena.chunks().reduce((n, c) => n + c.liveCount, 0)).toBe(rows - dead.size);
      }),
      { numRuns: 30 },
    );
  });
});
