import type { BackupDescription, Conifer, ImportDescription, RestoreJobDescription } from '@conifer/sdk';
import { attempt } from './outcome.ts';

/** An index's description and its namespace names (first 100), for the index pages. */
export async function loadIndex(client: Conifer, name: string) {
  const [index, namespaces] = await Promise.all([attempt(() => client.describeIndex(name)), attempt(() => client.index(name).listNamespaces({ limit: 100 }))]);
  return { index, namespaces };
}

/** Pages of imports the index page reads at most (100 each). */
const IMPORT_PAGES = 10;

/**
 * The index's bulk imports, newest first. The server lists them oldest first, so an index with more
 * than 1,000 imports shows its first 1,000 only.
 */
export async function loadImports(client: Conifer, name: string) {
  return attempt(async () => {
    const index = client.index(name);
    const all: ImportDescription[] = [];
    let token: string | undefined;
    for (let page = 0; page < IMPORT_PAGES; page++) {
      const { data, pagination } = await index.listImports({ limit: 100, ...(token ? { paginationToken: token } : {}) });
      all.push(...data);
      token = pagination?.next;
      if (!token) break;
    }
    return all.reverse();
  });
}

/** Pages of backups and of restore jobs the pages read at most (100 each). */
const BACKUP_PAGES = 10;

/** Every page of a listing the server answers oldest first, newest first (the first 1,000 at most). */
async function allPages<T>(list: (token: string | undefined) => Promise<{ data: T[]; pagination?: { next: string } | undefined }>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  for (let page = 0; page < BACKUP_PAGES; page++) {
    const { data, pagination } = await list(token);
    all.push(...data);
    token = pagination?.next;
    if (!token) break;
  }
  return all.reverse();
}

/** The project's backups (of one live index with `index`), newest first. */
export async function loadBackups(client: Conifer, index?: string) {
  return attempt(() =>
    allPages<BackupDescription>((token) => client.listBackups({ limit: 100, ...(index ? { index } : {}), ...(token ? { paginationToken: token } : {}) })),
  );
}

/** The project's restore jobs, newest first. */
export async function loadRestoreJobs(client: Conifer) {
  return attempt(() => allPages<RestoreJobDescription>((token) => client.listRestoreJobs({ limit: 100, ...(token ? { paginationToken: token } : {}) })));
}

/** `?ns=` of a page; absent means the default namespace (""). */
export function namespaceParam(value: string | string[] | undefined): string {
  return typeof value === 'string' ? value : '';
}
