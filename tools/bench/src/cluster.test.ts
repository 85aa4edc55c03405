import { describe, expect, it } from 'vitest';
import { clusterMarkdown, targetChecks } from './cluster-report.ts';
import { runClusterBench } from './cluster-run.ts';

/**
 * The cluster benchmark end to end at a tiny size (3,000 × 16, phases of a second or two, two
 * failover runs, nine namespaces on local disk), so `npm run bench:cluster` cannot rot: the single
 * process and both clusters start and stop, every part runs and reports. No timing assertions —
 * figures are for docs/benchmarks.md — only what must hold at any speed: nothing acknowledged is
 * lost, a read with the write's LSN finds it, a dead query node's namespaces are the only ones
 * that move. Needs PostgreSQL (CONIFER_TEST_DATABASE_URL, set by `npm test`).
 */
const databaseUrl = process.env['CONIFER_TEST_DATABASE_URL'];

describe.skipIf(!databaseUrl)('cluster benchmark (tiny)', () => {
  it('runs every part against the single process and the clusters', async () => {
    const r = await runClusterBench({
      size: { name: 'tiny', count: 3_000, dimension: 16 },
      scale: 'tiny',
      adminDatabaseUrl: databaseUrl!,
      movesStore: 'local',
      queries: 50,
      write: false,
      quiet: true,
      // Small memtables: the tiny dataset is flushed and compacted without the 30 s age flush.
      serverEnv: { CONIFER_MEMTABLE_MAX_RECORDS: '1000' },
    });
    for (const v of [...r.single.variants, ...r.cluster.variants]) {
      expect(v.idle.queries, v.label).toBeGreaterThan(0);
      expect(v.burst.queries, v.label).toBeGreaterThan(0);
      expect(v.burstWrites.vectors, v.label).toBeGreaterThan(0);
    }
    expect(r.cluster.variants).toHaveLength(2);
    expect(r.ingestRatio).toBeGreaterThan(0);
    expect(r.failover.runs).toHaveLength(2);
    for (const run of r.failover.runs) expect(run.failoverMs).toBeLessThan(30_000);
    expect(r.failover.acknowledged).toBeGreaterThan(0);
    expect(r.failover.lost).toBe(0);
    expect(r.readYourWrites.found).toBe(r.readYourWrites.pairs);
    expect(r.staleness.neverVisible).toBe(0);
    expect(r.moves.movedThoughNotOnVictim).toBe(0);
    expect(r.moves.movedAsRanked).toBe(true);
    // Rendezvous over 10,000 names: the dead node's share is a third, give or take a point or two.
    expect(r.moves.movedBySamplePercent).toBeGreaterThan(30);
    expect(r.moves.movedBySamplePercent).toBeLessThan(37);
    expect(r.moves.servedByWinnerBefore).toBe(100);
    // The report renders (its figures are not checked here).
    expect(targetChecks(r)).toHaveLength(8);
    expect(clusterMarkdown(r, 'test')).toContain('## Cluster (roles as processes): synthetic tiny (3,000 × 16)');
  }, 120_000);
});
