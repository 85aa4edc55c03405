import { describe, expect, it } from 'vitest';
import { parseStartImportForm } from './forms.ts';
import { anyImportRunning, formatPercent, formatTime, importBadge, importRunning, importStatusLabel } from './imports.ts';

describe('start import form (core startImportSchema)', () => {
  it('accepts a URI, trimmed, with continue as the default error mode', () => {
    expect(parseStartImportForm('docs', { uri: ' s3://bucket/prefix ', errorMode: '' })).toEqual({
      ok: true,
      value: { uri: 's3://bucket/prefix', errorMode: 'continue' },
    });
    expect(parseStartImportForm('docs', { uri: 'file:///data/x', errorMode: 'abort' })).toEqual({
      ok: true,
      value: { uri: 'file:///data/x', errorMode: 'abort' },
    });
  });
  it('reports the API messages per field', () => {
    expect(parseStartImportForm('docs', { uri: '  ', errorMode: 'abort' })).toEqual({ ok: false, errors: { uri: 'must be a non-empty string' } });
    expect(parseStartImportForm('docs', { uri: 's3://b/p', errorMode: 'skip' })).toEqual({ ok: false, errors: { errorMode: 'must be "abort" or "continue"' } });
    expect(parseStartImportForm('docs', { uri: 's3://b/\u0007', errorMode: 'abort' })).toMatchObject({
      ok: false,
      errors: { uri: 'must not contain control characters' },
    });
  });
});

describe('import display', () => {
  it('tells running imports from finished ones', () => {
    expect(importRunning('Pending')).toBe(true);
    expect(importRunning('InProgress')).toBe(true);
    expect(['Completed', 'Failed', 'Cancelled'].map((s) => importRunning(s as 'Completed'))).toEqual([false, false, false]);
    expect(anyImportRunning([{ status: 'Completed' }, { status: 'InProgress' }])).toBe(true);
    expect(anyImportRunning([{ status: 'Completed' }, { status: 'Cancelled' }])).toBe(false);
    expect(anyImportRunning([])).toBe(false);
  });
  it('formats status, percent and times', () => {
    expect(importBadge('Completed')).toBe('badge green');
    expect(importBadge('Failed')).toBe('badge red');
    expect(importBadge('Cancelled')).toBe('badge');
    expect(importStatusLabel('InProgress')).toBe('In progress');
    expect(formatPercent(42.46)).toBe('42.5%');
    expect(formatPercent(100)).toBe('100%');
    expect(formatTime('2026-12-04T18:05:09.123Z')).toBe('2026-12-04 18:05:09 UTC');
    expect(formatTime(undefined)).toBe('—');
  });
});
