import { describe, expect, it } from 'vitest';
import { memoryPerMillion, sampleMemory } from './memory.ts';

const MiB = 2 ** 20;

describe('memory breakdown', () => {
  it('normalizes each delta per million vectors and separates native external memory from ArrayBuffers', () => {
    const before = { rss: 100 * MiB, heapUsed: 10 * MiB, external: 5 * MiB, arrayBuffers: 4 * MiB };
    const after = { rss: 400 * MiB, heapUsed: 30 * MiB, external: 205 * MiB, arrayBuffers: 104 * MiB };
    // 500k vectors: every delta doubles per million.
    expect(memoryPerMillion(before, after, 90 * MiB, 500_000)).toEqual({
      heapUsed: 40,
      arrayBuffers: 200,
      externalNative: 200,
      rss: 600,
      slabBytes: 180,
    });
  });

  it('samples the process', () => {
    const s = sampleMemory();
    expect(s.rss).toBeGreaterThan(0);
    expect(s.external).toBeGreaterThanOrEqual(s.arrayBuffers);
  });
});
