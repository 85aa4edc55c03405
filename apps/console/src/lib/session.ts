import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { Conifer } from '@conifer/sdk';

/** httpOnly cookie holding the API key the user signed in with; never readable by page scripts. */
export const SESSION_COOKIE = 'conifer_key';

/** The Conifer server, reached from the console's server side only (`CONIFER_SERVER_URL`). */
export function serverUrl(): string {
  return process.env['CONIFER_SERVER_URL'] ?? 'http://127.0.0.1:5080';
}

export function clientFor(apiKey: string): Conifer {
  return new Conifer({ url: serverUrl(), apiKey });
}

/** SDK client of the signed-in user; no session → the sign-in page. */
export async function sessionClient(): Promise<Conifer> {
  const key = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!key) redirect('/login');
  return clientFor(key);
}

export async function setSession(apiKey: string): Promise<void> {
  (await cookies()).set(SESSION_COOKIE, apiKey, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: process.env['CONIFER_CONSOLE_SECURE_COOKIE'] === '1',
    maxAge: 60 * 60 * 12,
  });
}

export async function clearSession(): Promise<void> {
  (await cookies()).delete(SESSION_COOKIE);
}
