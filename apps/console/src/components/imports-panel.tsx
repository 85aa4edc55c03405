'use client';

import { useActionState, useState } from 'react';
import type { ImportDescription } from '@conifer/sdk';
import { cancelImport, startImport, type ActionState, type StartImportState } from '../app/actions.ts';
import { formatNumber } from '../lib/format.ts';
import { IMPORT_POLL_MS, anyImportRunning, formatPercent, formatTime, importBadge, importRunning, importStatusLabel } from '../lib/imports.ts';
import type { Outcome } from '../lib/outcome.ts';
import { Empty, ErrorBox, FieldError } from './ui.tsx';
import { useRefreshWhile } from './use-refresh-while.ts';

/**
 * An index's bulk imports: the form starting one (write keys), and the list with each import's
 * status, progress, records and error, and a Cancel button while it runs. The page is refreshed
 * (`router.refresh()`, the server components load again) every `IMPORT_POLL_MS` while any import
 * runs, and no longer once none does.
 */
export function ImportsPanel({ index, imports, canWrite }: { index: string; imports: Outcome<ImportDescription[]>; canWrite: boolean }) {
  const running = imports.ok && anyImportRunning(imports.data);
  useRefreshWhile(running, IMPORT_POLL_MS);
  return (
    <section className="panel imports" aria-labelledby="imports-heading" data-testid="imports">
      <h2 id="imports-heading">Imports</h2>
      {canWrite ? <StartImportForm index={index} /> : <p className="hint">Starting and cancelling imports needs a read-write or admin key.</p>}
      <p className="hint" role="status">
        {running ? `An import is running: refreshing every ${IMPORT_POLL_MS / 1000} s.` : null}
      </p>
      {!imports.ok ? (
        <ErrorBox error={imports.error} kind={imports.kind} />
      ) : imports.data.length === 0 ? (
        <Empty title="No imports yet">Each directory of Parquet files under the URI becomes a new namespace.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Import</th>
                <th>Status</th>
                <th>Progress</th>
                <th className="num">Records</th>
                <th>Error</th>
                <th>Created</th>
                <th>Finished</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {imports.data.map((i) => (
                <tr key={i.id} data-import-id={i.id}>
                  <td>
                    <div className="mono">{i.id}</div>
                    <div className="hint mono">{i.uri}</div>
                  </td>
                  <td>
                    <span className={importBadge(i.status)}>{importStatusLabel(i.status)}</span>
                  </td>
                  <td>
                    <progress max={100} value={i.percentComplete} aria-label={`Progress of import ${i.id}`} />{' '}
                    <span className="hint">{formatPercent(i.percentComplete)}</span>
                  </td>
                  <td className="num">{formatNumber(i.recordsImported)}</td>
                  <td className="import-error">{i.error ?? ''}</td>
                  <td>
                    <time dateTime={i.createdAt}>{formatTime(i.createdAt)}</time>
                  </td>
                  <td>{i.finishedAt ? <time dateTime={i.finishedAt}>{formatTime(i.finishedAt)}</time> : '—'}</td>
                  <td className="num">{canWrite && importRunning(i.status) ? <CancelImportButton index={index} id={i.id} /> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function StartImportForm({ index }: { index: string }) {
  const [state, action, pending] = useActionState<StartImportState, FormData>(startImport, {});
  // React resets a form after its action: the URI is controlled (a refused one stays to be
  // corrected), and the error mode defaults to the one last submitted (a controlled select is not
  // restored by the reset).
  const [uri, setUri] = useState('');
  const errorMode = state.errorMode ?? 'continue';
  return (
    <form action={action} className="stack">
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      {state.ok ? <div className="alert ok">{state.ok}</div> : null}
      <input type="hidden" name="index" value={index} />
      <div className="inline">
        <label>
          Parquet URI <span className="hint">s3://, gs://, az:// or https://&lt;account&gt;.blob.core.windows.net/… (file:// when the server allows it)</span>
          <input
            name="uri"
            placeholder="s3://bucket/prefix"
            value={uri}
            onChange={(e) => setUri(e.target.value)}
            aria-invalid={Boolean(state.errors?.['uri'])}
          />
          <FieldError message={state.errors?.['uri']} />
        </label>
        <label>
          On error
          <select key={errorMode} name="errorMode" defaultValue={errorMode} aria-invalid={Boolean(state.errors?.['errorMode'])}>
            <option value="continue">continue (skip bad rows)</option>
            <option value="abort">abort (import nothing)</option>
          </select>
          <FieldError message={state.errors?.['errorMode']} />
        </label>
      </div>
      <div>
        <button type="submit" disabled={pending}>
          {pending ? 'Starting…' : 'Start import'}
        </button>
      </div>
    </form>
  );
}

function CancelImportButton({ index, id }: { index: string; id: string }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(cancelImport, {});
  return (
    <form action={action}>
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      <input type="hidden" name="index" value={index} />
      <input type="hidden" name="id" value={id} />
      <button type="submit" className="danger secondary small" disabled={pending} aria-label={`Cancel import ${id}`}>
        {pending ? 'Cancelling…' : 'Cancel'}
      </button>
    </form>
  );
}
