import fc from 'fast-check';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from './database.ts';
import { IndexPortsExhaustedError } from './errors.ts';
import { createIndexStore, type IndexStore } from './indexes.ts';
import { migrateToLatest } from './migrate.ts';
import { createProjectStore } from './projects.ts';
import type { Database } from './schema.ts';
import type { PortRange } from './types.ts';

/**
 * Random sequences of creates and two-step deletes over a range of a few ports, against a model of
 * the choice: a port no index held yet, lowest first, else the free one released longest ago.
 */

const RANGE: PortRange = { first: 9000, last: 9003 };
const PORTS = Array.from({ length: RANGE.last - RANGE.first + 1 }, (_, i) => RANGE.first + i);

type Op = { op: 'create' } | { op: 'begin' | 'finish'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant({ op: 'create' as const }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('begin' as const), pick: fc.nat({ max: 7 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('finish' as const), pick: fc.nat({ max: 7 }) }), weight: 2 },
);

interface ModelIndex {
  name: string;
  id: string;
  port: number;
  terminating: boolean;
}

let db: Kysely<Database>;
let indexes: IndexStore;
let projectId: string;

beforeAll(async () => {
  db = await openDatabase({});
  await migrateToLatest(db);
  indexes = createIndexStore(db, { cacheTtlMs: 0, now: Date.now });
  projectId = (await createProjectStore(db).create('ports')).id;
});

afterAll(() => db.destroy());

/** What the model expects the next create to get; undefined when every port is held. */
function modelChoice(live: readonly ModelIndex[], releasedAt: ReadonlyMap<number, number>): number | undefined {
  const free = PORTS.filter((port) => !live.some((index) => index.port === port));
  const neverHeld = free.filter((port) => !releasedAt.has(port));
  if (neverHeld.length > 0) return neverHeld[0];
  return free.sort((a, b) => releasedAt.get(a)! - releasedAt.get(b)!)[0];
}

async function run(ops: readonly Op[]): Promise<void> {
  await db.deleteFrom('indexes').execute();
  const live: ModelIndex[] = [];
  /** Port → step of its latest release (the order of the deletions). */
  const releasedAt = new Map<number, number>();

  for (const [step, op] of ops.entries()) {
    switch (op.op) {
      case 'create': {
        const expected = modelChoice(live, releasedAt);
        const name = `i-${step}`;
        if (expected === undefined) {
          await expect(indexes.create(projectId, { name, dimension: 2, metric: 'cosine' }, null, { hostPorts: RANGE })).rejects.toThrow(
            IndexPortsExhaustedError,
          );
        } else {
          const created = await indexes.create(projectId, { name, dimension: 2, metric: 'cosine' }, null, { hostPorts: RANGE });
          expect(created.hostPort).toBe(expected);
          live.push({ name, id: created.id, port: expected, terminating: false });
        }
        break;
      }
      case 'begin': {
        const ready = live.filter((index) => !index.terminating);
        const target = ready[op.pick % (ready.length + 1)];
        if (target === undefined) break;
        await indexes.beginDelete(projectId, target.name);
        target.terminating = true;
        break;
      }
      case 'finish': {
        const terminating = live.filter((index) => index.terminating);
        const target = terminating[op.pick % (terminating.length + 1)];
        if (target === undefined) break;
        await indexes.finishDelete(target.id);
        live.splice(live.indexOf(target), 1);
        releasedAt.set(target.port, step);
        // deleted_at has millisecond precision; distinct ones make "released longest ago" one port.
        const at = Date.now();
        while (Date.now() <= at) await new Promise((resolve) => setTimeout(resolve, 1));
        break;
      }
    }

    // Live ports are distinct, in the range, and the model's, after every step.
    const held = await indexes.hostPorts();
    expect(held.map((h) => [h.name, h.hostPort]).sort()).toEqual(live.map((index) => [index.name, index.port]).sort());
    expect(new Set(held.map((h) => h.hostPort)).size).toBe(held.length);
    for (const { hostPort } of held) expect(hostPort >= RANGE.first && hostPort <= RANGE.last).toBe(true);
  }
}

it('creates and deletes give the ports the model chooses, distinct and in range', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40, size: 'max' }), (ops) => run(ops)),
    { numRuns: 60 },
  );
}, 120_000);
