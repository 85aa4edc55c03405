import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allocatorText, markdownSection, summaryText, updateDocs, writeResult, type SoakResult } from './report.ts';
import { OP_KINDS, type OpSummary } from './stats.ts';

function result(backend: string, overrides: Partial<SoakResult> = {}): SoakResult {
  const op: OpSummary = { count: 10, ok: 9, outage: 1, clientErrors: 0, serverErrors: 0, noResponse: 0, p50Ms: 1.5, p99Ms: 12 };
  const trend = { verdict: 'no growth trend' as const, text: 'no growth trend (steady epoch: +0.10 ± 0.50 MiB/min over 3.0 min)' };
  return {
    backend,
    storage: 'local disk',
    command: `npm run soak -- --backend ${backend}`,
    machine: '2 vCPU',
    startedAt: '2026-12-03T12:00:00.000Z',
    seed: 1,
    clients: 6,
    plannedMinutes: 10,
    workloadS: 600,
    totalS: 620,
    serverEnv: {},
    operations: Object.fromEntries(OP_KINDS.map((k) => [k, op])) as SoakResult['operations'],
    totalOperations: 10 * OP_KINDS.length,
    byFace: { sdk: 60, rest: 70 },
    engineActivity: { flushes: 100, compactions: 50 },
    restarts: { clean: 2, kill: 3, events: [] },
    runChecks: { readBacks: 1, recordsCompared: 2, queriesChecked: 3, listsChecked: 4, afterRestart: 5 },
    endChecks: [
      {
        phase: 'end',
        counts: { namespacesChecked: 24, deletedNamespacesChecked: 0, recordsChecked: 3000, deletedIdsChecked: 4000, queriesChecked: 140 },
        mismatches: 0,
      },
    ],
    mismatchCount: 0,
    mismatches: [],
    findingCount: 0,
    serverErrors: 0,
    findings: [],
    serverLog: { errors: 0, warnings: 0, firstErrors: [] },
    rss: { unit: 'MiB', min: 400, median: 650, max: 700, trend },
    fds: { unit: 'fds', min: 80, median: 90, max: 100, trend: { ...trend, text: 'no growth trend (steady epoch: +0.01 ± 0.20 fds/min over 3.0 min)' } },
    trendMethod: 'method',
    samples: { resources: [], storage: [] },
    passed: true,
    failures: [],
    ...overrides,
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the soak section of docs/benchmarks.md', () => {
  it('is rewritten from every result file, in the order of the backend table, leaving the rest of the file alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'soak-report-'));
    dirs.push(dir);
    const docs = join(dir, 'benchmarks.md');
    writeFileSync(docs, '# Benchmarks\n\nbefore\n\n<!-- soak:begin -->\nold rows\n<!-- soak:end -->\n\nafter\n');
    writeResult(result('moto'), join(dir, 'results', 'moto.json'));
    writeResult(result('local', { passed: false, failures: ['2 mismatches with the model'], mismatchCount: 2 }), join(dir, 'results', 'local.json'));
    updateDocs(docs, join(dir, 'results'));
    const text = readFileSync(docs, 'utf8');
    expect(text.startsWith('# Benchmarks\n\nbefore\n\n<!-- soak:begin -->\n| backend |')).toBe(true);
    expect(text.endsWith('<!-- soak:end -->\n\nafter\n')).toBe(true);
    expect(text).not.toContain('old rows');
    const rows = text.split('\n').filter((l) => /^\| (local|moto) /.test(l));
    expect(rows.map((r) => r.split(' | ')[0])).toEqual(['| local', '| moto']);
    expect(rows[0]).toContain('**failed**: 2 mismatches with the model');
    expect(rows[1]).toContain('| 400 / 650 / 700 | no growth trend | 80 / 90 / 100 |');
    expect(text).toContain('RSS no growth trend (steady epoch: +0.10 ± 0.50 MiB/min over 3.0 min)');
  });

  it('appends the section with its markers when the file has none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'soak-report-'));
    dirs.push(dir);
    const docs = join(dir, 'benchmarks.md');
    writeFileSync(docs, '# Benchmarks\n\ntext\n');
    updateDocs(docs, join(dir, 'no-results'));
    expect(readFileSync(docs, 'utf8')).toBe(`# Benchmarks\n\ntext\n\n## Reliability (soak)\n\n<!-- soak:begin -->\n${markdownSection([])}<!-- soak:end -->\n`);
  });

  it('the printed summary says why a run failed', () => {
    const text = summaryText(result('local', { passed: false, failures: ['1 findings (1 HTTP 5xx)'] }));
    expect(text).toMatch(/^soak FAILED: backend local/);
    expect(text).toContain('failed because: 1 findings (1 HTTP 5xx)');
  });
});

describe('allocatorText', () => {
  it('names the server’s malloc from the settings the run passed on', () => {
    expect(allocatorText({ serverEnv: { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' } })).toBe('server on jemalloc');
    expect(allocatorText({ serverEnv: { MALLOC_ARENA_MAX: '2' } })).toBe('server on glibc malloc, MALLOC_ARENA_MAX=2');
    expect(allocatorText({ serverEnv: { LD_PRELOAD: '' } })).toBe('server on glibc malloc');
    expect(allocatorText({ serverEnv: {} })).toBe('server on glibc malloc');
  });
});
