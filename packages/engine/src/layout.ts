import { createHash } from 'node:crypto';
import type { RandomSource } from '@conifer/core';

/**
 * Where a namespace lives in the object store (DESIGN.md "Storage layout"):
 *
 *   <index-id>/<ns>/log/<first lsn, 20 digits>
 *   <index-id>/<ns>/slabs/<id>.slab
 *   <index-id>/<ns>/manifest/<version, 20 digits>
 *   <index-id>/_namespaces/<ns>          registry marker: {"state", "name"}
 *   _backups/<index-id>/<ns>/<backup-id>  backup pin: the manifest a backup holds (backup-pins.ts)
 *
 * Namespace names are user strings (up to 512 ASCII characters), so <ns> is an encoding:
 * "ns_" followed by the name with every byte outside [a-z0-9._-] written as %xx (lowercase hex).
 * It is reversible, never empty ("" → "ns_"), never "." or "..", cannot collide with
 * "_namespaces", and uses no upper case, so two names never share a key on a case-insensitive
 * disk. Names whose encoding would exceed MAX_SEGMENT bytes (file systems cap a path segment at
 * 255) are stored as "nh_" + sha256(name); their real name is kept in the registry marker.
 */
const MAX_SEGMENT = 200;

export function encodeNamespace(name: string): string {
  let out = 'ns_';
  for (const byte of new TextEncoder().encode(name)) {
    const ch = String.fromCharCode(byte);
    out += /[a-z0-9._-]/.test(ch) ? ch : '%' + byte.toString(16).padStart(2, '0');
  }
  if (out.length <= MAX_SEGMENT) return out;
  return 'nh_' + createHash('sha256').update(name).digest('hex');
}

/** The name behind an encoded namespace, or undefined for a hashed one (read its marker). */
export function decodeNamespace(encoded: string): string | undefined {
  if (encoded.startsWith('nh_')) return undefined;
  if (!encoded.startsWith('ns_')) throw new Error(`not an encoded namespace: ${encoded}`);
  return decodeURIComponent(encoded.slice(3));
}

export function indexPrefix(indexId: string): string {
  return `${indexId}/`;
}
export function namespacePrefix(indexId: string, namespace: string): string {
  return `${indexId}/${encodeNamespace(namespace)}/`;
}
export function registryPrefix(indexId: string): string {
  return `${indexId}/_namespaces/`;
}
export function registryKey(indexId: string, namespace: string): string {
  return registryPrefix(indexId) + encodeNamespace(namespace);
}
/** Every backup pin of the namespaces of an index (kept apart from `<index-id>/`, which index deletion removes). */
export function backupPinsPrefix(indexId: string): string {
  return `_backups/${indexId}/`;
}
export function namespacePinsPrefix(indexId: string, namespace: string): string {
  return `${backupPinsPrefix(indexId)}${encodeNamespace(namespace)}/`;
}
export function backupPinKey(indexId: string, namespace: string, backupId: string): string {
  return namespacePinsPrefix(indexId, namespace) + backupId;
}
export function slabKey(nsPrefix: string, slabId: string): string {
  return `${nsPrefix}slabs/${slabId}.slab`;
}

/** Slab ids start with their creation time so GC can tell an in-flight slab from an orphan. */
export function newSlabId(now: number, random: RandomSource): string {
  const suffix = Math.floor(random() * 36 ** 8)
    .toString(36)
    .padStart(8, '0');
  return `${now.toString(36).padStart(9, '0')}-${suffix}`;
}
export function slabIdTime(slabId: string): number {
  return parseInt(slabId.slice(0, 9), 36);
}

/** How messages name a namespace: the default one by its API alias. */
export function displayName(namespace: string): string {
  return namespace === '' ? '__default__' : namespace;
}
