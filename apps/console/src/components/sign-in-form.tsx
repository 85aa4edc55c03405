'use client';

import { useActionState } from 'react';
import { signIn, type ActionState } from '../app/actions.ts';
import { ErrorBox, FieldError } from './ui.tsx';

export function SignInForm() {
  const [state, action, pending] = useActionState<ActionState, FormData>(signIn, {});
  return (
    <form action={action} className="stack">
      {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
      <label>
        API key
        <input name="apiKey" type="password" autoComplete="off" autoFocus aria-invalid={Boolean(state.errors?.['apiKey'])} />
        <FieldError message={state.errors?.['apiKey']} />
      </label>
      <button type="submit" disabled={pending}>
        {pending ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
