import { InvalidArgumentError } from '@conifer/core';

/*
 * The page tokens of list, fetch by metadata and list namespaces. The engine pages by key (it
 * takes the last id of a page and returns the next one); the wire carries that key as an opaque
 * token, base64url JSON `{"after": key}`. Clients hold tokens between calls, so the format stays.
 */

/** The token of the page after the one that ended at `after` (a record id or a namespace name). */
export function encodePageToken(after: string): string {
  return Buffer.from(JSON.stringify({ after })).toString('base64url');
}

/** The key a token starts after; `issuedBy` names the call in the error ("list", "list namespaces"). */
export function decodePageToken(token: string, issuedBy: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // not JSON: the same answer as a token of the wrong shape
  }
  throw InvalidArgumentError.at(['paginationToken'], `not a token returned by ${issuedBy}`);
}

/** The key to start after, when the request carries a token. */
export function afterOf(token: string | undefined, issuedBy: string): string | undefined {
  return token === undefined ? undefined : decodePageToken(token, issuedBy);
}

/** The `pagination` of a response: the next page's token, absent on the last page. */
export function paginationOf(next: string | undefined): { pagination?: { next: string } } {
  return next === undefined ? {} : { pagination: { next: encodePageToken(next) } };
}
