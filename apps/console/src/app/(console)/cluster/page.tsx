import Link from 'next/link';
import type { ClusterJob, ClusterNamespaces, ClusterView } from '@conifer/sdk';
import { Empty, ErrorBox } from '../../../components/ui.tsx';
import { formatLag, isSingleProcess, JOB_STATES, jobStateBadge, jobStateParam, orDash, type JobState } from '../../../lib/cluster.ts';
import { formatBytes, formatDuration, formatNumber, namespaceLabel } from '../../../lib/format.ts';
import { attempt } from '../../../lib/outcome.ts';
import { sessionClient } from '../../../lib/session.ts';

export const metadata = { title: 'Cluster · Conifer' };

/** Jobs the page lists. */
const JOB_LIMIT = 50;

/**
 * The cluster as operators see it (operator admin keys only): the server processes in the
 * membership (roles, URL, state, time since the last heartbeat by the database's clock; a node
 * silent for longer than the lease is not live), the index-build jobs writers queued for indexers
 * (`?state=` filters them), and, for one index of the project (`?index=`), which writer owns each
 * namespace and which query node serves its reads, with how far that replica trails.
 */
export default async function ClusterPage({ searchParams }: { searchParams: Promise<{ state?: string | string[]; index?: string | string[] }> }) {
  const params = await searchParams;
  const state = jobStateParam(params.state);
  const client = await sessionClient();
  const [cluster, jobs, indexes] = await Promise.all([
    attempt(() => client.clusterNodes()),
    attempt(() => client.clusterJobs({ limit: JOB_LIMIT, ...(state ? { state: [state] } : {}) })),
    attempt(() => client.listIndexes()),
  ]);
  const indexNames = indexes.ok ? indexes.data.indexes.map((i) => i.name).sort() : [];
  // The first index by name until one is picked.
  const index = typeof params.index === 'string' && params.index !== '' ? params.index : indexNames[0];
  const ownership = index === undefined ? undefined : await attempt(() => client.clusterNamespaces({ index }));
  const singleProcess = ownership?.ok ? ownership.data.singleProcess : cluster.ok && isSingleProcess(cluster.data.nodes);
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Cluster</h1>
          <p className="sub">
            Every server process joins on start and leaves on a clean stop; a node is live while its heartbeat is younger than the lease
            {cluster.ok ? ` (${formatDuration(cluster.data.leaseMs)})` : ''}.
          </p>
        </div>
      </div>
      <div className="panel table-wrap">
        <h2>Nodes</h2>
        {!cluster.ok ? <ErrorBox error={cluster.error} kind={cluster.kind} /> : <NodesTable nodes={cluster.data.nodes} />}
      </div>

      <div className="panel table-wrap" data-testid="jobs">
        <h2>Index-build jobs</h2>
        <form className="row" method="get">
          <label>
            State
            <select name="state" defaultValue={state ?? ''}>
              <option value="">every state</option>
              {JOB_STATES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          {index !== undefined ? <input type="hidden" name="index" value={index} /> : null}
          <button type="submit" className="secondary">
            Filter
          </button>
        </form>
        {!jobs.ok ? (
          <ErrorBox error={jobs.error} kind={jobs.kind} />
        ) : jobs.data.jobs.length === 0 ? (
          <Empty title={state ? `No ${state} index-build jobs` : 'No index-build jobs'}>
            {singleProcess
              ? 'One process builds its own compactions and ANN indexes, so nothing is queued here. In a cluster, writers queue them for indexer nodes.'
              : 'Writers queue compactions and ANN-index builds here while an indexer node is live.'}
          </Empty>
        ) : (
          <JobsTable jobs={jobs.data.jobs} state={state} />
        )}
      </div>

      <div className="panel table-wrap" data-testid="ownership">
        <h2>Namespace ownership</h2>
        <form className="row" method="get">
          <label>
            Index
            <select name="index" defaultValue={index ?? ''}>
              {indexNames.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          {state ? <input type="hidden" name="state" value={state} /> : null}
          <button type="submit" className="secondary">
            Show
          </button>
        </form>
        {!indexes.ok ? (
          <ErrorBox error={indexes.error} kind={indexes.kind} />
        ) : ownership === undefined ? (
          <Empty title="No indexes yet">Create an index to see which writer owns each of its namespaces.</Empty>
        ) : !ownership.ok ? (
          <ErrorBox error={ownership.error} kind={ownership.kind} />
        ) : (
          <OwnershipTable view={ownership.data} />
        )}
      </div>
    </>
  );
}

function NodesTable({ nodes }: { nodes: ClusterView['nodes'] }) {
  if (nodes.length === 0) return <Empty title="No nodes" />;
  return (
    <table>
      <thead>
        <tr>
          <th>Node</th>
          <th>Roles</th>
          <th>URL</th>
          <th>State</th>
          <th>Last heartbeat</th>
          <th title="Open namespaces (memtables, slabs, replicas) and the slab cache, against CONIFER_MEMORY_BUDGET">Memory</th>
          <th>Started</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map((n) => (
          <tr key={n.id}>
            <td className="mono">{n.id}</td>
            <td>{n.roles.join(', ')}</td>
            <td className="mono">{n.url}</td>
            <td>
              {!n.live ? (
                <span className="badge red">not live</span>
              ) : n.state === 'draining' ? (
                <span className="badge">draining</span>
              ) : (
                <span className="badge green">active</span>
              )}
            </td>
            <td>{formatDuration(n.sinceHeartbeatMs)} ago</td>
            <td data-testid="node-memory">
              {n.memory ? (
                <>
                  {formatBytes(n.memory.usedBytes)} of {formatBytes(n.memory.budgetBytes)}
                  <div className="hint">
                    {formatNumber(n.memory.openNamespaces)} namespaces open, {formatNumber(n.memory.closedNamespaces)} closed to free memory
                  </div>
                </>
              ) : (
                '—'
              )}
            </td>
            <td>{n.startedAt.slice(0, 19).replace('T', ' ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function JobsTable({ jobs, state }: { jobs: ClusterJob[]; state: JobState | undefined }) {
  return (
    <>
      <table>
        <thead>
          <tr>
            <th>State</th>
            <th>Kind</th>
            <th>Index / namespace</th>
            <th className="num">Inputs</th>
            <th className="num">Attempts</th>
            <th>Claimed by</th>
            <th>Age</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id} data-job-id={j.id}>
              <td>
                <span className={jobStateBadge(j.state)}>{j.state}</span>
                {j.error ? <div className="hint">{j.error}</div> : null}
              </td>
              <td>{j.kind}</td>
              <td>
                <span className="mono">{j.index ?? j.indexId}</span> / <span className="mono">{namespaceLabel(j.namespace)}</span>
                {j.index === null ? <div className="hint">index deleted</div> : null}
              </td>
              <td className="num">{j.inputs.length}</td>
              <td className="num">{j.attempts}</td>
              <td className="mono">
                {j.claimedBy ?? '—'}
                {j.heartbeatAt && j.state === 'running' ? <div className="hint">heartbeat {j.heartbeatAt.slice(11, 19)}</div> : null}
              </td>
              <td>{formatDuration(j.ageMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">
        {jobs.length === JOB_LIMIT ? `The ${JOB_LIMIT} most recently changed${state ? ` ${state}` : ''} jobs.` : 'Most recently changed first.'}
      </p>
    </>
  );
}

function OwnershipTable({ view }: { view: ClusterNamespaces }) {
  const self = view.namespaces.find((n) => n.writer !== null)?.writer;
  return (
    <>
      {view.singleProcess ? (
        <div className="alert ok" data-testid="single-process">
          One process: this node{self ? <span className="mono"> {self.id}</span> : null} owns every namespace and serves its reads; there are no query replicas,
          so nothing lags.
        </div>
      ) : null}
      {view.namespaces.length === 0 ? (
        <Empty title="No namespaces">Namespaces appear with their first write.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Namespace</th>
              <th className="num">Records</th>
              <th>Owner writer</th>
              <th className="num">Epoch</th>
              <th className="num">Written LSN</th>
              <th>Reads served by</th>
              <th className="num">Applied LSN</th>
              <th>Replica lag</th>
            </tr>
          </thead>
          <tbody>
            {view.namespaces.map((n) => (
              <tr key={n.namespace} data-namespace={namespaceLabel(n.namespace)}>
                <td>
                  <Link className="mono" href={`/indexes/${encodeURIComponent(view.index)}/engine?ns=${encodeURIComponent(n.namespace)}`}>
                    {namespaceLabel(n.namespace)}
                  </Link>
                  {n.error ? (
                    <div>
                      <span className="badge red">not answered</span>
                      <span className="hint">{n.error}</span>
                    </div>
                  ) : null}
                </td>
                <td className="num">{formatNumber(n.recordCount)}</td>
                <td>
                  {n.writer ? (
                    <>
                      <span className="mono">{n.writer.id}</span>
                      {view.singleProcess ? <span className="badge">this node</span> : <div className="hint mono">{n.writer.url}</div>}
                      {n.takenOver === false ? <div className="hint">takes the namespace over at its next write</div> : null}
                    </>
                  ) : (
                    <span className="badge red">no live writer</span>
                  )}
                </td>
                <td className="num">{orDash(n.writerEpoch)}</td>
                <td className="num">{orDash(n.writtenLsn)}</td>
                <td>
                  {n.query ? (
                    <>
                      <span className="mono">{n.query.id}</span>
                      <div className="hint mono">{n.query.url}</div>
                    </>
                  ) : view.singleProcess ? (
                    'this node'
                  ) : (
                    <span className="hint">the owner writer (no query node)</span>
                  )}
                </td>
                <td className="num">{orDash(n.appliedLsn)}</td>
                <td>{n.query || !view.singleProcess ? formatLag(n.lagLsn) : 'no replica'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {view.totalCount > view.namespaces.length ? (
        <p className="hint">
          The first {view.namespaces.length} of {formatNumber(view.totalCount)} namespaces, by name.
        </p>
      ) : null}
    </>
  );
}
