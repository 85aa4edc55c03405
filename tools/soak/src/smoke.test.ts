import { describe, expect, it } from 'vitest';
import { runSoak, type FinalCheckContext } from './run.ts';
import { OP_KINDS } from './stats.ts';

/**
 * CI's soak smoke run: the real server on local disk for 18 s with 3 clients, restarted
 * with SIGTERM and with SIGKILL, every check on. Before the last end check one acknowledged
 * record is deleted behind the model's back (through the API, as any other client could): the
 * run must report exactly that record, and nothing else, so the end check is shown to catch a
 * lost write on the real server.
 */
describe('soak smoke run (local disk)', () => {
  it('runs every operation through restarts and kill -9, and its end check catches a record lost behind its back', async () => {
    const lines: string[] = [];
    let dropped: { index: string; namespace: string; id: string } | undefined;
    const corrupt = async ({ apis, targets }: FinalCheckContext) => {
      const target = targets.find((t) => t.model.presentIds().length > 0)!;
      const id = target.model.presentIds().sort()[0]!;
      dropped = { index: target.spec.index.name, namespace: target.spec.name, id };
      await apis[1]!.deleteIds(dropped.index, dropped.namespace, [id]);
    };
    const result = await runSoak({
      backend: 'local',
      // Room for a clean restart and a kill -9 before the restart-free tail even when the server
      // takes several seconds to start on a loaded machine.
      minutes: 0.45,
      clients: 3,
      seed: 42,
      out: undefined,
      docs: false,
      keep: 'never',
      restartEveryS: [3, 4],
      steadyFraction: 0.2,
      sampleEveryS: 1,
      finalRestart: true,
      log: (line) => lines.push(line),
      command: 'smoke.test.ts',
      beforeFinalCheck: corrupt,
      // Rare operations made common enough that a short run surely has some.
      weights: { deleteNamespace: 2, deleteAll: 1, deleteByFilter: 3, listNamespaces: 3 },
    });
    const context = `${lines.join('\n')}\n${JSON.stringify({ failures: result.failures, findings: result.findings, mismatches: result.mismatches }, null, 2)}`;

    expect(result.findings, context).toEqual([]);
    expect(result.restarts.clean, context).toBeGreaterThanOrEqual(1);
    expect(result.restarts.kill, context).toBeGreaterThanOrEqual(1);
    for (const kind of OP_KINDS) expect(result.operations[kind].ok, `${kind}\n${context}`).toBeGreaterThan(0);
    expect(result.runChecks.afterRestart, context).toBeGreaterThan(0);
    expect(result.engineActivity.flushes, context).toBeGreaterThan(0);
    expect(result.rss.max).toBeGreaterThan(0);
    expect(result.fds.max).toBeGreaterThan(0);

    const [end, afterRestart] = result.endChecks;
    expect(end!.mismatches, context).toBe(0);
    expect(end!.counts.recordsChecked).toBeGreaterThan(100);
    expect(afterRestart!.counts.recordsChecked).toBe(end!.counts.recordsChecked - 1);

    // The one record deleted behind the model's back, reported by the listing and the fetch, and nothing else.
    expect(result.mismatches.map((m) => [m.phase, m.check, m.index, m.namespace, m.id])).toEqual([
      ['end after restart', 'list: id missing', dropped!.index, dropped!.namespace, dropped!.id],
      ['end after restart', 'fetch: record missing', dropped!.index, dropped!.namespace, dropped!.id],
    ]);
    expect(result.passed).toBe(false);
    expect(result.failures).toEqual(['2 mismatches with the model']);
  }, 120_000);
});
