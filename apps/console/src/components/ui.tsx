import type { ReactNode } from 'react';
import Link from 'next/link';

/** A server error as the server worded it. */
export function ErrorBox({ error, kind }: { error: string; kind?: string | undefined }) {
  return (
    <div className="alert error" role="alert">
      {kind ? <strong>{kind.replace(/Error$/, '')}</strong> : null}
      {error}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <strong>{title}</strong>
      {children}
    </div>
  );
}

export function Stat({ label, value, hint }: { label: string; value: ReactNode; hint?: string }) {
  return (
    <div className="stat">
      <div className="label">{label}</div>
      <div className="value">{value}</div>
      {hint ? <div className="hint">{hint}</div> : null}
    </div>
  );
}

export function FieldError({ message }: { message: string | undefined }) {
  return message ? <span className="field-error">{message}</span> : null;
}

const TABS = [
  ['', 'Overview'],
  ['/browse', 'Browse'],
  ['/query', 'Query'],
  ['/write', 'Write'],
  ['/engine', 'Engine'],
] as const;

/** Tabs of an index's pages; the namespace (`?ns=`) carries over. */
export function IndexTabs({ name, active, ns }: { name: string; active: string; ns?: string | undefined }) {
  const qs = ns ? `?ns=${encodeURIComponent(ns)}` : '';
  return (
    <nav className="tabs">
      {TABS.map(([path, label]) => (
        <Link key={path} href={`/indexes/${encodeURIComponent(name)}${path}${qs}`} className={path === active ? 'active' : undefined}>
          {label}
        </Link>
      ))}
    </nav>
  );
}
