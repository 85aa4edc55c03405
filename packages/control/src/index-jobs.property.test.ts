import fc from 'fast-check';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from './database.ts';
import { createIndexJobs, type IndexJobs, type IndexJobState } from './index-jobs.ts';
import { migrateToLatest } from './migrate.ts';
import type { Database } from './schema.ts';

/**
 * Random sequences of queue operations on one connection against an in-memory model of the
 * state machine. Lapsed heartbeats are made by moving a claim's heartbeat an hour back (`age`),
 * so the test needs no waiting and no clock.
 */

const MAX_ATTEMPTS = 2;
const LEASE_MS = 60_000;
const NAMESPACES = ['a', 'b', 'c'];
const NODES = ['node_1', 'node_2', 'node_3'];

type Op =
  | { op: 'plan'; ns: number }
  | { op: 'claim'; node: number }
  | { op: 'age'; job: number }
  | { op: 'heartbeat' | 'complete' | 'fail'; job: number; node: number }
  | { op: 'cancel'; job: number };

interface ModelJob {
  id: string;
  namespace: string;
  state: IndexJobState;
  attempts: number;
  claimedBy: string | null;
  /** Its heartbeat was moved back past the lease. */
  aged: boolean;
  inputs: string[];
  outputs: string[];
}

/** A job by planning order, taken modulo the jobs so far plus one: the extra one does not exist. */
const jobIndex = fc.nat({ max: 7 });
/** -1 is the job's current claimer, so finishing ops mostly act on real claims. */
const nodeIndex = fc.oneof({ arbitrary: fc.constant(-1), weight: 3 }, { arbitrary: fc.nat({ max: NODES.length - 1 }), weight: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('plan' as const), ns: fc.nat({ max: NAMESPACES.length - 1 }) }),
  { arbitrary: fc.record({ op: fc.constant('claim' as const), node: fc.nat({ max: NODES.length - 1 }) }), weight: 2 },
  fc.record({ op: fc.constant('age' as const), job: jobIndex }),
  { arbitrary: fc.record({ op: fc.constantFrom('heartbeat' as const, 'complete' as const, 'fail' as const), job: jobIndex, node: nodeIndex }), weight: 3 },
  fc.record({ op: fc.constant('cancel' as const), job: jobIndex }),
);

const isOpen = (job: ModelJob) => job.state === 'pending' || job.state === 'running';

let db: Kysely<Database>;
let jobs: IndexJobs;

beforeAll(async () => {
  db = await openDatabase({});
  await migrateToLatest(db);
  jobs = createIndexJobs(db, { maxAttempts: MAX_ATTEMPTS });
});

afterAll(() => db.destroy());

async function run(ops: readonly Op[]): Promise<void> {
  await db.deleteFrom('index_jobs').execute();
  const model: ModelJob[] = []; // in planning order, which is the queue's order
  const at = (i: number): ModelJob | undefined => model[i % (model.length + 1)];
  const idOf = (i: number) => at(i)?.id ?? 'job_missing';
  const nodeFor = (i: number, node: number) => (node >= 0 ? NODES[node]! : (at(i)?.claimedBy ?? NODES[0]!));
  const ownedBy = (job: ModelJob | undefined, node: string) => job !== undefined && job.state === 'running' && job.claimedBy === node;

  for (const [step, op] of ops.entries()) {
    switch (op.op) {
      case 'plan': {
        const namespace = NAMESPACES[op.ns]!;
        const inputs = [`in_${step}_1`, `in_${step}_2`];
        const got = await jobs.plan({ indexId: 'idx_p', namespace, kind: 'compaction', inputs, baseVersion: step, writerEpoch: 1 });
        const open = model.find((j) => j.namespace === namespace && isOpen(j));
        if (open !== undefined) expect(got.id).toBe(open.id);
        else model.push({ id: got.id, namespace, state: 'pending', attempts: 0, claimedBy: null, aged: false, inputs, outputs: [] });
        break;
      }
      case 'claim': {
        const node = NODES[op.node]!;
        const got = await jobs.claim(node, LEASE_MS);
        for (const job of model) {
          if (job.state === 'running' && job.aged && job.attempts >= MAX_ATTEMPTS) job.state = 'failed';
        }
        const next = model.find((j) => j.state === 'pending' || (j.state === 'running' && j.aged));
        expect(got?.id).toBe(next?.id);
        if (next !== undefined) Object.assign(next, { state: 'running', claimedBy: node, attempts: next.attempts + 1, aged: false });
        break;
      }
      case 'age': {
        await db
          .updateTable('index_jobs')
          .set({ heartbeat_at: sql<Date>`heartbeat_at - interval '1 hour'` })
          .where('id', '=', idOf(op.job))
          .execute();
        const job = at(op.job);
        if (job?.state === 'running') job.aged = true;
        break;
      }
      case 'heartbeat': {
        const job = at(op.job);
        const node = nodeFor(op.job, op.node);
        const expected = ownedBy(job, node);
        expect(await jobs.heartbeat(idOf(op.job), node)).toBe(expected);
        if (expected) job!.aged = false;
        break;
      }
      case 'complete': {
        const job = at(op.job);
        const node = nodeFor(op.job, op.node);
        const expected = ownedBy(job, node);
        expect(await jobs.complete(idOf(op.job), node, { slabIds: [`out_${step}`] })).toBe(expected);
        if (expected) Object.assign(job!, { state: 'done', outputs: [`out_${step}`] });
        break;
      }
      case 'fail': {
        const job = at(op.job);
        const node = nodeFor(op.job, op.node);
        const expected = ownedBy(job, node);
        expect(await jobs.fail(idOf(op.job), node, `failure ${step}`)).toBe(expected);
        if (expected && job!.attempts < MAX_ATTEMPTS) Object.assign(job!, { state: 'pending', claimedBy: null, aged: false });
        else if (expected) job!.state = 'failed';
        break;
      }
      case 'cancel': {
        const job = at(op.job);
        const expected = job !== undefined && isOpen(job);
        expect(await jobs.cancel(idOf(op.job))).toBe(expected);
        if (expected) job!.state = 'cancelled';
        break;
      }
    }

    // The whole table agrees with the model after every step.
    const rows = await jobs.list({ limit: 1000 });
    const actual = new Map(rows.map((j) => [j.id, [j.state, j.attempts, j.claimedBy]]));
    expect(actual).toEqual(new Map(model.map((j) => [j.id, [j.state, j.attempts, j.claimedBy]])));
    for (const namespace of NAMESPACES) {
      const mine = model.filter((j) => j.namespace === namespace);
      expect(mine.filter(isOpen).length).toBeLessThanOrEqual(1);
      const inFlight = new Set(mine.flatMap((j) => (isOpen(j) ? j.inputs : j.state === 'done' ? j.outputs : [])));
      expect(await jobs.running('idx_p', namespace)).toEqual([...inFlight].sort());
    }
  }
}

it('plan, claim, heartbeat, complete, fail and cancel follow the model of the state machine', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60, size: 'max' }), (ops) => run(ops)),
    { numRuns: 50 },
  );
}, 120_000);
