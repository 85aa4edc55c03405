import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { namespaceShare, ProcessMemory } from './memory-share.ts';

const MiB = 2 ** 20;

describe('the open namespaces’ share of the memory budget', () => {
  it('is what the caches and the process leave, never below a quarter of the budget', () => {
    // 3 GiB, 384 MiB of it the page cache's, a process of 420 MiB at start.
    expect(namespaceShare(3072 * MiB, 2688 * MiB, 420 * MiB)).toEqual({ bytes: 2268 * MiB, floored: false });
    // 16 MiB cannot hold the process at all: the namespaces get a quarter, and the operator is told.
    expect(namespaceShare(16 * MiB, 14 * MiB, 300 * MiB)).toEqual({ bytes: 4 * MiB, floored: true });
    fc.assert(
      fc.property(
        fc.integer({ min: 16 * MiB, max: 2 ** 40 }),
        fc.double({ min: 0.5, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 36 }),
        (budget, left, process) => {
          const available = Math.floor(budget * left);
          const share = namespaceShare(budget, available, process);
          expect(share.bytes).toBeGreaterThanOrEqual(Math.floor(budget / 4));
          // Within the budget whenever the process leaves room: process + share + caches = budget.
          if (!share.floored) expect(process + share.bytes + (budget - available)).toBe(budget);
          expect(share.floored).toBe(available - process < Math.floor(budget / 4));
        },
      ),
    );
  });
});

describe('the process’s own memory', () => {
  it('starts at its first reading and only goes down, by quiet readings, to its floor at least', () => {
    const own = new ProcessMemory(500 * MiB, 200 * MiB);
    // A reading while a compaction runs (counted before it allocates) says nothing.
    expect(own.observe({ rssBytes: 600 * MiB, countedBytes: 500 * MiB, quiet: false })).toBe(false);
    expect(own.bytes).toBe(500 * MiB);
    expect(own.observe({ rssBytes: 900 * MiB, countedBytes: 600 * MiB, quiet: true })).toBe(true);
    expect(own.bytes).toBe(300 * MiB);
    // More than that later (requests in flight) keeps the least seen.
    expect(own.observe({ rssBytes: 1200 * MiB, countedBytes: 600 * MiB, quiet: true })).toBe(false);
    expect(own.bytes).toBe(300 * MiB);
    // A budget that counts more than is resident never takes it below the floor.
    expect(own.observe({ rssBytes: 500 * MiB, countedBytes: 480 * MiB, quiet: true })).toBe(true);
    expect(own.bytes).toBe(200 * MiB);
  });

  it('never rises, whatever the readings (so a trim never closes namespaces because another closed)', () => {
    const reading = fc.record({ rssBytes: fc.nat(2 ** 34), countedBytes: fc.nat(2 ** 34), quiet: fc.boolean() });
    fc.assert(
      fc.property(fc.nat(2 ** 33), fc.nat(2 ** 33), fc.array(reading, { maxLength: 50 }), (start, floor, readings) => {
        const own = new ProcessMemory(start, floor);
        let last = own.bytes;
        for (const r of readings) {
          own.observe(r);
          expect(own.bytes).toBeLessThanOrEqual(last);
          expect(own.bytes).toBeGreaterThanOrEqual(Math.min(start, floor));
          last = own.bytes;
        }
      }),
    );
  });
});
