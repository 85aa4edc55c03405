import Link from 'next/link';
import { BackupsPanel } from '../../../../components/backups-panel.tsx';
import { DeleteIndexForm } from '../../../../components/delete-index-form.tsx';
import { ConfigureIndexForm } from '../../../../components/configure-index-form.tsx';
import { ImportsPanel } from '../../../../components/imports-panel.tsx';
import { IndexHeader } from '../../../../components/index-header.tsx';
import { NamespaceSchema } from '../../../../components/namespace-schema.tsx';
import { Empty, ErrorBox, Stat } from '../../../../components/ui.tsx';
import { formatNumber, namespaceLabel } from '../../../../lib/format.ts';
import { restoreJobsOfIndex } from '../../../../lib/backups.ts';
import { loadBackups, loadImports, loadIndex, loadRestoreJobs } from '../../../../lib/index-data.ts';
import { attempt } from '../../../../lib/outcome.ts';
import { sessionClient } from '../../../../lib/session.ts';

export default async function IndexPage({ params }: { params: Promise<{ name: string }> }) {
  const name = decodeURIComponent((await params).name);
  const client = await sessionClient();
  const [{ index, namespaces }, stats, imports, backups, restoreJobs, me] = await Promise.all([
    loadIndex(client, name),
    attempt(() => client.index(name).describeIndexStats()),
    loadImports(client, name),
    loadBackups(client, name),
    loadRestoreJobs(client),
    attempt(() => client.whoami()),
  ]);
  if (!index.ok) return <ErrorBox error={index.error} kind={index.kind} />;
  // The server decides; the form is hidden from keys it would refuse.
  const canWrite = !me.ok || me.data.role !== 'read-only';
  const ix = index.data;
  // The restores of this index's backups, and the one that filled this index.
  const jobs = restoreJobs.ok && backups.ok ? { ok: true as const, data: restoreJobsOfIndex(restoreJobs.data, name, backups.data) } : restoreJobs;
  const href = (path: string, ns: string) => `/indexes/${encodeURIComponent(name)}/${path}?ns=${encodeURIComponent(ns)}`;
  return (
    <>
      <IndexHeader index={ix} active="" />
      <div className="stats">
        <Stat label="Records" value={stats.ok ? formatNumber(stats.data.totalRecordCount) : '—'} />
        <Stat label="Namespaces" value={namespaces.ok ? namespaces.data.totalCount : '—'} />
        <Stat label="Vector type" value={ix.vectorType} />
        <Stat
          label="Dimension"
          value={ix.vectorType === 'sparse' ? '—' : ix.dimension}
          hint={ix.vectorType === 'sparse' ? 'a sparse index has none' : undefined}
        />
        <Stat label="Metric" value={ix.metric} />
      </div>
      <div className="panel table-wrap">
        <h2>Namespaces</h2>
        {!namespaces.ok ? (
          <ErrorBox error={namespaces.error} kind={namespaces.kind} />
        ) : namespaces.data.namespaces.length === 0 ? (
          <Empty title="No namespaces yet">
            A namespace appears with its first write: <Link href={href('write', '')}>upsert a record</Link>.
          </Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Namespace</th>
                <th className="num">Records</th>
                <th>Metadata schema</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {namespaces.data.namespaces.map((ns) => (
                <tr key={ns.name} data-namespace={ns.name}>
                  <td className="mono">{namespaceLabel(ns.name)}</td>
                  <td className="num">{formatNumber(ns.recordCount)}</td>
                  <td>
                    <NamespaceSchema schema={ns.schema} indexedFields={ns.indexedFields} />
                  </td>
                  <td className="num">
                    <Link href={href('browse', ns.name)}>browse</Link> · <Link href={href('query', ns.name)}>query</Link> ·{' '}
                    <Link href={href('engine', ns.name)}>engine</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <ImportsPanel index={ix.name} imports={imports} canWrite={canWrite} />
      <BackupsPanel index={ix.name} backups={backups} restoreJobs={jobs} canWrite={canWrite} />
      <div className="grid2">
        <div className="panel">
          <h2>Settings</h2>
          <ConfigureIndexForm name={ix.name} deletionProtection={ix.deletionProtection} tags={ix.tags ?? {}} />
        </div>
        <div className="panel">
          <h2>Delete index</h2>
          <DeleteIndexForm name={ix.name} protectedIndex={ix.deletionProtection === 'enabled'} />
        </div>
      </div>
    </>
  );
}
