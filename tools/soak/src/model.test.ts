import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesFilter, type Filter, type Metadata } from './filter.ts';
import { NamespaceModel, type KeyState, type Outcome, type Write } from './model.ts';

/**
 * The model against a brute-force reference: the reference replays the writes once for every
 * combination of the unknown outcomes (applied or not) and keeps the combinations consistent
 * with what was observed; a key may be in exactly the states some combination leaves it in.
 */
const IDS = ['a', 'b', 'c'];
const VALUES = [
  [1, 0],
  [0, 1],
  [0.5, 2],
];

const metadataArb: fc.Arbitrary<Metadata> = fc.record({ color: fc.constantFrom('red', 'blue'), n: fc.integer({ min: 0, max: 3 }) });
const setMetadataArb: fc.Arbitrary<Metadata> = fc.oneof(
  fc.record({ n: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ color: fc.constantFrom('red', 'blue') }),
  fc.constant({ extra: 'x' }),
);
const filterArb: fc.Arbitrary<Filter> = fc.oneof(
  fc.constant<Filter>({ color: { $eq: 'red' } }),
  fc.constant<Filter>({ n: { $gte: 2 } }),
  fc.constant<Filter>({ $and: [{ color: { $in: ['blue'] } }, { n: { $lt: 2 } }] }),
);
const writeArb: fc.Arbitrary<Write> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .uniqueArray(fc.record({ id: fc.constantFrom(...IDS), values: fc.constantFrom(...VALUES), metadata: metadataArb }), {
        minLength: 1,
        maxLength: 2,
        selector: (r) => r.id,
      })
      .map((records): Write => ({ kind: 'upsert', records })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        id: fc.constantFrom(...IDS),
        values: fc.option(fc.constantFrom(...VALUES), { nil: undefined }),
        setMetadata: fc.option(setMetadataArb, { nil: undefined }),
      })
      .map((u): Write => ({ kind: 'update', id: u.id, ...(u.values ? { values: u.values } : {}), ...(u.setMetadata ? { setMetadata: u.setMetadata } : {}) })),
  },
  { weight: 2, arbitrary: fc.uniqueArray(fc.constantFrom(...IDS), { minLength: 1, maxLength: 2 }).map((ids): Write => ({ kind: 'delete', ids })) },
  { weight: 1, arbitrary: filterArb.map((filter): Write => ({ kind: 'deleteByFilter', filter })) },
  { weight: 1, arbitrary: fc.constant<Write>({ kind: 'deleteAll' }) },
  { weight: 1, arbitrary: fc.constant<Write>({ kind: 'deleteNamespace' }) },
);
const outcomeArb: fc.Arbitrary<Outcome> = fc.constantFrom<Outcome>('acknowledged', 'acknowledged', 'unknown');

type Step = { write: Write; outcome: Outcome } | { observe: string } | { observePresence: string } | { observeExistence: true };
const writeStepArb = fc.record({ write: writeArb, outcome: outcomeArb });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: writeStepArb },
  { weight: 1, arbitrary: fc.constantFrom(...IDS).map((id) => ({ observe: id })) },
  { weight: 1, arbitrary: fc.constantFrom(...IDS).map((id) => ({ observePresence: id })) },
  { weight: 1, arbitrary: fc.constant({ observeExistence: true as const }) },
);

/** At most 5 unknown outcomes, so the reference enumerates at most 32 combinations. */
const fewUnknowns = (steps: Step[]) => steps.filter((s) => 'outcome' in s && s.outcome === 'unknown').length <= 5;

/** The namespace as the server holds it: plain state, every write applied or not. */
interface Server {
  exists: boolean;
  records: Map<string, KeyState>;
}

function applyToServer(server: Server, write: Write): void {
  const { records } = server;
  switch (write.kind) {
    case 'upsert':
      server.exists = true;
      for (const r of write.records) records.set(r.id, { values: r.values, metadata: r.metadata });
      return;
    case 'update': {
      const s = records.get(write.id);
      if (s) records.set(write.id, { values: write.values ?? s.values, metadata: { ...s.metadata, ...write.setMetadata } });
      return;
    }
    case 'delete':
      for (const id of write.ids) records.delete(id);
      return;
    case 'deleteByFilter':
      for (const [id, s] of [...records]) if (s && matchesFilter(write.filter, s.metadata)) records.delete(id);
      return;
    case 'deleteAll':
      records.clear();
      return;
    case 'deleteNamespace':
      records.clear();
      server.exists = false;
      return;
  }
}

/** Order-insensitive form of a state, to compare sets of states. */
function canonical(s: KeyState | undefined): string {
  if (!s) return 'absent';
  return JSON.stringify([
    s.values,
    Object.keys(s.metadata)
      .sort()
      .map((k) => [k, s.metadata[k]]),
  ]);
}

/** Replays `steps` on a server where unknown write number i was applied iff bit i of `mask` is set. */
function serverFor(steps: Step[], mask: number): { server: Server; observed: Map<number, string> } {
  const server: Server = { exists: false, records: new Map() };
  const observed = new Map<number, string>();
  let unknown = 0;
  steps.forEach((step, i) => {
    if ('write' in step) {
      const applied = step.outcome === 'acknowledged' || ((mask >> unknown++) & 1) === 1;
      if (applied) applyToServer(server, step.write);
    } else if ('observe' in step) observed.set(i, canonical(server.records.get(step.observe)));
    else if ('observePresence' in step) observed.set(i, String(server.records.has(step.observePresence)));
    else observed.set(i, String(server.exists));
  });
  return { server, observed };
}

/** Per key (and for existence), every state a combination consistent with the true server's observations leaves. */
function reference(steps: Step[], truth: Map<number, string>): { states: Map<string, Set<string>>; existence: Set<boolean> } {
  const unknowns = steps.filter((s) => 'outcome' in s && s.outcome === 'unknown').length;
  const states = new Map(IDS.map((id) => [id, new Set<string>()]));
  const existence = new Set<boolean>();
  for (let mask = 0; mask < 1 << unknowns; mask++) {
    const { server, observed } = serverFor(steps, mask);
    if ([...truth].some(([i, v]) => observed.get(i) !== v)) continue;
    for (const id of IDS) states.get(id)!.add(canonical(server.records.get(id)));
    existence.add(server.exists);
  }
  return { states, existence };
}

/** Drives the model through `steps`, observing the true server's answers; returns it and every verdict. */
function runModel(steps: Step[], trueMask: number): { model: NamespaceModel; verdicts: boolean[] } {
  const model = new NamespaceModel('idx', 'ns');
  const { observed } = serverFor(steps, trueMask);
  const truthAt = serverSnapshots(steps, trueMask);
  const verdicts: boolean[] = [];
  steps.forEach((step, i) => {
    if ('write' in step) model.apply(step.write, step.outcome);
    else if ('observe' in step) verdicts.push(model.observe(step.observe, truthAt.get(i) ?? null).ok);
    else if ('observePresence' in step) verdicts.push(model.observePresence(step.observePresence, observed.get(i) === 'true').ok);
    else verdicts.push(model.observeExistence(observed.get(i) === 'true').ok);
  });
  return { model, verdicts };
}

/** The true server's state of the observed key at each observation step. */
function serverSnapshots(steps: Step[], mask: number): Map<number, KeyState> {
  const server: Server = { exists: false, records: new Map() };
  const at = new Map<number, KeyState>();
  let unknown = 0;
  steps.forEach((step, i) => {
    if ('write' in step) {
      if (step.outcome === 'acknowledged' || ((mask >> unknown++) & 1) === 1) applyToServer(server, step.write);
    } else if ('observe' in step) at.set(i, server.records.get(step.observe) ?? null);
  });
  return at;
}

const statesOf = (model: NamespaceModel, id: string) => new Set(model.possible(id).map(canonical));

describe('NamespaceModel against a brute-force reference', () => {
  it('without reads, a key may be in exactly the states some combination of unknown outcomes leaves it in', () => {
    fc.assert(
      fc.property(fc.array(writeStepArb, { maxLength: 14 }).filter(fewUnknowns), (steps) => {
        const { model } = runModel(steps, 0);
        const ref = reference(steps, new Map());
        for (const id of IDS) expect(statesOf(model, id)).toEqual(ref.states.get(id));
        expect(new Set(model.existence())).toEqual(ref.existence);
      }),
      { numRuns: 400 },
    );
  });

  it('its verdict on an observed state is right exactly when some combination leads there', () => {
    const candidates: KeyState[] = [
      null,
      ...VALUES.flatMap((values) => [
        { values, metadata: { color: 'red', n: 2 } },
        { values, metadata: { color: 'blue', n: 0 } },
      ]),
    ];
    fc.assert(
      fc.property(fc.array(writeStepArb, { maxLength: 10 }).filter(fewUnknowns), fc.constantFrom(...IDS), (steps, id) => {
        const ref = reference(steps, new Map());
        const possible = [...ref.states.get(id)!].map((c) =>
          c === 'absent' ? null : ({ values: JSON.parse(c)[0], metadata: Object.fromEntries(JSON.parse(c)[1]) } as KeyState),
        );
        for (const candidate of [...candidates, ...possible]) {
          const { model } = runModel(steps, 0);
          expect(model.observe(id, candidate).ok, `${canonical(candidate ?? undefined)} vs ${[...ref.states.get(id)!].join(' | ')}`).toBe(
            ref.states.get(id)!.has(canonical(candidate ?? undefined)),
          );
        }
        for (const exists of [true, false]) {
          const { model } = runModel(steps, 0);
          expect(model.observeExistence(exists).ok).toBe(ref.existence.has(exists));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('accepts whatever a server that applied any subset of the unknown writes shows, and stays a superset of the reference', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 18 }).filter(fewUnknowns), fc.integer({ min: 0, max: 31 }), (steps, trueMask) => {
        const { model, verdicts } = runModel(steps, trueMask);
        expect(verdicts.every(Boolean)).toBe(true);
        const { server, observed } = serverFor(steps, trueMask);
        const ref = reference(steps, observed);
        for (const id of IDS) {
          const states = statesOf(model, id);
          expect(states.has(canonical(server.records.get(id)))).toBe(true);
          for (const s of ref.states.get(id)!) expect(states.has(s)).toBe(true);
        }
        expect(model.existence()).toContain(server.exists);
      }),
      { numRuns: 400 },
    );
  });
});

describe('NamespaceModel verdicts', () => {
  const rec = (n: number) => ({ values: [n, 1], metadata: { color: 'red', n } });

  it('reports an acknowledged upsert that the server lost, and a deleted record that came back', () => {
    const model = new NamespaceModel('idx', 'ns');
    model.apply(
      {
        kind: 'upsert',
        records: [
          { id: 'a', ...rec(1) },
          { id: 'b', ...rec(2) },
        ],
      },
      'acknowledged',
    );
    model.apply({ kind: 'delete', ids: ['b'] }, 'acknowledged');
    expect(model.observe('a', null)).toEqual({ ok: false, expected: JSON.stringify(rec(1)), observed: 'absent' });
    expect(model.observePresence('b', true).ok).toBe(false);
    expect(model.observe('b', rec(2)).ok).toBe(false);
  });

  it('keeps both outcomes of an unknown write until a read decides, then only what was read', () => {
    const model = new NamespaceModel('idx', 'ns');
    model.apply({ kind: 'upsert', records: [{ id: 'a', ...rec(1) }] }, 'acknowledged');
    model.apply({ kind: 'update', id: 'a', setMetadata: { n: 7 } }, 'unknown');
    expect(model.uncertainIds()).toEqual(['a']);
    expect(model.observe('a', { values: [1, 1], metadata: { color: 'red', n: 7 } }).ok).toBe(true);
    expect(model.uncertainIds()).toEqual([]);
    expect(model.observe('a', rec(1)).ok).toBe(false);
  });

  it('a deleted namespace is absent with all its keys; an unknown namespace delete leaves both possibilities', () => {
    const model = new NamespaceModel('idx', 'ns');
    model.apply({ kind: 'upsert', records: [{ id: 'a', ...rec(1) }] }, 'acknowledged');
    model.apply({ kind: 'deleteNamespace' }, 'unknown');
    expect(model.existence()).toEqual([true, false]);
    expect(model.countRange()).toEqual([0, 1]);
    model.apply({ kind: 'deleteNamespace' }, 'acknowledged');
    expect(model.existence()).toEqual([false]);
    expect(model.observeExistence(true).ok).toBe(false);
    expect(model.possible('a')).toEqual([null]);
  });
});
