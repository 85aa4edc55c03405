import Link from 'next/link';
import { IndexHeader, NamespacePicker } from '../../../../../components/index-header.tsx';
import { Empty, ErrorBox } from '../../../../../components/ui.tsx';
import { namespaceLabel, previewSparse, previewVector } from '../../../../../lib/format.ts';
import { loadIndex, namespaceParam } from '../../../../../lib/index-data.ts';
import { attempt } from '../../../../../lib/outcome.ts';
import { sessionClient } from '../../../../../lib/session.ts';

type Search = { ns?: string; prefix?: string; token?: string; id?: string };

const PAGE_SIZE = 25;

/** Data browser: ids by prefix, one page at a time, and one record opened. */
export default async function BrowsePage({ params, searchParams }: { params: Promise<{ name: string }>; searchParams: Promise<Search> }) {
  const name = decodeURIComponent((await params).name);
  const search = await searchParams;
  const ns = namespaceParam(search.ns);
  const prefix = search.prefix ?? '';
  const client = await sessionClient();
  const handle = client.index(name).namespace(ns);
  const [{ index, namespaces }, page, record] = await Promise.all([
    loadIndex(client, name),
    attempt(() => handle.listPaginated({ limit: PAGE_SIZE, ...(prefix ? { prefix } : {}), ...(search.token ? { paginationToken: search.token } : {}) })),
    search.id ? attempt(() => handle.fetch([search.id!])) : Promise.resolve(undefined),
  ]);
  if (!index.ok) return <ErrorBox error={index.error} kind={index.kind} />;
  const base = `/indexes/${encodeURIComponent(name)}/browse`;
  const link = (extra: Record<string, string>) => `${base}?${new URLSearchParams({ ns, ...(prefix ? { prefix } : {}), ...extra })}`;
  const opened = search.id && record?.ok ? record.data.records[search.id] : undefined;
  return (
    <>
      <IndexHeader index={index.data} active="/browse" ns={ns} />
      <div className="panel">
        <div className="inline">
          <NamespacePicker namespaces={namespaces.ok ? namespaces.data.namespaces.map((n) => n.name) : []} current={ns} />
          <form className="row" method="get">
            <input type="hidden" name="ns" value={ns} />
            <label>
              Id prefix
              <input name="prefix" defaultValue={prefix} placeholder="doc#" />
            </label>
            <button type="submit" className="secondary">
              Filter
            </button>
          </form>
        </div>
      </div>
      <div className="grid2">
        <div className="panel table-wrap">
          <h2>
            Records in <span className="mono">{namespaceLabel(ns)}</span>
            {prefix ? (
              <>
                {' '}
                starting with <span className="mono">{prefix}</span>
              </>
            ) : null}
          </h2>
          {!page.ok ? (
            <ErrorBox error={page.error} kind={page.kind} />
          ) : page.data.ids.length === 0 ? (
            <Empty title="No records">{prefix ? 'No id starts with this prefix.' : 'This namespace is empty.'}</Empty>
          ) : (
            <>
              <table>
                <thead>
                  <tr>
                    <th>Id</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.ids.map((id) => (
                    <tr key={id}>
                      <td className="mono">
                        <Link href={link({ ...(search.token ? { token: search.token } : {}), id })}>{id}</Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <div className="pager">
                {search.token ? <Link href={link({})}>« First page</Link> : null}
                {page.data.pagination?.next ? (
                  <Link href={link({ token: page.data.pagination.next })}>Next page »</Link>
                ) : (
                  <span className="hint">Last page</span>
                )}
              </div>
            </>
          )}
        </div>
        <div className="panel">
          <h2>Record</h2>
          {!search.id ? (
            <Empty title="No record open">Pick an id on the left.</Empty>
          ) : record && !record.ok ? (
            <ErrorBox error={record.error} kind={record.kind} />
          ) : !opened ? (
            <Empty title={`"${search.id}" not found`}>It may have been deleted.</Empty>
          ) : (
            <div className="stack" style={{ display: 'flex', flexDirection: 'column', gap: 12 }}>
              <div>
                <div className="hint">Id</div>
                <div className="mono" data-testid="record-id">
                  {opened.id}
                </div>
              </div>
              {index.data.vectorType !== 'sparse' ? (
                <div>
                  <div className="hint">Values</div>
                  <div className="mono">{previewVector(opened.values ?? [])}</div>
                </div>
              ) : null}
              {opened.sparseValues ? (
                <div>
                  <div className="hint">Sparse values</div>
                  <div className="mono" data-testid="record-sparse">
                    {previewSparse(opened.sparseValues, 12)}
                  </div>
                </div>
              ) : null}
              <div>
                <div className="hint">Metadata</div>
                {opened.metadata && Object.keys(opened.metadata).length > 0 ? (
                  <table>
                    <tbody>
                      {Object.entries(opened.metadata).map(([k, v]) => (
                        <tr key={k}>
                          <td className="mono">{k}</td>
                          <td className="mono">{JSON.stringify(v)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : (
                  <span className="hint">none</span>
                )}
              </div>
            </div>
          )}
        </div>
      </div>
    </>
  );
}
