import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnavailableError, type Index, type RecordToUpsert, type UpsertResponse } from '@conifer/sdk';
import type { SourceItem } from './records-reader.ts';
import { runUpsert, type OnError } from './upsert-runner.ts';

/**
 * The upsert runner against a simulated index (a model: a map of stored records), with the faults
 * a real server produces at random — a bad record refused with its position, a request failing —
 * and random latencies so that concurrent batches finish out of order. A real server is used by
 * e2e/src/sdk-package.test.ts; here thousands of orderings are checked.
 */
interface Line {
  id: string;
  /** Not JSON at all (refused while reading). */
  unreadable: boolean;
  /** Read fine, refused by the server (a wrong dimension). */
  refused: boolean;
}

function simulatedIndex(seed: number, failRate: number): { index: Pick<Index, 'upsert'>; stored: Set<string> } {
  const stored = new Set<string>();
  let state = seed >>> 0 || 1;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const index = {
    async upsert(records: RecordToUpsert[]): Promise<UpsertResponse> {
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 3)));
      const bad = records.flatMap((r, i) => (r.values?.length !== 3 ? [i] : []));
      if (bad.length > 0) {
        throw InvalidArgumentError.of(
          bad.map((i) => ({ path: ['records', i, 'values'], message: 'Vector dimension 2 does not match the dimension of the index 3' })),
        );
      }
      if (random() < failRate) throw new UnavailableError('simulated outage');
      for (const r of records) stored.add(r.id);
      return { upsertedCount: records.length, lsn: stored.size };
    },
  };
  return { index, stored };
}

async function* itemsOf(lines: Line[]): AsyncGenerator<SourceItem> {
  for (const [i, line] of lines.entries()) {
    if (line.unreadable) yield { line: i + 1, error: 'not valid JSON' };
    else yield { line: i + 1, record: { id: line.id, values: line.refused ? [1, 2] : [1, 2, 3] } };
  }
}

/** True about one time in twelve. */
const rarely = fc.integer({ min: 0, max: 11 }).map((n) => n === 0);
const linesArbitrary = fc
  .array(fc.record({ unreadable: rarely, refused: rarely }), { minLength: 0, maxLength: 120 })
  .map((flags) => flags.map((f, i) => ({ id: `r${i}`, ...f })));

const valid = (line: Line) => !line.unreadable && !line.refused;
/** The ids a run that loses nothing stores, sorted. */
const validIds = (lines: Line[]) =>
  lines
    .filter(valid)
    .map((l) => l.id)
    .sort();

describe('upsert runner', () => {
  it('acknowledges only stored records, and every good record before the resume point is stored', async () => {
    await fc.assert(
      fc.asyncProperty(
        linesArbitrary,
        fc.integer(),
        fc.constantFrom<OnError>('fail', 'skip'),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(0, 0.1),
        async (lines, seed, onError, batchSize, concurrency, failRate) => {
          const { index, stored } = simulatedIndex(seed, failRate);
          const summary = await runUpsert({ index, items: itemsOf(lines), batchSize, concurrency, onError });
          expect(summary.upserted).toBe(stored.size);
          const resumeAt = summary.lastAcknowledgedId === undefined ? -1 : lines.findIndex((l) => l.id === summary.lastAcknowledgedId);
          for (const line of lines.slice(0, resumeAt + 1)) if (valid(line)) expect(stored.has(line.id), line.id).toBe(true);
          if (onError === 'skip' && failRate === 0) {
            // Nothing lost, every bad line reported once, by number.
            expect(summary.stoppedBy).toBeUndefined();
            expect([...stored].sort()).toEqual(validIds(lines));
            expect(summary.skipped.map((s) => s.line)).toEqual(lines.flatMap((l, i) => (valid(l) ? [] : [i + 1])));
          }
          if (onError === 'fail' && failRate === 0 && lines.some((l) => !valid(l))) expect(summary.stoppedBy?.reason).toBe('bad-line');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finishes the file when resumed after the id an interrupted run printed', async () => {
    await fc.assert(
      fc.asyncProperty(
        linesArbitrary,
        fc.integer(),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 5 }),
        async (lines, seed, batchSize, concurrency) => {
          const { index, stored } = simulatedIndex(seed, 0.15);
          let summary = await runUpsert({ index, items: itemsOf(lines), batchSize, concurrency, onError: 'skip' });
          // Outages come and go: resuming as the message says until a run finishes loses nothing.
          for (let attempt = 0; summary.stoppedBy && attempt < 200; attempt++) {
            summary = await runUpsert({ index, items: itemsOf(lines), batchSize, concurrency, onError: 'skip', resumeAfter: summary.lastAcknowledgedId });
          }
          expect(summary.stoppedBy).toBeUndefined();
          expect([...stored].sort()).toEqual(validIds(lines));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('refuses a resume point that is not in the file', async () => {
    const { index } = simulatedIndex(1, 0);
    await expect(
      runUpsert({ index, items: itemsOf([{ id: 'a', unreadable: false, refused: false }]), batchSize: 1, concurrency: 1, onError: 'fail', resumeAfter: 'zz' }),
    ).rejects.toThrow('--resume-after zz: no record with that id in the file');
  });
});
