import { BarChart } from '../../../components/usage-chart.tsx';
import { Empty, ErrorBox, Stat } from '../../../components/ui.tsx';
import { dailyTotals } from '../../../lib/chart.ts';
import { formatNumber } from '../../../lib/format.ts';
import { attempt } from '../../../lib/outcome.ts';
import { sessionClient } from '../../../lib/session.ts';

export const metadata = { title: 'Usage · Conifer' };

/** Read and write units per day (last 30 days), all indexes or one. */
export default async function UsagePage({ searchParams }: { searchParams: Promise<{ index?: string }> }) {
  const { index } = await searchParams;
  const client = await sessionClient();
  const [report, indexes] = await Promise.all([attempt(() => client.usage({})), attempt(() => client.listIndexes())]);
  const names = new Set<string>(indexes.ok ? indexes.data.indexes.map((i) => i.name) : []);
  if (report.ok) for (const d of report.data.days) names.add(d.indexName);
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Usage</h1>
          <p className="sub">Read units (RU) and write units (WU) per UTC day, as metered by the server.</p>
        </div>
        <form className="row" method="get">
          <label>
            Index
            <select name="index" defaultValue={index ?? ''}>
              <option value="">all indexes</option>
              {[...names].sort().map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="secondary">
            Show
          </button>
        </form>
      </div>
      {!report.ok ? (
        <ErrorBox error={report.error} kind={report.kind} />
      ) : (
        <UsageBody days={report.data.days} from={report.data.from} to={report.data.to} index={index || undefined} />
      )}
    </>
  );
}

function UsageBody({
  days,
  from,
  to,
  index,
}: {
  days: { day: string; indexName: string; readUnits: number; writeUnits: number; requests: number }[];
  from: string;
  to: string;
  index: string | undefined;
}) {
  const series = dailyTotals(days, from, to, index);
  const selected = days.filter((d) => !index || d.indexName === index);
  const byIndex = new Map<string, { readUnits: number; writeUnits: number; requests: number }>();
  for (const d of selected) {
    const t = byIndex.get(d.indexName) ?? { readUnits: 0, writeUnits: 0, requests: 0 };
    t.readUnits += d.readUnits;
    t.writeUnits += d.writeUnits;
    t.requests += d.requests;
    byIndex.set(d.indexName, t);
  }
  const total = [...byIndex.values()].reduce(
    (a, t) => ({ readUnits: a.readUnits + t.readUnits, writeUnits: a.writeUnits + t.writeUnits, requests: a.requests + t.requests }),
    { readUnits: 0, writeUnits: 0, requests: 0 },
  );
  return (
    <>
      <div className="stats">
        <Stat label="Read units" value={formatNumber(total.readUnits)} hint={`${from} – ${to}`} />
        <Stat label="Write units" value={formatNumber(total.writeUnits)} />
        <Stat label="Requests" value={formatNumber(total.requests)} />
      </div>
      <div className="panel">
        {selected.length === 0 ? (
          <Empty title="No usage in this period">Units appear after reads and writes (the server records them every few seconds).</Empty>
        ) : (
          <div style={{ display: 'grid', gap: 18 }}>
            <BarChart kind="read" title="Read units per day" points={series.map((s) => ({ label: s.day, value: s.readUnits }))} />
            <BarChart kind="write" title="Write units per day" points={series.map((s) => ({ label: s.day, value: s.writeUnits }))} />
          </div>
        )}
      </div>
      {byIndex.size > 0 ? (
        <div className="panel table-wrap">
          <h2>By index</h2>
          <table>
            <thead>
              <tr>
                <th>Index</th>
                <th className="num">Read units</th>
                <th className="num">Write units</th>
                <th className="num">Requests</th>
              </tr>
            </thead>
            <tbody>
              {[...byIndex.entries()].map(([name, t]) => (
                <tr key={name}>
                  <td>{name}</td>
                  <td className="num">{formatNumber(t.readUnits)}</td>
                  <td className="num">{formatNumber(t.writeUnits)}</td>
                  <td className="num">{formatNumber(t.requests)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
