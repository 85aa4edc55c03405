import type { ReactNode } from 'react';
import Link from 'next/link';
import { signOut } from '../actions.ts';
import { attempt } from '../../lib/outcome.ts';
import { sessionClient } from '../../lib/session.ts';

export const dynamic = 'force-dynamic';

/** Signed-in pages: the sidebar, and the project and role of the session's key. */
export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const client = await sessionClient();
  const me = await attempt(() => client.whoami());
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">
          Conifer <span>console</span>
        </div>
        <Link href="/projects">Projects</Link>
        <Link href="/indexes">Indexes</Link>
        <Link href="/backups">Backups</Link>
        <Link href="/keys">API keys</Link>
        <Link href="/usage">Usage</Link>
        {me.ok && me.data.operator ? <Link href="/cluster">Cluster</Link> : null}
        <div className="who">
          {me.ok ? (
            <>
              Project <strong>{me.data.project.name}</strong>
              <br />
              Role {me.data.role}
            </>
          ) : (
            <span>{me.error}</span>
          )}
          <form action={signOut}>
            <button type="submit" className="secondary small">
              Sign out
            </button>
          </form>
        </div>
      </aside>
      <main>{children}</main>
    </div>
  );
}
