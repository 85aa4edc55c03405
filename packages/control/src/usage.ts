import { sql, type Kysely } from 'kysely';
import { InvalidArgumentError } from '@conifer/core';
import type { Database } from './schema.ts';
import type { UsageEntry, UsageQuery, UsageRecord } from './types.ts';

/** Longest span a usage report may cover, in days. */
export const MAX_USAGE_DAYS = 400;
/** Days a report covers when `from` is not given. */
export const DEFAULT_USAGE_DAYS = 30;

/**
 * Read and write units per index per UTC day. `record` only adds to in-memory sums (no database
 * round trip on the request path); a background timer adds the sums to `usage_daily` every
 * `usageFlushIntervalMs`, and `flush`, `report` and `close` flush at once. A failed flush keeps
 * its sums for the next attempt, so units are delayed, never lost while the process lives.
 */
export interface UsageMeter {
  /**
   * Adds units to an index's counters for today (UTC). Synchronous and cheap.
   *
   * @example cp.usage.record({ projectId, indexId, indexName: 'docs', readUnits: 1 });
   */
  record(entry: UsageEntry): void;
  /** Writes the pending sums to the database. Concurrent calls share one write. */
  flush(): Promise<void>;
  /**
   * Rows of one project, by day then index name, after flushing this node's pending sums; with
   * the range the report covers (defaults resolved).
   *
   * @example const { days } = await cp.usage.report(projectId, { from: '2026-11-01', index: 'docs' });
   */
  report(projectId: string, query?: UsageQuery): Promise<{ from: string; to: string; days: UsageRecord[] }>;
  /** Sums not yet written (for tests and metrics). */
  readonly pending: number;
  /** Stops the timer and flushes. */
  close(): Promise<void>;
}

interface Pending {
  projectId: string;
  indexId: string;
  indexName: string;
  day: string;
  readUnits: number;
  writeUnits: number;
  requests: number;
}

const DAY_MS = 86_400_000;
/** The last day formatted, by day number: every metered request asks for today's. */
let lastDay = { number: NaN, text: '' };

/** `YYYY-MM-DD` of a time in ms, in UTC. */
export function utcDay(ms: number): string {
  const number = Math.floor(ms / DAY_MS);
  if (number !== lastDay.number) lastDay = { number, text: new Date(ms).toISOString().slice(0, 10) };
  return lastDay.text;
}

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

function parseDay(field: string, value: string): number {
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (!DAY_PATTERN.test(value) || Number.isNaN(ms) || utcDay(ms) !== value) {
    throw InvalidArgumentError.at([field], 'must be a date YYYY-MM-DD');
  }
  return ms;
}

export function createUsageMeter(
  db: Kysely<Database>,
  options: { flushIntervalMs: number; now: () => number; onFlushError?: ((error: unknown) => void) | undefined },
): UsageMeter {
  let sums = new Map<string, Pending>();
  let flushing: Promise<void> | undefined;
  let closed = false;

  const timer = options.flushIntervalMs > 0 ? setInterval(() => void flush().catch(() => {}), options.flushIntervalMs) : undefined;
  timer?.unref();

  function add(target: Map<string, Pending>, entry: Pending): void {
    const key = `${entry.projectId}\u0000${entry.indexId}\u0000${entry.day}`;
    const current = target.get(key);
    if (current === undefined) {
      target.set(key, { ...entry });
      return;
    }
    current.readUnits += entry.readUnits;
    current.writeUnits += entry.writeUnits;
    current.requests += entry.requests;
    current.indexName = entry.indexName;
  }

  async function write(batch: Map<string, Pending>): Promise<void> {
    const rows = [...batch.values()].map((p) => ({
      project_id: p.projectId,
      index_id: p.indexId,
      index_name: p.indexName,
      day: p.day,
      read_units: p.readUnits,
      write_units: p.writeUnits,
      requests: p.requests,
    }));
    // One statement per 500 rows keeps the parameter count far below PostgreSQL's 65535.
    for (let i = 0; i < rows.length; i += 500) {
      await db
        .insertInto('usage_daily')
        .values(rows.slice(i, i + 500))
        .onConflict((oc) =>
          oc.columns(['project_id', 'index_id', 'day']).doUpdateSet({
            index_name: (eb) => eb.ref('excluded.index_name'),
            read_units: sql<number>`usage_daily.read_units + excluded.read_units`,
            write_units: sql<number>`usage_daily.write_units + excluded.write_units`,
            requests: sql<number>`usage_daily.requests + excluded.requests`,
          }),
        )
        .execute();
    }
  }

  function flush(): Promise<void> {
    if (flushing !== undefined) return flushing;
    if (sums.size === 0) return Promise.resolve();
    const run = (async () => {
      while (sums.size > 0) {
        const batch = sums;
        sums = new Map();
        try {
          await write(batch);
        } catch (error) {
          // Keep the units: merge the batch back for the next attempt.
          for (const entry of batch.values()) add(sums, entry);
          options.onFlushError?.(error);
          throw error;
        }
      }
    })();
    // Cleared only after `flushing` is set (the async body runs synchronously up to its first await).
    flushing = run.finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  return {
    record(entry) {
      const readUnits = entry.readUnits ?? 0;
      const writeUnits = entry.writeUnits ?? 0;
      if (!(readUnits >= 0 && writeUnits >= 0 && Number.isFinite(readUnits + writeUnits))) {
        throw new InvalidArgumentError('usage units must be finite and non-negative');
      }
      add(sums, {
        projectId: entry.projectId,
        indexId: entry.indexId,
        indexName: entry.indexName,
        day: utcDay(options.now()),
        readUnits,
        writeUnits,
        requests: 1,
      });
    },

    flush,

    async report(projectId, query = {}) {
      const toMs = query.to !== undefined ? parseDay('to', query.to) : Date.parse(`${utcDay(options.now())}T00:00:00Z`);
      const fromMs = query.from !== undefined ? parseDay('from', query.from) : toMs - (DEFAULT_USAGE_DAYS - 1) * 86_400_000;
      if (fromMs > toMs) throw InvalidArgumentError.at(['from'], 'must not be after to');
      if ((toMs - fromMs) / 86_400_000 >= MAX_USAGE_DAYS) throw new InvalidArgumentError(`a report covers at most ${MAX_USAGE_DAYS} days`);
      if (!closed) await flush();
      let q = db
        .selectFrom('usage_daily')
        .select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day_text'), 'index_id', 'index_name', 'read_units', 'write_units', 'requests'])
        .where('project_id', '=', projectId)
        .where('day', '>=', sql<Date>`${utcDay(fromMs)}::date`)
        .where('day', '<=', sql<Date>`${utcDay(toMs)}::date`);
      if (query.index !== undefined) q = q.where('index_name', '=', query.index);
      const rows = await q.orderBy('day').orderBy('index_name').orderBy('index_id').execute();
      const days = rows.map((row) => ({
        day: row.day_text,
        indexId: row.index_id,
        indexName: row.index_name,
        readUnits: Number(row.read_units),
        writeUnits: Number(row.write_units),
        requests: Number(row.requests),
      }));
      return { from: utcDay(fromMs), to: utcDay(toMs), days };
    },

    get pending() {
      return sums.size;
    },

    async close() {
      if (timer !== undefined) clearInterval(timer);
      closed = true;
      await flush();
    },
  };
}
