'use client';

import { useActionState, useState } from 'react';
import { deleteIndex, type ActionState } from '../app/actions.ts';
import { ErrorBox, FieldError } from './ui.tsx';

/** Deleting asks for the index's name, typed out. */
export function DeleteIndexForm({ name, protectedIndex }: { name: string; protectedIndex: boolean }) {
  const [state, action, pending] = useActionState<ActionState, FormData>(deleteIndex, {});
  const [typed, setTyped] = useState('');
  return (
    <form action={action} className="confirm">
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      <span>
        Deletes index <strong>{name}</strong> and every record in it. This cannot be undone.
        {protectedIndex ? ' Deletion protection is on: disable it in Settings first.' : ''}
      </span>
      <input type="hidden" name="index" value={name} />
      <label>
        <span>
          Type <code>{name}</code> to confirm
        </span>
        <input name="confirm" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
        <FieldError message={state.errors?.['confirm']} />
      </label>
      <div>
        <button type="submit" className="danger" disabled={pending || typed !== name}>
          {pending ? 'Deleting…' : `Delete ${name}`}
        </button>
      </div>
    </form>
  );
}
