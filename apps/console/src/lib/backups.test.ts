import { describe, expect, it } from 'vitest';
import { anyBackupWorkRunning, backupBadge, backupLabel, restoreJobsOfIndex, restoreRunning, restoreStatusLabel } from './backups.ts';
import { describeShape, previewSparse } from './format.ts';

describe('backups and restore jobs', () => {
  it('polls while a backup is taken or a restore runs, not after', () => {
    expect(restoreRunning('Pending')).toBe(true);
    expect(restoreRunning('InProgress')).toBe(true);
    expect(restoreRunning('Completed')).toBe(false);
    expect(anyBackupWorkRunning([{ status: 'Ready' }], [{ status: 'Completed' }, { status: 'Failed' }])).toBe(false);
    expect(anyBackupWorkRunning([{ status: 'Ready' }], [{ status: 'InProgress' }])).toBe(true);
    expect(anyBackupWorkRunning([{ status: 'Initializing' }], [])).toBe(true);
  });
  it('labels and colours statuses', () => {
    expect(backupBadge('Ready')).toBe('badge green');
    expect(backupBadge('Completed')).toBe('badge green');
    expect(backupBadge('Failed')).toBe('badge red');
    expect(backupBadge('Initializing')).toBe('badge');
    expect(restoreStatusLabel('InProgress')).toBe('In progress');
    expect(backupLabel({ backupId: 'bk_1', name: 'nightly' })).toBe('nightly');
    expect(backupLabel({ backupId: 'bk_1' })).toBe('bk_1');
  });
  it("keeps an index page's restore jobs: of its backups, and into it", () => {
    const jobs = [
      { restoreJobId: 'r1', backupId: 'b1', targetIndexName: 'x' },
      { restoreJobId: 'r2', backupId: 'b9', targetIndexName: 'docs' },
      { restoreJobId: 'r3', backupId: 'b9', targetIndexName: 'other' },
    ];
    expect(restoreJobsOfIndex(jobs, 'docs', [{ backupId: 'b1' }]).map((j) => j.restoreJobId)).toEqual(['r1', 'r2']);
  });
});

describe('sparse display', () => {
  it('previews the first entries of a sparse vector', () => {
    expect(previewSparse({ indices: [10, 45], values: [0.5, 1.23456] })).toBe('{10: 0.5, 45: 1.235} (2 non-zero)');
    expect(previewSparse({ indices: [1, 2, 3], values: [1, 2, 3] }, 2)).toBe('{1: 1, 2: 2, …} (3 non-zero)');
  });
  it('describes an index by its vector type', () => {
    expect(describeShape({ vectorType: 'dense', dimension: 384, metric: 'cosine' })).toBe('384 dimensions · cosine');
    expect(describeShape({ vectorType: 'sparse', dimension: 0, metric: 'dotproduct' })).toBe('sparse · dotproduct');
  });
});
