import { redirect } from 'next/navigation';
import { UnauthenticatedError } from '@conifer/sdk';

/** A server call's result as plain data (serializable to client components). */
export type Outcome<T> = { ok: true; data: T } | { ok: false; error: string; kind: string };

/**
 * Runs an SDK call and returns its error as data — the server's own message, shown on the page —
 * instead of throwing (Next hides thrown messages in production). A rejected key (revoked,
 * unknown) ends the session: back to sign-in.
 */
export async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, data: await fn() };
  } catch (error) {
    if (error instanceof UnauthenticatedError) redirect('/login?expired=1');
    const e = error instanceof Error ? error : new Error(String(error));
    outcome = { ok: false, error: e.message, kind: e.name };
  }
  return outcome;
}
