import { BackupsPanel } from '../../../components/backups-panel.tsx';
import { loadBackups, loadRestoreJobs } from '../../../lib/index-data.ts';
import { attempt } from '../../../lib/outcome.ts';
import { sessionClient } from '../../../lib/session.ts';

export const metadata = { title: 'Backups · Conifer' };

/**
 * Every backup of the project, those of deleted indexes too (a backup outlives its index), and
 * every restore job. Backups are taken from an index's page.
 */
export default async function BackupsPage() {
  const client = await sessionClient();
  const [backups, restoreJobs, me] = await Promise.all([loadBackups(client), loadRestoreJobs(client), attempt(() => client.whoami())]);
  const canWrite = !me.ok || me.data.role !== 'read-only';
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Backups</h1>
          <p className="sub">Backups of this project&apos;s indexes, kept after an index is deleted, and their restores into new indexes.</p>
        </div>
      </div>
      <BackupsPanel backups={backups} restoreJobs={restoreJobs} canWrite={canWrite} />
    </>
  );
}
