import { PermissionDeniedError } from '@conifer/core';
import type { AuthContext } from '@conifer/control';

/**
 * Who is calling (`{ projectId, keyId, role }`), as the control plane resolves it from an API key.
 * Every service function takes one.
 */
export type { AuthContext, Role } from '@conifer/control';

/** Request headers as Node delivers them (lower-case names). */
export type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The API key a request presents: the `Api-Key` header (Pinecone's) or `Authorization: Bearer <key>`.
 *
 * @example apiKeyFromHeaders({ 'api-key': 'ck_…' }) // 'ck_…'
 */
export function apiKeyFromHeaders(headers: HeaderBag): string | undefined {
  const direct = header(headers, 'api-key')?.trim();
  if (direct) return direct;
  const authorization = header(headers, 'authorization')?.trim();
  const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  return match?.[1];
}

/** Throws `PermissionDeniedError` unless the key may change data or indexes. */
export function assertCanWrite(auth: AuthContext, action: string): void {
  if (auth.role === 'read-only') {
    throw new PermissionDeniedError(`This API key is read-only; ${action} needs a read-write or admin key.`);
  }
}

/** Throws `PermissionDeniedError` unless the key is an admin key of its project. */
export function assertAdmin(auth: AuthContext, action: string): void {
  if (auth.role !== 'admin') {
    throw new PermissionDeniedError(`${action} needs an admin key; this key is ${auth.role}.`);
  }
}
