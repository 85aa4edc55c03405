import type { ImportDescription } from '@conifer/sdk';

/** Display rules of bulk imports, shared by the index page and its imports panel. */

/** How often the imports panel refreshes while an import runs. */
export const IMPORT_POLL_MS = 1_500;

/** Pending or InProgress: the import has not finished. */
export function importRunning(status: ImportDescription['status']): boolean {
  return status === 'Pending' || status === 'InProgress';
}

/** Whether any import of the list is still running (the panel polls while one is). */
export function anyImportRunning(imports: readonly Pick<ImportDescription, 'status'>[]): boolean {
  return imports.some((i) => importRunning(i.status));
}

/** Badge class of a status: green once completed, red when failed, plain otherwise. */
export function importBadge(status: ImportDescription['status']): string {
  if (status === 'Completed') return 'badge green';
  if (status === 'Failed') return 'badge red';
  return 'badge';
}

/** `InProgress` → "In progress"; the other statuses read as they are. */
export function importStatusLabel(status: ImportDescription['status']): string {
  return status === 'InProgress' ? 'In progress' : status;
}

/** 42.46 → "42.5%" (one decimal at most). */
export function formatPercent(value: number): string {
  return `${Number(value.toFixed(1))}%`;
}

/** An ISO time as "2026-12-04 18:05:09 UTC"; undefined → "—". */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  return `${iso.slice(0, 19).replace('T', ' ')} UTC`;
}
