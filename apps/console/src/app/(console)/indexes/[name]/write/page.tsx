import { IndexHeader, NamespacePicker } from '../../../../../components/index-header.tsx';
import { DeleteRecordsForm, UpsertForm } from '../../../../../components/record-forms.tsx';
import { ErrorBox } from '../../../../../components/ui.tsx';
import { namespaceLabel } from '../../../../../lib/format.ts';
import { loadIndex, namespaceParam } from '../../../../../lib/index-data.ts';
import { sessionClient } from '../../../../../lib/session.ts';

export default async function WritePage({ params, searchParams }: { params: Promise<{ name: string }>; searchParams: Promise<{ ns?: string }> }) {
  const name = decodeURIComponent((await params).name);
  const ns = namespaceParam((await searchParams).ns);
  const client = await sessionClient();
  const { index, namespaces } = await loadIndex(client, name);
  if (!index.ok) return <ErrorBox error={index.error} kind={index.kind} />;
  const target = { index: name, namespace: ns, dimension: index.data.dimension, vectorType: index.data.vectorType, metric: index.data.metric };
  return (
    <>
      <IndexHeader index={index.data} active="/write" ns={ns} />
      <div className="panel">
        <NamespacePicker namespaces={namespaces.ok ? namespaces.data.namespaces.map((n) => n.name) : []} current={ns} />
        <p className="hint">Writes go to namespace {namespaceLabel(ns)}; a new name creates the namespace.</p>
      </div>
      <div className="grid2" key={ns}>
        <div className="panel">
          <h2>Upsert a record</h2>
          <UpsertForm {...target} />
        </div>
        <div className="panel">
          <h2>Delete records</h2>
          <DeleteRecordsForm {...target} />
        </div>
      </div>
    </>
  );
}
