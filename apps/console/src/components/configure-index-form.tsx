'use client';

import { useActionState } from 'react';
import { configureIndex, type ActionState } from '../app/actions.ts';
import { ErrorBox, FieldError } from './ui.tsx';

export function ConfigureIndexForm({ name, deletionProtection, tags }: { name: string; deletionProtection: string; tags: Record<string, string> }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(configureIndex, {});
  const current = Object.entries(tags);
  return (
    <form action={action} className="stack">
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      {state.ok ? <div className="alert ok">{state.ok}</div> : null}
      <input type="hidden" name="index" value={name} />
      <label>
        Deletion protection
        <select name="deletionProtection" defaultValue={deletionProtection}>
          <option value="disabled">disabled</option>
          <option value="enabled">enabled</option>
        </select>
      </label>
      <div>
        <span className="hint">Current tags: </span>
        {current.length === 0 ? (
          <span className="hint">none</span>
        ) : (
          current.map(([k, v]) => (
            <span key={k} className="badge">
              {k}={v}
            </span>
          ))
        )}
      </div>
      <label>
        Tags to set <span className="hint">key=value, comma-separated; key= removes a tag</span>
        <input name="tags" placeholder="env=prod, old=" aria-invalid={Boolean(state.errors?.['tags'])} />
        <FieldError message={state.errors?.['tags']} />
      </label>
      <div>
        <button type="submit" disabled={pending}>
          {pending ? 'Saving…' : 'Save settings'}
        </button>
      </div>
    </form>
  );
}
