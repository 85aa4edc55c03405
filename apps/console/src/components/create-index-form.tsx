'use client';

import { useActionState, useState, type FormEvent } from 'react';
import { createIndex, type ActionState } from '../app/actions.ts';
import { parseCreateIndexForm, type FieldErrors } from '../lib/forms.ts';
import { ErrorBox, FieldError } from './ui.tsx';

function fieldsOf(form: HTMLFormElement) {
  const data = new FormData(form);
  const get = (name: string) => String(data.get(name) ?? '');
  // A sparse index's dimension and metric are disabled, so not submitted: "" here too (the input
  // event of the vector type comes before they are disabled).
  const sparse = get('vectorType') === 'sparse';
  return {
    name: get('name'),
    vectorType: get('vectorType'),
    dimension: sparse ? '' : get('dimension'),
    metric: sparse ? '' : get('metric'),
    deletionProtection: get('deletionProtection'),
    tags: get('tags'),
  };
}

/**
 * Validated as the user types with core's createIndexSchema (the server checks the same). A sparse
 * index has no dimension and scores by dotproduct: both fields are disabled when it is picked.
 */
export function CreateIndexForm() {
  const [state, action, pending] = useActionState<ActionState, FormData>(createIndex, {});
  // Controlled: the dimension and metric follow the vector type.
  const [vectorType, setVectorType] = useState<'dense' | 'sparse'>('dense');
  const [metric, setMetric] = useState('cosine');
  const sparse = vectorType === 'sparse';
  const [live, setLive] = useState<FieldErrors>({});
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const onInput = (event: FormEvent<HTMLFormElement>) => {
    const target = event.target as HTMLInputElement;
    setTouched((t) => new Set(t).add(target.name));
    const parsed = parseCreateIndexForm(fieldsOf(event.currentTarget));
    setLive(parsed.ok ? {} : parsed.errors);
  };
  const error = (field: string) => (touched.has(field) ? live[field] : undefined) ?? state.errors?.[field];
  return (
    <form action={action} onInput={onInput} className="stack" noValidate>
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      <div className="inline">
        <label>
          Name
          <input name="name" placeholder="docs" aria-invalid={Boolean(error('name'))} />
          <FieldError message={error('name')} />
        </label>
        <label>
          Vector type
          <select name="vectorType" value={vectorType} onChange={(e) => setVectorType(e.target.value === 'sparse' ? 'sparse' : 'dense')}>
            <option value="dense">dense</option>
            <option value="sparse">sparse</option>
          </select>
        </label>
        <label>
          Dimension {sparse ? <span className="hint">none for sparse</span> : null}
          <input name="dimension" inputMode="numeric" placeholder={sparse ? '—' : '384'} disabled={sparse} aria-invalid={Boolean(error('dimension'))} />
          <FieldError message={error('dimension')} />
        </label>
        <label>
          Metric {sparse ? <span className="hint">dotproduct only for sparse</span> : null}
          <select name="metric" value={sparse ? 'dotproduct' : metric} disabled={sparse} onChange={(e) => setMetric(e.target.value)}>
            <option value="cosine">cosine</option>
            <option value="euclidean">euclidean</option>
            <option value="dotproduct">dotproduct</option>
          </select>
          <FieldError message={error('metric')} />
        </label>
        <label>
          Deletion protection
          <select name="deletionProtection" defaultValue="disabled">
            <option value="disabled">disabled</option>
            <option value="enabled">enabled</option>
          </select>
        </label>
      </div>
      <label>
        Tags <span className="hint">key=value, comma-separated (optional)</span>
        <input name="tags" placeholder="team=search, env=dev" aria-invalid={Boolean(error('tags'))} />
        <FieldError message={error('tags')} />
      </label>
      <div>
        <button type="submit" disabled={pending}>
          {pending ? 'Creating…' : 'Create index'}
        </button>
      </div>
    </form>
  );
}
