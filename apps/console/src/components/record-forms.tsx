'use client';

import { useActionState, useState } from 'react';
import { deleteRecords, upsertRecord, type ActionState } from '../app/actions.ts';
import { namespaceLabel } from '../lib/format.ts';
import { takesSparse } from '../lib/forms.ts';
import { FilterEditor } from './filter-editor.tsx';
import { SparseFields, type SparseText } from './sparse-fields.tsx';
import { ErrorBox, FieldError } from './ui.tsx';

interface Target {
  index: string;
  namespace: string;
  /** 0 for a sparse index. */
  dimension: number;
  vectorType: 'dense' | 'sparse';
  metric: string;
}

function Hidden({ index, namespace, dimension, vectorType, metric }: Target) {
  return (
    <>
      <input type="hidden" name="index" value={index} />
      <input type="hidden" name="namespace" value={namespace} />
      <input type="hidden" name="dimension" value={dimension} />
      <input type="hidden" name="vectorType" value={vectorType} />
      <input type="hidden" name="metric" value={metric} />
    </>
  );
}

/** One record: its dense values (a dense index), its sparse values (a sparse index, or optional on a dense dotproduct one), metadata. */
export function UpsertForm(target: Target) {
  const [state, action, pending] = useActionState<ActionState, FormData>(upsertRecord, {});
  // Controlled fields: React resets uncontrolled ones after every action, which would throw away
  // what the user typed when the server rejects it.
  const [id, setId] = useState('');
  const [values, setValues] = useState('');
  const [metadata, setMetadata] = useState('');
  const [sparse, setSparse] = useState<SparseText>({ indices: '', values: '' });
  const sparseMode = takesSparse(target);
  return (
    <form action={action} className="stack">
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      {state.ok ? <div className="alert ok">{state.ok}</div> : null}
      <Hidden {...target} />
      <label>
        Id
        <input name="id" placeholder="doc-1" value={id} onChange={(e) => setId(e.target.value)} aria-invalid={Boolean(state.errors?.['id'])} />
        <FieldError message={state.errors?.['id']} />
      </label>
      {target.vectorType === 'dense' ? (
        <label>
          Values <span className="hint">{target.dimension} numbers</span>
          <textarea
            name="values"
            placeholder="[0.1, 0.2, 0.3]"
            value={values}
            onChange={(e) => setValues(e.target.value)}
            aria-invalid={Boolean(state.errors?.['values'])}
          />
          <FieldError message={state.errors?.['values']} />
        </label>
      ) : null}
      {sparseMode !== 'no' ? <SparseFields value={sparse} onChange={setSparse} error={state.errors?.['sparse']} optional={sparseMode === 'optional'} /> : null}
      <label>
        Metadata <span className="hint">flat JSON object (optional)</span>
        <textarea
          name="metadata"
          placeholder='{"genre": "drama", "year": 2020}'
          value={metadata}
          onChange={(e) => setMetadata(e.target.value)}
          aria-invalid={Boolean(state.errors?.['metadata'])}
        />
        <FieldError message={state.errors?.['metadata']} />
      </label>
      <div>
        <button type="submit" disabled={pending}>
          {pending ? 'Upserting…' : 'Upsert record'}
        </button>
      </div>
    </form>
  );
}

/** Delete by ids or by filter; a second step names what will go before anything is deleted. */
export function DeleteRecordsForm(target: Target) {
  const [state, action, pending] = useActionState<ActionState, FormData>(deleteRecords, {});
  const [mode, setMode] = useState<'ids' | 'filter'>('ids');
  const [confirming, setConfirming] = useState(false);
  return (
    <form
      action={(form) => {
        setConfirming(false);
        action(form);
      }}
      className="stack"
    >
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      {state.ok ? <div className="alert ok">{state.ok}</div> : null}
      <Hidden {...target} />
      <input type="hidden" name="mode" value={mode} />
      <div className="inline">
        <label className="check">
          <input type="radio" checked={mode === 'ids'} onChange={() => setMode('ids')} /> By ids
        </label>
        <label className="check">
          <input type="radio" checked={mode === 'filter'} onChange={() => setMode('filter')} /> By filter
        </label>
      </div>
      {mode === 'ids' ? (
        <label>
          Ids <span className="hint">comma- or line-separated</span>
          <textarea name="ids" aria-invalid={Boolean(state.errors?.['ids'])} />
          <FieldError message={state.errors?.['ids']} />
        </label>
      ) : (
        <FilterEditor serverError={state.errors?.['filter']} />
      )}
      {confirming ? (
        <div className="confirm">
          <span>
            Delete the {mode === 'ids' ? 'records with these ids' : 'records matching this filter'} from namespace{' '}
            <strong>{namespaceLabel(target.namespace)}</strong> of index <strong>{target.index}</strong>?
          </span>
          <div className="inline">
            <button type="submit" className="danger" disabled={pending}>
              {pending ? 'Deleting…' : 'Confirm delete'}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <div>
          <button type="button" className="danger secondary" onClick={() => setConfirming(true)}>
            Delete…
          </button>
        </div>
      )}
    </form>
  );
}
