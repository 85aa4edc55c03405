import { Empty, ErrorBox } from '../../../components/ui.tsx';
import { formatDuration } from '../../../lib/format.ts';
import { attempt } from '../../../lib/outcome.ts';
import { sessionClient } from '../../../lib/session.ts';

export const metadata = { title: 'Cluster · Conifer' };

/**
 * The server processes in the cluster's membership (operator admin keys only): roles, URL, state
 * and how long since each one's last heartbeat, by the database's clock. A node silent for longer
 * than the lease is shown as not live: it crashed or lost the database.
 */
export default async function ClusterPage() {
  const client = await sessionClient();
  const cluster = await attempt(() => client.clusterNodes());
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
        {!cluster.ok ? (
          <ErrorBox error={cluster.error} kind={cluster.kind} />
        ) : cluster.data.nodes.length === 0 ? (
          <Empty title="No nodes" />
        ) : (
          <table>
            <thead>
              <tr>
                <th>Node</th>
                <th>Roles</th>
                <th>URL</th>
                <th>State</th>
                <th>Last heartbeat</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {cluster.data.nodes.map((n) => (
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
                  <td>{n.startedAt.slice(0, 19).replace('T', ' ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
