import Link from 'next/link';
import type { IndexDescription } from '@conifer/sdk';
import { describeShape } from '../lib/format.ts';
import { IndexTabs } from './ui.tsx';

/** Title, key facts and tabs of one index's pages. */
export function IndexHeader({ index, active, ns }: { index: IndexDescription; active: string; ns?: string | undefined }) {
  return (
    <>
      <div className="page-head">
        <div>
          <p className="sub">
            <Link href="/indexes">Indexes</Link> /
          </p>
          <h1>{index.name}</h1>
          <p className="sub">
            <span data-testid="index-shape">{describeShape(index)}</span> · <span className="badge green">{index.status}</span>
            {index.deletionProtection === 'enabled' ? <span className="badge red">deletion protection</span> : null}
          </p>
        </div>
      </div>
      <IndexTabs name={index.name} active={active} ns={ns} />
    </>
  );
}

/** GET form choosing the namespace the page works on (`?ns=`); "" is the default namespace. */
export function NamespacePicker({ namespaces, current, extra }: { namespaces: string[]; current: string; extra?: Record<string, string> }) {
  return (
    <form className="row" method="get">
      <label>
        Namespace
        <input name="ns" list="namespaces" defaultValue={current} placeholder="__default__" />
        <datalist id="namespaces">
          {namespaces.map((n) => (
            <option key={n} value={n} />
          ))}
        </datalist>
      </label>
      {Object.entries(extra ?? {}).map(([k, v]) => (
        <input key={k} type="hidden" name={k} value={v} />
      ))}
      <button type="submit" className="secondary">
        Open
      </button>
    </form>
  );
}
