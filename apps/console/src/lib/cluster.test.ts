import { describe, expect, it } from 'vitest';
import { formatLag, isSingleProcess, jobStateBadge, jobStateParam, orDash } from './cluster.ts';

describe('cluster page helpers', () => {
  it('reads the job-state filter, ignoring anything else', () => {
    expect(jobStateParam('running')).toBe('running');
    expect(jobStateParam('')).toBeUndefined();
    expect(jobStateParam('stuck')).toBeUndefined();
    expect(jobStateParam(['done', 'failed'])).toBeUndefined();
    expect(jobStateParam(undefined)).toBeUndefined();
  });

  it('colours job states', () => {
    expect(jobStateBadge('done')).toBe('badge green');
    expect(jobStateBadge('failed')).toBe('badge red');
    expect(jobStateBadge('running')).toBe('badge');
  });

  it('tells the single process from a cluster by the live nodes’ roles', () => {
    const all = ['gateway', 'writer', 'query', 'indexer'];
    expect(isSingleProcess([{ roles: all, live: true }])).toBe(true);
    // A restarted process leaves its old row behind until it is forgotten: not live, not counted.
    expect(
      isSingleProcess([
        { roles: all, live: true },
        { roles: ['writer'], live: false },
      ]),
    ).toBe(true);
    expect(
      isSingleProcess([
        { roles: ['gateway'], live: true },
        { roles: ['writer'], live: true },
      ]),
    ).toBe(false);
    expect(isSingleProcess([])).toBe(false);
  });

  it('words replica lag and unknown numbers', () => {
    expect(formatLag(null)).toBe('—');
    expect(formatLag(0)).toBe('caught up');
    expect(formatLag(1)).toBe('1 LSN behind');
    expect(formatLag(1234)).toBe('1,234 LSNs behind');
    expect(orDash(null)).toBe('—');
    expect(orDash(12345)).toBe('12,345');
  });
});
