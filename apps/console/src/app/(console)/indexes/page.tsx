import Link from 'next/link';
import { CreateIndexForm } from '../../../components/create-index-form.tsx';
import { Empty, ErrorBox } from '../../../components/ui.tsx';
import { formatBytes, formatNumber } from '../../../lib/format.ts';
import { attempt } from '../../../lib/outcome.ts';
import { sessionClient } from '../../../lib/session.ts';

export const metadata = { title: 'Indexes · Conifer' };

export default async function IndexesPage() {
  const client = await sessionClient();
  const list = await attempt(() => client.listIndexes());
  // Record counts and storage come from each index's stats; one failing index does not hide the others.
  const counts = list.ok ? await Promise.all(list.data.indexes.map((ix) => attempt(() => client.index(ix.name).describeIndexStats()))) : [];
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Indexes</h1>
          <p className="sub">Dense and sparse serverless indexes of this project.</p>
        </div>
      </div>
      <div className="panel table-wrap">
        {!list.ok ? (
          <ErrorBox error={list.error} kind={list.kind} />
        ) : list.data.indexes.length === 0 ? (
          <Empty title="No indexes yet">Create one with the form below.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th className="num">Dimension</th>
                <th>Metric</th>
                <th className="num">Records</th>
                <th className="num">Storage</th>
                <th>Status</th>
                <th>Protection</th>
                <th>Tags</th>
              </tr>
            </thead>
            <tbody>
              {list.data.indexes.map((ix, i) => {
                const stats = counts[i];
                return (
                  <tr key={ix.name}>
                    <td>
                      <Link href={`/indexes/${encodeURIComponent(ix.name)}`}>{ix.name}</Link>
                    </td>
                    <td>{ix.vectorType === 'sparse' ? <span className="badge">sparse</span> : 'dense'}</td>
                    <td className="num">{ix.vectorType === 'sparse' ? '—' : ix.dimension}</td>
                    <td>{ix.metric}</td>
                    <td className="num">{stats?.ok ? formatNumber(stats.data.totalRecordCount) : '—'}</td>
                    <td className="num">{stats?.ok ? formatBytes(stats.data.storageBytes) : '—'}</td>
                    <td>
                      <span className={`badge ${ix.status === 'ready' ? 'green' : ''}`}>{ix.status}</span>
                    </td>
                    <td>{ix.deletionProtection === 'enabled' ? <span className="badge red">protected</span> : <span className="badge">off</span>}</td>
                    <td>
                      {Object.entries(ix.tags ?? {}).map(([k, v]) => (
                        <span key={k} className="badge">
                          {k}={v}
                        </span>
                      ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
      <div className="panel">
        <h2>Create an index</h2>
        <CreateIndexForm />
      </div>
    </>
  );
}
