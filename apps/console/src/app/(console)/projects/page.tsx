import { Empty, ErrorBox } from '../../../components/ui.tsx';
import { attempt } from '../../../lib/outcome.ts';
import { sessionClient } from '../../../lib/session.ts';

export const metadata = { title: 'Projects · Conifer' };

/**
 * Projects this key can see: every project for an admin key of the operator project (the one the
 * server bootstrapped), otherwise the key's own project. Each project's indexes and keys are
 * reached by signing in with one of its keys.
 */
export default async function ProjectsPage() {
  const client = await sessionClient();
  const [list, whoami] = await Promise.all([attempt(() => client.listProjects()), attempt(() => client.whoami())]);
  const current = whoami.ok ? whoami.data.project.id : undefined;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Projects</h1>
          <p className="sub">Every API key belongs to one project; a key never reaches another project&apos;s indexes.</p>
        </div>
      </div>
      <div className="panel table-wrap">
        {!list.ok ? (
          <ErrorBox error={list.error} kind={list.kind} />
        ) : list.data.projects.length === 0 ? (
          <Empty title="No projects" />
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Id</th>
                <th>Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.projects.map((p) => (
                <tr key={p.id}>
                  <td>{p.name}</td>
                  <td className="mono">{p.id}</td>
                  <td>{p.createdAt.slice(0, 16).replace('T', ' ')}</td>
                  <td>{p.id === current ? <span className="badge green">signed in</span> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
