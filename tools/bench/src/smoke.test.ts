import { describe, expect, it } from 'vitest';
import { runBench } from './run.ts';

/**
 * CI's benchmark smoke check (issue: the S size must finish and reach the recall target; no
 * timing assertions — timings are for docs/benchmarks.md, measured by `npm run bench`).
 * 100k × 128 goes through ingest, flush, compaction into an IVF slab, and queries at the default
 * recall target, unfiltered and at 1%, 10%, 50% and 99% filter selectivity, then a close and
 * reopen (cold vs warm, cheap). The HTTP scenario (server child process) and queries during
 * ingest + compaction are left to `npm run bench`.
 */
describe('benchmark smoke (size S)', () => {
  it('finishes and every scenario reaches recall@10 >= 0.95', async () => {
    const { rows, facts } = await runBench({
      size: 'S',
      queries: 200,
      peers: false,
      http: false,
      interference: false,
      coldStart: true,
      write: false,
      quiet: true,
    });
    expect((facts['slabs'] as string[]).some((s) => s.includes('IVF'))).toBe(true);
    const scenarios = rows.filter((r) => r.scenario === 'target 0.95' || r.scenario.startsWith('filter'));
    expect(scenarios.map((r) => r.scenario)).toEqual(expect.arrayContaining(['target 0.95', 'filter 1%', 'filter 10%', 'filter 50%', 'filter 99%']));
    expect((facts['coldStart'] as { warmRecall: number }).warmRecall).toBeGreaterThanOrEqual(0.95);
    const writes = facts['writesUnderReads'] as { upsertMs: { p50: number }; queriesPerSecond: number };
    expect(writes.upsertMs.p50).toBeGreaterThan(0);
    expect(writes.queriesPerSecond).toBeGreaterThan(0);
    for (const row of scenarios) expect(row.recall, `${row.scenario} at concurrency ${row.concurrency}`).toBeGreaterThanOrEqual(0.95);
  }, 600_000);
});
