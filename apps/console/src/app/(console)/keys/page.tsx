import { CreateKeyForm, RevokeKeyButton } from '../../../components/key-forms.tsx';
import { Empty, ErrorBox } from '../../../components/ui.tsx';
import { attempt } from '../../../lib/outcome.ts';
import { sessionClient } from '../../../lib/session.ts';

export const metadata = { title: 'API keys · Conifer' };

function day(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 16).replace('T', ' ') : '—';
}

export default async function KeysPage() {
  const client = await sessionClient();
  const list = await attempt(() => client.listApiKeys());
  return (
    <>
      <div className="page-head">
        <div>
          <h1>API keys</h1>
          <p className="sub">Keys of this project. Secrets are stored hashed and shown only once, at creation.</p>
        </div>
      </div>
      <div className="panel table-wrap">
        {!list.ok ? (
          <ErrorBox error={list.error} kind={list.kind} />
        ) : list.data.keys.length === 0 ? (
          <Empty title="No keys" />
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Role</th>
                <th>Prefix</th>
                <th>Created</th>
                <th>Last used</th>
                <th>Status</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.keys.map((k) => (
                <tr key={k.id} data-key-name={k.name}>
                  <td>{k.name}</td>
                  <td>{k.role}</td>
                  <td className="mono">{k.displayPrefix}…</td>
                  <td>{day(k.createdAt)}</td>
                  <td>{day(k.lastUsedAt)}</td>
                  <td>{k.revokedAt ? <span className="badge red">revoked</span> : <span className="badge green">active</span>}</td>
                  <td className="num">{k.revokedAt ? null : <RevokeKeyButton id={k.id} name={k.name} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="panel">
        <h2>Create a key</h2>
        <CreateKeyForm />
      </div>
    </>
  );
}
