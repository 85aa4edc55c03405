import { InvalidArgumentError, type Index, type RecordToUpsert } from '@conifer/sdk';
import type { SourceItem } from './records-reader.ts';

export type OnError = 'fail' | 'skip';

/** A line that was not upserted, and why. */
export interface BadLine {
  line: number;
  id?: string | undefined;
  error: string;
}

export interface UpsertRunOptions {
  index: Pick<Index, 'upsert'>;
  items: AsyncIterable<SourceItem>;
  /** Records per request (the server takes at most 1000). */
  batchSize: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** `fail`: stop at the first bad line; `skip`: report it and go on. */
  onError: OnError;
  /** Skip every record up to and including this id (the `lastAcknowledgedId` of an earlier run). */
  resumeAfter?: string | undefined;
  /** Called after each acknowledged request. */
  onProgress?: ((upserted: number) => void) | undefined;
  /** Aborting stops reading; requests in flight finish. */
  signal?: AbortSignal | undefined;
}

export interface UpsertSummary {
  /** Records the server acknowledged (durable). */
  upserted: number;
  /** Bad lines skipped (`--on-error skip`). */
  skipped: BadLine[];
  /** Records passed over by `--resume-after`. */
  resumedPast: number;
  /**
   * The id of the last record of the longest acknowledged run from the start of the file (or of the
   * resume point): a later run with `--resume-after` this id sends only what may be missing.
   */
  lastAcknowledgedId?: string | undefined;
  /** Why the run stopped early: the bad line (`fail`), a failed request or an interruption. */
  stoppedBy?: { reason: 'bad-line'; badLine: BadLine } | { reason: 'request-failed'; error: string } | { reason: 'interrupted' } | undefined;
}

interface Entry {
  line: number;
  record: RecordToUpsert;
}

/** Requests stay well under the server's 2 MB body limit. */
const MAX_BATCH_BYTES = 1_500_000;

/**
 * Upserts a file's records in batches, several requests at a time. A batch the server refuses for
 * bad records (400 naming `records[i]`) has those records mapped back to their lines: skipped and
 * the rest re-sent (`skip`), or the run stopped (`fail`). Everything acknowledged is durable;
 * `lastAcknowledgedId` says where to resume.
 */
export async function runUpsert(options: UpsertRunOptions): Promise<UpsertSummary> {
  const summary: UpsertSummary = { upserted: 0, skipped: [], resumedPast: 0 };
  const completed = new Map<number, string>(); // batch number → its last id, until the prefix passes it
  let nextToComplete = 0;
  let batchNumber = 0;
  let stop = false;
  const inFlight = new Set<Promise<void>>();

  const stopWith = (reason: NonNullable<UpsertSummary['stoppedBy']>) => {
    summary.stoppedBy ??= reason;
    stop = true;
  };

  // A batch cut short by a bad record ends the acknowledged run: later batches may have landed,
  // but the resume point must not pass the bad record.
  let barrier = Number.POSITIVE_INFINITY;
  const acknowledge = (number: number, lastId: string | undefined, cutShort = false) => {
    if (cutShort) barrier = Math.min(barrier, number);
    completed.set(number, lastId ?? '');
    while (completed.has(nextToComplete) && nextToComplete <= barrier) {
      const id = completed.get(nextToComplete)!;
      if (id !== '') summary.lastAcknowledgedId = id;
      completed.delete(nextToComplete);
      nextToComplete++;
    }
  };

  /** Sends records; counts them once the server has acknowledged them (they are durable). */
  const upsert = async (entries: Entry[]): Promise<void> => {
    await options.index.upsert(entries.map((e) => e.record));
    summary.upserted += entries.length;
    options.onProgress?.(summary.upserted);
  };
  const upsertQuietly = (entries: Entry[]): Promise<boolean> =>
    upsert(entries).then(
      () => true,
      () => false,
    );

  const send = async (number: number, entries: Entry[]): Promise<void> => {
    let pending = entries;
    while (pending.length > 0) {
      try {
        await upsert(pending);
        break;
      } catch (error) {
        const bad = badRecordsOf(error, pending);
        if (bad.length === 0) {
          stopWith({ reason: 'request-failed', error: (error as Error).message });
          return;
        }
        if (options.onError === 'fail') {
          stopWith({ reason: 'bad-line', badLine: bad[0]! });
          // The records before the bad one go in, so that a fixed file resumes right at it.
          const before = pending.slice(
            0,
            pending.findIndex((e) => e.line === bad[0]!.line),
          );
          if (before.length > 0 && (await upsertQuietly(before))) acknowledge(number, before.at(-1)!.record.id, true);
          return;
        }
        summary.skipped.push(...bad);
        const badLines = new Set(bad.map((b) => b.line));
        pending = pending.filter((e) => !badLines.has(e.line));
      }
    }
    acknowledge(number, entries.at(-1)?.record.id);
  };

  const dispatch = async (entries: Entry[]) => {
    const promise = send(batchNumber++, entries).finally(() => inFlight.delete(promise));
    inFlight.add(promise);
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
  };

  let resuming = options.resumeAfter !== undefined;
  let batch: Entry[] = [];
  let batchBytes = 0;
  for await (const item of options.items) {
    if (stop) break;
    if (options.signal?.aborted) {
      stopWith({ reason: 'interrupted' });
      break;
    }
    if (resuming) {
      summary.resumedPast++;
      if ('record' in item && item.record.id === options.resumeAfter) {
        resuming = false;
        summary.lastAcknowledgedId = item.record.id;
      }
      continue;
    }
    if ('error' in item) {
      const badLine = { line: item.line, error: item.error };
      if (options.onError === 'fail') {
        // What comes before the bad line is sent, so that a fixed file resumes right at it.
        if (batch.length > 0) await dispatch(batch);
        batch = [];
        stopWith({ reason: 'bad-line', badLine });
        break;
      }
      summary.skipped.push(badLine);
      continue;
    }
    const bytes = JSON.stringify(item.record).length;
    if (batch.length > 0 && (batch.length >= options.batchSize || batchBytes + bytes > MAX_BATCH_BYTES)) {
      await dispatch(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(item);
    batchBytes += bytes;
  }
  if (!stop && batch.length > 0) await dispatch(batch);
  await Promise.all(inFlight);
  if (resuming) throw new Error(`--resume-after ${options.resumeAfter}: no record with that id in the file`);
  summary.skipped.sort((a, b) => a.line - b.line);
  return summary;
}

/** The records a 400 names (`records[i]...`), with their lines; none when the refusal is not about records. */
function badRecordsOf(error: unknown, entries: Entry[]): BadLine[] {
  if (!(error instanceof InvalidArgumentError)) return [];
  const bad = new Map<number, BadLine>();
  for (const issue of error.issues) {
    const [field, position] = issue.path;
    if (field !== 'records' || typeof position !== 'number') return [];
    const entry = entries[position];
    if (!entry) return [];
    const where = issue.path.slice(2).join('.');
    if (!bad.has(entry.line)) bad.set(entry.line, { line: entry.line, id: entry.record.id, error: where ? `${where}: ${issue.message}` : issue.message });
  }
  return [...bad.values()];
}
