import type { Conifer } from '@conifer/sdk';
import { attempt } from './outcome.ts';

/** An index's description and its namespace names (first 100), for the index pages. */
export async function loadIndex(client: Conifer, name: string) {
  const [index, namespaces] = await Promise.all([attempt(() => client.describeIndex(name)), attempt(() => client.index(name).listNamespaces({ limit: 100 }))]);
  return { index, namespaces };
}

/** `?ns=` of a page; absent means the default namespace (""). */
export function namespaceParam(value: string | string[] | undefined): string {
  return typeof value === 'string' ? value : '';
}
