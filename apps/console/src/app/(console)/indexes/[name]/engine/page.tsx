import { IndexHeader, NamespacePicker } from '../../../../../components/index-header.tsx';
import { NamespaceSchema } from '../../../../../components/namespace-schema.tsx';
import { Empty, ErrorBox, Stat } from '../../../../../components/ui.tsx';
import { formatBytes, formatNumber, freshnessLag, namespaceLabel } from '../../../../../lib/format.ts';
import { loadIndex, namespaceParam } from '../../../../../lib/index-data.ts';
import { attempt } from '../../../../../lib/outcome.ts';
import { sessionClient } from '../../../../../lib/session.ts';

/** The storage engine inside one namespace: LSNs, memtable, slabs by level. */
export default async function EnginePage({ params, searchParams }: { params: Promise<{ name: string }>; searchParams: Promise<{ ns?: string }> }) {
  const name = decodeURIComponent((await params).name);
  const ns = namespaceParam((await searchParams).ns);
  const client = await sessionClient();
  const [{ index, namespaces }, internals, described] = await Promise.all([
    loadIndex(client, name),
    attempt(() => client.index(name).namespaceInternals(ns)),
    attempt(() => client.index(name).describeNamespace(ns)),
  ]);
  if (!index.ok) return <ErrorBox error={index.error} kind={index.kind} />;
  const levels = new Map<number, { count: number; bytes: number; records: number; types: Set<string> }>();
  if (internals.ok) {
    for (const slab of internals.data.slabs) {
      const level = levels.get(slab.level) ?? { count: 0, bytes: 0, records: 0, types: new Set<string>() };
      level.count++;
      level.bytes += slab.bytes;
      level.records += slab.records;
      level.types.add(slab.index);
      levels.set(slab.level, level);
    }
  }
  return (
    <>
      <IndexHeader index={index.data} active="/engine" ns={ns} />
      <div className="panel">
        <NamespacePicker namespaces={namespaces.ok ? namespaces.data.namespaces.map((n) => n.name) : []} current={ns} />
        {described.ok ? (
          <p className="sub" data-testid="namespace-schema">
            Metadata schema of <span className="mono">{namespaceLabel(ns)}</span>:{' '}
            <NamespaceSchema schema={described.data.schema} indexedFields={described.data.indexedFields} />
          </p>
        ) : null}
      </div>
      {!internals.ok ? (
        <ErrorBox error={internals.error} kind={internals.kind} />
      ) : (
        <>
          <h2>
            Namespace <span className="mono">{namespaceLabel(ns)}</span>
          </h2>
          <div className="stats">
            <Stat label="LSN written" value={formatNumber(internals.data.writtenLsn)} hint="durably logged" />
            <Stat label="LSN indexed" value={formatNumber(internals.data.flushedLsn)} hint="in slabs" />
            <Stat
              label="Freshness lag"
              value={formatNumber(freshnessLag(internals.data.writtenLsn, internals.data.flushedLsn))}
              hint="LSNs served from the memtable"
            />
            <Stat
              label="Memtable"
              value={formatNumber(internals.data.memtable.records)}
              hint={`records · ${formatBytes(internals.data.memtable.bytes)} · ${formatNumber(internals.data.memtable.grouped)} grouped`}
            />
            <Stat
              label="Manifest"
              value={`v${internals.data.manifestVersion}`}
              hint={`${internals.data.flushes} flushes · ${internals.data.compactions} compactions`}
            />
            <Stat
              label="Writer epoch"
              value={formatNumber(internals.data.writerEpoch)}
              hint={internals.data.owner ? 'owned by the node that answered' : 'not owned by the node that answered (nothing written since it opened)'}
            />
            {internals.data.slabCache ? (
              <Stat
                label="Slab cache"
                value={`${(internals.data.slabCache.hitRate * 100).toFixed(1)}%`}
                hint={`hit rate · ${formatNumber(internals.data.slabCache.hits)} hits, ${formatNumber(internals.data.slabCache.misses)} misses · ${formatBytes(internals.data.slabCache.memoryBytes)} in memory, ${formatBytes(internals.data.slabCache.diskBytes)} on disk`}
              />
            ) : (
              <Stat label="Slab cache" value="—" hint="none: slabs are read from local disk and kept in memory" />
            )}
          </div>
          <div className="panel table-wrap">
            <h2>Slabs by level</h2>
            {levels.size === 0 ? (
              <Empty title="No slabs yet">Every record is still in the memtable; it is flushed to a slab past its size or age threshold.</Empty>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th>Level</th>
                    <th className="num">Slabs</th>
                    <th className="num">Records</th>
                    <th className="num">Bytes</th>
                    <th>Index type</th>
                  </tr>
                </thead>
                <tbody>
                  {[...levels.entries()]
                    .sort(([a], [b]) => a - b)
                    .map(([level, l]) => (
                      <tr key={level}>
                        <td>L{level}</td>
                        <td className="num">{l.count}</td>
                        <td className="num">{formatNumber(l.records)}</td>
                        <td className="num">{formatBytes(l.bytes)}</td>
                        <td>
                          {[...l.types].map((t) => (
                            <span key={t} className="badge">
                              {t}
                            </span>
                          ))}
                        </td>
                      </tr>
                    ))}
                </tbody>
              </table>
            )}
          </div>
          {internals.data.slabs.length > 0 ? (
            <div className="panel table-wrap">
              <h2>Slabs</h2>
              <table>
                <thead>
                  <tr>
                    <th>Id</th>
                    <th>Level</th>
                    <th className="num">Records</th>
                    <th className="num">Bytes</th>
                    <th className="num">LSNs</th>
                    <th>Index</th>
                  </tr>
                </thead>
                <tbody>
                  {internals.data.slabs.map((s) => (
                    <tr key={s.id}>
                      <td className="mono">{s.id}</td>
                      <td>L{s.level}</td>
                      <td className="num">{formatNumber(s.records)}</td>
                      <td className="num">{formatBytes(s.bytes)}</td>
                      <td className="num">
                        {s.minLsn}–{s.maxLsn}
                      </td>
                      <td>{s.index}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </>
      )}
    </>
  );
}
