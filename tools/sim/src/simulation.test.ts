import { describe, expect, it } from 'vitest';
import { runSimulation } from './simulation.ts';

/**
 * The deterministic simulation in `npm test`: a bounded run of seeds (`npm run sim` runs more), and
 * the seeds that found the bugs fixed with it, kept as regressions. A failing seed prints its first
 * problems and the events before them; `npm run sim -- --seed <it> --seeds 1` replays it exactly.
 */
const STEPS = 1500;
const SEEDS = Number(process.env['CONIFER_SIM_SEEDS'] ?? 100);
/**
 * Seeds that failed before a fix. A change to the workload or the engine draws other interleavings
 * from the same seed, so these are kept as cheap extra coverage, not as exact replays.
 */
const REGRESSIONS = [3, 7, 21, 28, 32, 50, 103, 142, 196];

function report(result: Awaited<ReturnType<typeof runSimulation>>): string {
  return `seed ${result.seed}: ${result.problems.slice(0, 3).join('\n  ')}\nlast events:\n  ${result.trace.slice(-25).join('\n  ')}`;
}

describe('deterministic simulation', () => {
  it('replays a seed exactly', async () => {
    const first = await runSimulation({ seed: 11, steps: 600 });
    const again = await runSimulation({ seed: 11, steps: 600 });
    expect(again).toEqual(first);
    expect(first.operations).toBeGreaterThan(50);
  });

  it.each(REGRESSIONS)('passes seed %i, which found a bug', async (seed) => {
    const result = await runSimulation({ seed, steps: STEPS });
    expect(result.problems, report(result)).toEqual([]);
  });

  it(`passes ${SEEDS} seeds of ${STEPS} steps with crashes, failpoints, faults and two writers`, async () => {
    const totals = {
      operations: 0,
      acknowledged: 0,
      crashes: 0,
      failpointCrashes: 0,
      restarts: 0,
      recordsVerified: 0,
      lostAcks: 0,
      takeovers: 0,
      indexerBuilds: 0,
      indexerCrashes: 0,
    };
    for (let seed = 1_000; seed < 1_000 + SEEDS; seed++) {
      const result = await runSimulation({ seed, steps: STEPS });
      expect(result.problems, report(result)).toEqual([]);
      totals.operations += result.operations;
      totals.acknowledged += result.acknowledged;
      totals.crashes += result.crashes;
      totals.failpointCrashes += result.failpointCrashes;
      totals.restarts += result.restarts;
      totals.recordsVerified += result.recordsVerified;
      totals.lostAcks += result.deliveries['lost-ack'];
      totals.takeovers += result.takeovers;
      totals.indexerBuilds += result.indexerBuilds;
      totals.indexerCrashes += result.indexerCrashes;
    }
    // The run did what it is for: every kind of disruption happened, and data was checked.
    expect(totals.crashes).toBeGreaterThan(SEEDS);
    expect(totals.failpointCrashes).toBeGreaterThan(SEEDS / 2);
    expect(totals.restarts).toBeGreaterThan(SEEDS);
    expect(totals.lostAcks).toBeGreaterThan(SEEDS);
    expect(totals.recordsVerified).toBeGreaterThan(SEEDS * 20);
    expect(totals.takeovers).toBeGreaterThan(SEEDS);
    expect(totals.indexerBuilds).toBeGreaterThan(SEEDS);
    expect(totals.indexerCrashes).toBeGreaterThan(SEEDS / 10);
    console.log(`simulation: ${JSON.stringify(totals)}`);
  }, 600_000);
});
