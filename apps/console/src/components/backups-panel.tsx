'use client';

import { useActionState, useState } from 'react';
import Link from 'next/link';
import type { BackupDescription, RestoreJobDescription } from '@conifer/sdk';
import { createBackup, deleteBackup, restoreBackup, type ActionState, type RestoreState } from '../app/actions.ts';
import { RESTORE_POLL_MS, anyBackupWorkRunning, backupBadge, backupLabel, restoreRunning, restoreStatusLabel } from '../lib/backups.ts';
import { formatBytes, formatNumber } from '../lib/format.ts';
import { formatPercent, formatTime } from '../lib/imports.ts';
import type { Outcome } from '../lib/outcome.ts';
import { Empty, ErrorBox, FieldError } from './ui.tsx';
import { useRefreshWhile } from './use-refresh-while.ts';

const indexHref = (name: string) => `/indexes/${encodeURIComponent(name)}`;

/**
 * Backups and their restores. On an index's page (`index` given): the form taking a backup of it
 * and its backups; on the backups page: every backup of the project, those of deleted indexes too.
 * Each Ready backup restores into a new index; the restore jobs follow, and the page refreshes
 * itself (`router.refresh()`) every `RESTORE_POLL_MS` while one runs, as the imports panel does.
 */
export function BackupsPanel({
  index,
  backups,
  restoreJobs,
  canWrite,
}: {
  index?: string | undefined;
  backups: Outcome<BackupDescription[]>;
  restoreJobs: Outcome<RestoreJobDescription[]>;
  canWrite: boolean;
}) {
  const running = anyBackupWorkRunning(backups.ok ? backups.data : [], restoreJobs.ok ? restoreJobs.data : []);
  useRefreshWhile(running, RESTORE_POLL_MS);
  return (
    <>
      <section className="panel backups" aria-labelledby="backups-heading" data-testid="backups">
        <h2 id="backups-heading">Backups</h2>
        {index === undefined ? null : canWrite ? (
          <CreateBackupForm index={index} />
        ) : (
          <p className="hint">Taking, restoring and deleting backups needs a read-write or admin key.</p>
        )}
        {!backups.ok ? (
          <ErrorBox error={backups.error} kind={backups.kind} />
        ) : backups.data.length === 0 ? (
          <Empty title="No backups yet">
            {index === undefined
              ? "Take one from an index's page. Backups stay after their index is deleted."
              : 'A backup holds every namespace of the index as of now; it can be restored into a new index, even after this one is deleted.'}
          </Empty>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Backup</th>
                  {index === undefined ? <th>Source index</th> : null}
                  <th>Status</th>
                  <th className="num">Records</th>
                  <th className="num">Namespaces</th>
                  <th className="num">Size</th>
                  <th>Created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {backups.data.map((b) => (
                  <tr key={b.backupId} data-backup-id={b.backupId} data-backup-name={b.name ?? ''}>
                    <td>
                      <div>{b.name ?? <span className="hint">unnamed</span>}</div>
                      <div className="hint mono">{b.backupId}</div>
                      {b.description ? <div className="hint">{b.description}</div> : null}
                    </td>
                    {index === undefined ? (
                      <td>
                        {b.sourceIndexDeletedAt ? (
                          <>
                            <span className="mono">{b.sourceIndexName}</span> <span className="badge red">deleted</span>
                          </>
                        ) : (
                          <Link href={indexHref(b.sourceIndexName)}>{b.sourceIndexName}</Link>
                        )}
                        <div className="hint">
                          {'vectorType' in b && b.vectorType === 'sparse' ? `sparse · ${b.metric}` : `${b.dimension} dims · ${b.metric}`}
                        </div>
                      </td>
                    ) : null}
                    <td>
                      <span className={backupBadge(b.status)}>{b.status}</span>
                      {b.error ? <div className="import-error">{b.error}</div> : null}
                    </td>
                    <td className="num">{formatNumber(b.recordCount)}</td>
                    <td className="num">{formatNumber(b.namespaceCount)}</td>
                    <td className="num">{formatBytes(b.sizeBytes)}</td>
                    <td>
                      <time dateTime={b.createdAt}>{formatTime(b.createdAt)}</time>
                    </td>
                    <td className="num backup-actions">
                      {canWrite ? (
                        <div className="actions">
                          {b.status === 'Ready' ? <RestoreBackupForm backup={b} index={index} /> : null}
                          <DeleteBackupForm backup={b} index={index} />
                        </div>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <RestoreJobs jobs={restoreJobs} backups={backups.ok ? backups.data : []} running={running} />
    </>
  );
}

function RestoreJobs({ jobs, backups, running }: { jobs: Outcome<RestoreJobDescription[]>; backups: BackupDescription[]; running: boolean }) {
  const names = new Map(backups.map((b) => [b.backupId, backupLabel(b)]));
  return (
    <section className="panel backups" aria-labelledby="restore-jobs-heading" data-testid="restore-jobs">
      <h2 id="restore-jobs-heading">Restore jobs</h2>
      <p className="hint" role="status">
        {running ? `A backup or restore is running: refreshing every ${RESTORE_POLL_MS / 1000} s.` : null}
      </p>
      {!jobs.ok ? (
        <ErrorBox error={jobs.error} kind={jobs.kind} />
      ) : jobs.data.length === 0 ? (
        <Empty title="No restores yet">“Restore to new index” on a Ready backup creates an index and fills it from the backup.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Restore job</th>
                <th>Backup</th>
                <th>New index</th>
                <th>Status</th>
                <th>Progress</th>
                <th>Error</th>
                <th>Created</th>
                <th>Completed</th>
              </tr>
            </thead>
            <tbody>
              {jobs.data.map((j) => (
                <tr key={j.restoreJobId} data-restore-job-id={j.restoreJobId} data-target-index={j.targetIndexName}>
                  <td className="mono">{j.restoreJobId}</td>
                  <td>
                    {names.get(j.backupId) ?? ''}
                    <div className="hint mono">{j.backupId}</div>
                  </td>
                  <td>
                    {j.status === 'Failed' ? (
                      <span className="mono">{j.targetIndexName}</span>
                    ) : (
                      <Link href={indexHref(j.targetIndexName)}>{j.targetIndexName}</Link>
                    )}
                  </td>
                  <td>
                    <span className={backupBadge(j.status)}>{restoreStatusLabel(j.status)}</span>
                  </td>
                  <td>
                    <progress max={100} value={j.percentComplete} aria-label={`Progress of restore job ${j.restoreJobId}`} />{' '}
                    <span className="hint">{formatPercent(j.percentComplete)}</span>
                  </td>
                  <td className="import-error">{j.error ?? ''}</td>
                  <td>
                    <time dateTime={j.createdAt}>{formatTime(j.createdAt)}</time>
                  </td>
                  <td>{j.completedAt ? <time dateTime={j.completedAt}>{formatTime(j.completedAt)}</time> : restoreRunning(j.status) ? '…' : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function CreateBackupForm({ index }: { index: string }) {
  // Controlled: a refused name or description stays to be corrected; a taken backup clears them.
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [state, action, pending] = useActionState<ActionState, FormData>(async (prev, form) => {
    const next = await createBackup(prev, form);
    if (next.ok) {
      setName('');
      setDescription('');
    }
    return next;
  }, {});
  return (
    <form action={action} className="stack">
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      {state.ok ? <div className="alert ok">{state.ok}</div> : null}
      <input type="hidden" name="index" value={index} />
      <div className="inline">
        <label>
          Backup name <span className="hint">optional</span>
          <input name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder="nightly" aria-invalid={Boolean(state.errors?.['name'])} />
          <FieldError message={state.errors?.['name']} />
        </label>
        <label>
          Description <span className="hint">optional</span>
          <input
            name="description"
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            placeholder="before the re-embedding"
            aria-invalid={Boolean(state.errors?.['description'])}
          />
          <FieldError message={state.errors?.['description']} />
        </label>
      </div>
      <div>
        <button type="submit" disabled={pending}>
          {pending ? 'Backing up…' : 'Create backup'}
        </button>{' '}
        <span className="hint">Pins the index&apos;s data as of now (nothing is copied); the backup stays after the index is deleted.</span>
      </div>
    </form>
  );
}

/** "Restore…" opens the name field; the server creates the index and starts the restore job. */
function RestoreBackupForm({ backup, index }: { backup: BackupDescription; index: string | undefined }) {
  const [open, setOpen] = useState(false);
  // Closed again once the restore has started (its job shows below).
  const [state, action, pending] = useActionState<RestoreState, FormData>(async (prev, form) => {
    const next = await restoreBackup(prev, form);
    if (next.ok) setOpen(false);
    return next;
  }, {});
  const [name, setName] = useState('');
  const label = backupLabel(backup);
  if (!open) {
    return (
      <>
        {state.ok ? (
          <span className="hint" role="status">
            {state.ok}
          </span>
        ) : null}
        <button type="button" className="secondary small" onClick={() => setOpen(true)} aria-label={`Restore backup ${label} to a new index`}>
          Restore to new index…
        </button>
      </>
    );
  }
  return (
    <form action={action}>
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      <input type="hidden" name="id" value={backup.backupId} />
      <input type="hidden" name="index" value={index ?? ''} />
      <label>
        New index name
        <input
          name="name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder={`${backup.sourceIndexName}-restored`}
          aria-invalid={Boolean(state.errors?.['name'])}
        />
        <FieldError message={state.errors?.['name']} />
      </label>
      <button type="submit" className="small" disabled={pending} aria-label={`Restore backup ${label}`}>
        {pending ? 'Restoring…' : 'Restore'}
      </button>
      <button type="button" className="secondary small" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
}

/** "Delete…" asks again, naming the backup, before it goes (with the slabs only it kept). */
function DeleteBackupForm({ backup, index }: { backup: BackupDescription; index: string | undefined }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(deleteBackup, {});
  const [confirming, setConfirming] = useState(false);
  const label = backupLabel(backup);
  return (
    <form
      action={(form) => {
        setConfirming(false);
        action(form);
      }}
    >
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      <input type="hidden" name="id" value={backup.backupId} />
      <input type="hidden" name="index" value={index ?? ''} />
      {confirming ? (
        <>
          <button type="submit" className="danger small" disabled={pending} aria-label={`Delete backup ${label}`}>
            Confirm delete
          </button>
          <button type="button" className="secondary small" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </>
      ) : (
        <button type="button" className="danger secondary small" disabled={pending} onClick={() => setConfirming(true)} aria-label={`Delete backup ${label}…`}>
          {pending ? 'Deleting…' : 'Delete…'}
        </button>
      )}
    </form>
  );
}
