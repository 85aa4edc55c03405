import { IndexHeader, NamespacePicker } from '../../../../../components/index-header.tsx';
import { QueryPlayground } from '../../../../../components/query-playground.tsx';
import { ErrorBox } from '../../../../../components/ui.tsx';
import { loadIndex, namespaceParam } from '../../../../../lib/index-data.ts';
import { sessionClient } from '../../../../../lib/session.ts';

export default async function QueryPage({ params, searchParams }: { params: Promise<{ name: string }>; searchParams: Promise<{ ns?: string }> }) {
  const name = decodeURIComponent((await params).name);
  const ns = namespaceParam((await searchParams).ns);
  const client = await sessionClient();
  const { index, namespaces } = await loadIndex(client, name);
  if (!index.ok) return <ErrorBox error={index.error} kind={index.kind} />;
  return (
    <>
      <IndexHeader index={index.data} active="/query" ns={ns} />
      <div className="panel">
        <NamespacePicker namespaces={namespaces.ok ? namespaces.data.namespaces.map((n) => n.name) : []} current={ns} />
      </div>
      <QueryPlayground
        key={ns}
        index={name}
        namespace={ns}
        shape={{ dimension: index.data.dimension, vectorType: index.data.vectorType, metric: index.data.metric }}
      />
    </>
  );
}
