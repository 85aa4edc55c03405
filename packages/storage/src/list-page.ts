import type { ListPage, ObjectMeta } from './object-store.ts';

/**
 * One page of `list` from the pages a cloud's listing call returns, checked on this side.
 *
 * Why: `startAfter` travels to the service as an optional filter (S3 `StartAfter`, GCS
 * `startOffset`, Azure `startFrom`), and a service that ignores it — older Blob service versions and
 * Azurite before 3.37 do — answers from the start of the prefix. A store that passed that on would
 * hand the log's catch-up objects it has already applied. So every key is checked here: it must
 * start with `prefix`, sort strictly after `startAfter` and after the key before it (the services
 * list in ascending byte order; a repeat or a step back is dropped, never returned twice).
 *
 * `serverPages` yields the service's pages with full object names (the store's own prefix
 * included), which are checked against the full prefix and made relative here. It is read lazily
 * and abandoned (its `return` is called) once the page is full and one more key was seen, which is
 * how `nextStartAfter` is known to be needed.
 */
export async function collectListPage(
  serverPages: AsyncIterable<readonly ObjectMeta[]>,
  query: { storePrefix: string; prefix: string; startAfter: string | undefined; limit: number },
): Promise<ListPage> {
  const { storePrefix, limit } = query;
  const fullPrefix = storePrefix + query.prefix;
  const objects: ObjectMeta[] = [];
  // Keys are ASCII, so comparing strings is comparing bytes.
  let last = query.startAfter === undefined ? undefined : storePrefix + query.startAfter;
  for await (const page of serverPages) {
    for (const meta of page) {
      if (!meta.key.startsWith(fullPrefix) || (last !== undefined && meta.key <= last)) continue;
      if (objects.length === limit) return { objects, nextStartAfter: objects.at(-1)!.key };
      objects.push({ ...meta, key: meta.key.slice(storePrefix.length) });
      last = meta.key;
    }
  }
  return { objects };
}

/**
 * How many keys to ask the service for: one more than the page, to learn whether anything follows
 * it, within the service's own maximum.
 */
export function serverPageSize(limit: number, serviceMax: number): number {
  return Math.min(limit + 1, serviceMax);
}
