import type { BackupDescription, RestoreJobDescription } from '@conifer/sdk';

/** Display rules of backups and restore jobs, shared by the index page and the backups page. */

/** How often a page showing restore jobs refreshes while one runs (as the imports panel does). */
export const RESTORE_POLL_MS = 1_000;

/** Pending or InProgress: the restore has not finished. */
export function restoreRunning(status: RestoreJobDescription['status']): boolean {
  return status === 'Pending' || status === 'InProgress';
}

/** Whether the page should keep refreshing: a restore job runs, or a backup is still being taken. */
export function anyBackupWorkRunning(backups: readonly Pick<BackupDescription, 'status'>[], jobs: readonly Pick<RestoreJobDescription, 'status'>[]): boolean {
  return backups.some((b) => b.status === 'Initializing') || jobs.some((j) => restoreRunning(j.status));
}

/** Badge class of a backup or restore status: green when Ready/Completed, red when Failed. */
export function backupBadge(status: BackupDescription['status'] | RestoreJobDescription['status']): string {
  if (status === 'Ready' || status === 'Completed') return 'badge green';
  if (status === 'Failed') return 'badge red';
  return 'badge';
}

/** `InProgress` → "In progress"; the other statuses read as they are. */
export function restoreStatusLabel(status: RestoreJobDescription['status']): string {
  return status === 'InProgress' ? 'In progress' : status;
}

/** A backup as a person names it: its name, or its id when it has none. */
export function backupLabel(backup: Pick<BackupDescription, 'backupId' | 'name'>): string {
  return backup.name && backup.name.trim() !== '' ? backup.name : backup.backupId;
}

/**
 * The restore jobs an index's page shows: those restoring one of its backups, and the one that
 * restored the index itself.
 */
export function restoreJobsOfIndex<J extends Pick<RestoreJobDescription, 'backupId' | 'targetIndexName'>>(
  jobs: readonly J[],
  index: string,
  backups: readonly Pick<BackupDescription, 'backupId'>[],
): J[] {
  const ids = new Set(backups.map((b) => b.backupId));
  return jobs.filter((j) => ids.has(j.backupId) || j.targetIndexName === index);
}
