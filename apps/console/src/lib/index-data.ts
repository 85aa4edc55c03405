import type { Conifer, ImportDescription } from '@conifer/sdk';
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

/** `?ns=` of a page; absent means the default namespace (""). */
export function namespaceParam(value: string | string[] | undefined): string {
  return typeof value === 'string' ? value : '';
}
