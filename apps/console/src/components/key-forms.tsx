'use client';

import { useActionState, useState } from 'react';
import { createKey, revokeKey, type ActionState, type KeyState } from '../app/actions.ts';
import { ErrorBox, FieldError } from './ui.tsx';

/** Creates a key; its secret is shown once, with a copy button. */
export function CreateKeyForm() {
  const [state, action, pending] = useActionState<KeyState, FormData>(createKey, {});
  const [copied, setCopied] = useState(false);
  return (
    <form action={action} className="stack">
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      {state.secret ? (
        <div className="alert ok">
          Key <strong>{state.keyName}</strong> created. Copy its secret now: it is not shown again.
          <div className="secret">
            <code data-testid="new-key-secret">{state.secret}</code>
            <button
              type="button"
              className="secondary small"
              onClick={() => {
                void navigator.clipboard?.writeText(state.secret!).then(
                  () => setCopied(true),
                  () => setCopied(false),
                );
              }}
            >
              {copied ? 'Copied' : 'Copy'}
            </button>
          </div>
        </div>
      ) : null}
      <div className="inline">
        <label>
          Name
          <input name="name" placeholder="dashboard" aria-invalid={Boolean(state.errors?.['name'])} />
          <FieldError message={state.errors?.['name']} />
        </label>
        <label>
          Role
          <select name="role" defaultValue="read-write">
            <option value="read-only">read-only</option>
            <option value="read-write">read-write</option>
            <option value="admin">admin</option>
          </select>
        </label>
      </div>
      <div>
        <button type="submit" disabled={pending}>
          {pending ? 'Creating…' : 'Create key'}
        </button>
      </div>
    </form>
  );
}

export function RevokeKeyButton({ id, name }: { id: string; name: string }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(revokeKey, {});
  const [confirming, setConfirming] = useState(false);
  return (
    <form action={action}>
      <input type="hidden" name="id" value={id} />
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      {confirming ? (
        <span className="inline">
          <button type="submit" className="danger small" disabled={pending}>
            {pending ? 'Revoking…' : `Revoke ${name}`}
          </button>
          <button type="button" className="secondary small" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </span>
      ) : (
        <button type="button" className="danger secondary small" onClick={() => setConfirming(true)}>
          Revoke…
        </button>
      )}
    </form>
  );
}
